/*
 * bench/c/http_framing.h — the bench responder's request framing, shared by the C servers
 * (epoll_server.c, uring_server.c) so both answer every byte stream alike. Same rules as
 * bench/servers/http.ts: a request ends at "\r\n\r\n"; a request starting with 'P' carries a body
 * of Content-Length bytes that is echoed back; "Connection: close" in the header closes the
 * connection after the response. The response bytes come from http_response.h (generated).
 *
 * The caller owns the output buffer responses are appended to and decides when to send it; the
 * framing keeps only the unconsumed tail of the input.
 */
#ifndef BENCH_HTTP_FRAMING_H
#define BENCH_HTTP_FRAMING_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_response.h" /* RESPONSE, RESPONSE_CLOSE, ECHO_HEAD, CLOSE_FIELD */

/** A growable byte buffer (responses are appended to one). */
struct outbuf {
  char *buf;
  size_t len, cap;
};

/** One connection's framing state. */
struct framing {
  char *in; /* unconsumed input */
  size_t inlen, incap;
  size_t body_left; /* echo bytes still to come for the current request */
  int close_after;  /* a Connection: close request was answered: read no further */
  int close_at_body_end;
};

static inline void framing_die(const char *what) {
  perror(what);
  exit(1);
}

static inline void out_append(struct outbuf *o, const char *p, size_t n) {
  if (o->len + n > o->cap) {
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + n) cap *= 2;
    char *q = realloc(o->buf, cap);
    if (!q) framing_die("realloc");
    o->buf = q;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, p, n);
  o->len += n;
}

/* Consumes complete requests from buf[0, len), appending responses to o; stops after a
 * Connection: close. Returns the number of bytes consumed. */
static inline size_t framing_process(struct framing *f, struct outbuf *o, const char *buf, size_t len) {
  size_t pos = 0;
  while (pos < len && !f->close_after) {
    if (f->body_left > 0) {
      size_t n = len - pos;
      if (n > f->body_left) n = f->body_left;
      out_append(o, buf + pos, n);
      pos += n;
      f->body_left -= n;
      if (f->body_left == 0 && f->close_at_body_end) f->close_after = 1;
      continue;
    }
    const char *start = buf + pos;
    const char *end = memmem(start, len - pos, "\r\n\r\n", 4);
    if (!end) break;
    size_t hlen = (size_t)(end - start) + 4;
    int close_req = memmem(start, hlen, "\r\nConnection: close", 19) != NULL;
    if (start[0] == 'P') {
      const char *cl = memmem(start, hlen, "\r\nContent-Length:", 17);
      size_t blen = cl ? strtoul(cl + 17, NULL, 10) : 0;
      char head[sizeof ECHO_HEAD + sizeof CLOSE_FIELD + 32];
      int h = snprintf(head, sizeof head, "%s%zu\r\n%s\r\n", ECHO_HEAD, blen, close_req ? CLOSE_FIELD : "");
      out_append(o, head, (size_t)h);
      f->body_left = blen;
      f->close_at_body_end = close_req;
    } else if (close_req) {
      out_append(o, RESPONSE_CLOSE, sizeof RESPONSE_CLOSE - 1);
    } else {
      out_append(o, RESPONSE, sizeof RESPONSE - 1);
    }
    if (close_req && f->body_left == 0) f->close_after = 1;
    pos += hlen;
  }
  return pos;
}

/* Keeps the unconsumed tail of buf (which may be f->in itself) as the pending input. */
static inline void framing_stash(struct framing *f, const char *buf, size_t len, size_t used) {
  size_t rest = len - used;
  if (rest > 0 && buf != f->in && f->incap < rest) {
    char *q = realloc(f->in, rest);
    if (!q) framing_die("realloc");
    f->in = q;
    f->incap = rest;
  }
  if (rest > 0) memmove(f->in, buf + used, rest);
  f->inlen = rest;
}

/* Appends input to the pending input without handling it (the caller holds back). */
static inline void framing_hold(struct framing *f, const char *buf, size_t len) {
  if (f->incap < f->inlen + len) {
    char *q = realloc(f->in, f->inlen + len);
    if (!q) framing_die("realloc");
    f->in = q;
    f->incap = f->inlen + len;
  }
  memcpy(f->in + f->inlen, buf, len);
  f->inlen += len;
}

/* Handles the pending input. */
static inline void framing_pending(struct framing *f, struct outbuf *o) {
  if (f->inlen == 0) return;
  size_t used = framing_process(f, o, f->in, f->inlen);
  framing_stash(f, f->in, f->inlen, used);
}

/* Handles newly received bytes after any pending input; buf is not kept. */
static inline void framing_feed(struct framing *f, struct outbuf *o, const char *buf, size_t len) {
  if (f->inlen == 0) {
    size_t used = framing_process(f, o, buf, len);
    framing_stash(f, buf, len, used);
  } else {
    framing_hold(f, buf, len);
    framing_pending(f, o);
  }
}

static inline void framing_free(struct framing *f) {
  free(f->in);
  f->in = NULL;
  f->inlen = f->incap = 0;
}

#endif
