/*
 * bench/c/epoll_server.c — the machine's reference limit: the bench's tiny HTTP responder written
 * directly on epoll in C. Same framing and the same response bytes as every other bench server
 * (bench/servers/http.ts; the bytes are its constants, generated into http_response.h; the
 * framing is http_framing.h, shared with uring_server.c): a request ends at "\r\n\r\n"; a request
 * starting with 'P' carries a body of Content-Length bytes that is echoed back; "Connection: close"
 * in the header closes the connection after the response. One recv per readiness event
 * (level-triggered), like the seed.
 *
 * usage: epoll_server [port]   (or PORT in the environment; 0 picks a free port)
 * Prints "READY <port>" on stdout when listening. Exits on SIGTERM (default action).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_framing.h" /* the framing and response bytes shared with uring_server.c */

#define READ_CHUNK 65536

struct conn {
  int fd;
  struct framing f;
  char *out;
  size_t outlen, outoff;
  int want_write;
};

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* Responses are assembled in one shared buffer and sent at once; only what the kernel does not take
 * is copied into the connection (so an idle connection holds no output buffer). A connection with
 * output pending is not read from, so it never appends while it has a backlog. */
static struct outbuf scratch;

static void conn_free(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  framing_free(&c->f);
  free(c->out);
  free(c);
}

/* Sets the interest to EPOLLOUT while output waits, EPOLLIN otherwise. */
static int want(int ep, struct conn *c, int pending) {
  if (pending == c->want_write) return 0;
  struct epoll_event ev = {.events = pending ? EPOLLOUT : EPOLLIN, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) return -1;
  c->want_write = pending;
  return 0;
}

/* Sends the responses just assembled; keeps the rest. Returns -1 when the connection is finished. */
static int flush_new(int ep, struct conn *c) {
  size_t off = 0;
  while (off < scratch.len) {
    ssize_t n = send(c->fd, scratch.buf + off, scratch.len - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      scratch.len = 0;
      return -1;
    }
    off += (size_t)n;
  }
  size_t rest = scratch.len - off;
  if (rest > 0) {
    c->out = malloc(rest);
    if (!c->out) die("malloc");
    memcpy(c->out, scratch.buf + off, rest);
    c->outlen = rest;
    c->outoff = 0;
  }
  scratch.len = 0;
  if (rest == 0 && c->f.close_after) return -1;
  return want(ep, c, rest > 0);
}

/* Sends the connection's backlog on EPOLLOUT. Returns -1 when the connection is finished. */
static int flush(int ep, struct conn *c) {
  while (c->outoff < c->outlen) {
    ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    c->outoff += (size_t)n;
  }
  int pending = c->outoff < c->outlen;
  if (!pending) {
    free(c->out);
    c->out = NULL;
    c->outlen = c->outoff = 0;
    if (c->f.close_after) return -1;
  }
  return want(ep, c, pending);
}

int main(int argc, char **argv) {
  const char *port_s = argc > 1 ? argv[1] : getenv("PORT");
  int port = port_s ? atoi(port_s) : 0;
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, SOMAXCONN) < 0) die("listen");
  socklen_t alen = sizeof addr;
  if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) die("getsockname");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");
  printf("READY %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  static char rbuf[READ_CHUNK];
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break; /* EAGAIN, or a transient error: try again on the next event */
          c = calloc(1, sizeof *c);
          if (!c) die("calloc");
          c->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
          }
        }
        continue;
      }
      if (c->want_write) {
        if (flush(ep, c) < 0) {
          conn_free(ep, c);
          continue;
        }
        if (c->want_write) continue;
        /* drained: handle requests already buffered before reading more */
        framing_pending(&c->f, &scratch);
        if (flush_new(ep, c) < 0) conn_free(ep, c);
        continue;
      }
      ssize_t r = recv(c->fd, rbuf, READ_CHUNK, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        conn_free(ep, c);
        continue;
      }
      framing_feed(&c->f, &scratch, rbuf, (size_t)r);
      if (flush_new(ep, c) < 0) conn_free(ep, c);
    }
  }
}
