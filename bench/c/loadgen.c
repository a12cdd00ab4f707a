/*
 * bench/c/loadgen.c — the bench's own HTTP load generator (used when wrk is absent, and always for
 * the echo, idle and fixed-rate workloads). One thread, epoll, N connections.
 *
 * usage: loadgen --port P [--host 127.0.0.1] [--mode keepalive|close|pipeline|echo|idle|rate]
 *                [--connections N] [--duration SECONDS] [--depth D] [--body-size BYTES]
 *                [--rate REQ_PER_S] [--requests N]
 *
 * Modes: keepalive (one request in flight per connection), close (Connection: close, reconnect
 * after each response), pipeline (D requests written at once per connection), echo (POST of
 * body-size bytes, reads the echoed body), idle (connects N, makes one request on each, prints
 * "HELD" and holds them until stdin closes or the duration ends), rate (a fixed offered rate across
 * the connections; latency measured from each request's scheduled time, so a stall is not hidden).
 *
 * Every response is compared byte for byte with the one every bench server must send (the
 * constants of bench/servers/http.ts, generated into http_response.h; an echo's body with the body
 * sent): a response that differs, or bytes where none are due, count as `wrong` and as an error,
 * and the connection is replaced.
 *
 * Prints one JSON object on stdout: requests, errors (transport errors and wrong responses), wrong,
 * seconds, rps, and latency percentiles in microseconds. Every run is bounded by --duration (idle:
 * the hold time).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_response.h" /* RESPONSE, RESPONSE_CLOSE, ECHO_HEAD */

enum mode { M_KEEPALIVE, M_CLOSE, M_PIPELINE, M_ECHO, M_IDLE, M_RATE };
enum state { S_CONNECTING, S_SENDING, S_READING, S_WAIT_EOF, S_IDLE };

struct conn {
  int fd;
  enum state st;
  const char *out; /* the request bytes being sent */
  size_t outlen, outoff;
  size_t body_sent;   /* echo: body bytes sent so far */
  size_t roff;        /* bytes of the current response received and checked so far */
  int expect;         /* responses still expected for what was sent */
  double sent_at[64]; /* scheduled/actual send time of each outstanding request (FIFO) */
  int sent_head, sent_count;
};

static struct {
  enum mode mode;
  const char *host;
  int port;
  int connections;
  double duration;
  int depth;
  size_t body_size;
  double rate;
  long long max_requests;
} opt = {M_KEEPALIVE, "127.0.0.1", 0, 32, 2.0, 16, 1 << 20, 5000, 0};

static int ep;
static struct sockaddr_in addr;
static char req_get[256], req_close[256], req_post[256];
static size_t req_get_len, req_close_len, req_post_len;
static char *pipeline_buf;
static size_t pipeline_len;
static char *body_buf;
/* The response every request must get: `expected` (the whole response, or an echo's head) then,
 * in echo mode, the body sent. */
static char echo_head[256];
static const char *expected;
static size_t expected_len, response_len;
static long long requests, errors, wrong, connects;
static double *lat;
static size_t lat_len, lat_cap;
/* rate mode: requests scheduled so far, and a queue of due-but-unsent scheduled times */
static long long scheduled;
static double rate_start;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void record_latency(double us) {
  if (lat_len == lat_cap) {
    if (lat_cap >= (size_t)20000000) return; /* bounded memory: keep the first 20M samples */
    lat_cap = lat_cap ? lat_cap * 2 : 65536;
    double *p = realloc(lat, lat_cap * sizeof *p);
    if (!p) die("realloc");
    lat = p;
  }
  lat[lat_len++] = us;
}

static void set_events(struct conn *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
}

static void conn_open(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  c->st = S_CONNECTING;
  c->roff = 0;
  c->expect = 0;
  c->sent_head = c->sent_count = 0;
  connects++;
  int r = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
  if (r < 0 && errno != EINPROGRESS) die("connect");
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl ADD");
}

static void conn_close(struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

static void push_sent(struct conn *c, double t) {
  if (c->sent_count < 64) c->sent_at[(c->sent_head + c->sent_count++) % 64] = t;
}

/* Starts the next request on an open, quiet connection (rate mode: only when one is due). */
static void start_request(struct conn *c, double t) {
  c->outoff = 0;
  c->body_sent = 0;
  switch (opt.mode) {
    case M_CLOSE: c->out = req_close, c->outlen = req_close_len, c->expect = 1; break;
    case M_PIPELINE: c->out = pipeline_buf, c->outlen = pipeline_len, c->expect = opt.depth; break;
    case M_ECHO: c->out = req_post, c->outlen = req_post_len, c->expect = 1; break;
    default: c->out = req_get, c->outlen = req_get_len, c->expect = 1;
  }
  for (int i = 0; i < c->expect; i++) push_sent(c, t);
  c->st = S_SENDING;
}

/* Writes as much of the request (and echo body) as the socket takes. */
static int do_send(struct conn *c) {
  while (c->outoff < c->outlen) {
    ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->outoff += (size_t)n;
  }
  if (opt.mode == M_ECHO) {
    while (c->body_sent < opt.body_size) {
      ssize_t n = send(c->fd, body_buf + c->body_sent, opt.body_size - c->body_sent, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN ? 0 : -1;
      c->body_sent += (size_t)n;
    }
  }
  return 1;
}

/* Checks response bytes against the expected ones; returns the number of responses completed, or
 * -1 at the first byte that differs. */
static int parse(struct conn *c, const char *p, size_t n) {
  int done = 0;
  while (n > 0) {
    const char *want;
    size_t left;
    if (c->roff < expected_len) {
      want = expected + c->roff;
      left = expected_len - c->roff;
    } else { /* an echo's body: the bytes sent */
      want = body_buf + (c->roff - expected_len);
      left = response_len - c->roff;
    }
    size_t k = n < left ? n : left;
    if (memcmp(p, want, k) != 0) return -1;
    c->roff += k, p += k, n -= k;
    if (c->roff == response_len) {
      c->roff = 0;
      done++;
    }
  }
  return done;
}

static void fail(struct conn *c) {
  errors++;
  conn_close(c);
  if (opt.mode != M_IDLE) conn_open(c);
}

/* A response that differs from the expected bytes, or bytes where no response is due. */
static void fail_wrong(struct conn *c) {
  wrong++;
  fail(c);
}

static int rate_due(double t) { return opt.mode == M_RATE && (double)scheduled < (t - rate_start) * opt.rate; }

static void on_event(struct conn *c, uint32_t ev, double t, int measuring) {
  static char rbuf[262144];
  if (c->st == S_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(c);
      return;
    }
    if (opt.mode == M_RATE) {
      c->st = S_IDLE;
      set_events(c, EPOLLIN);
      return;
    }
    start_request(c, t);
  }
  if (c->st == S_SENDING) {
    int r = do_send(c);
    if (r < 0) {
      fail(c);
      return;
    }
    if (r == 0) {
      set_events(c, EPOLLOUT | EPOLLIN);
      return;
    }
    c->st = S_READING;
    set_events(c, EPOLLIN);
    if (!(ev & EPOLLIN)) return;
  }
  if (c->st == S_IDLE || c->st == S_READING || c->st == S_WAIT_EOF) {
    if (c->st == S_READING && (ev & EPOLLOUT) && opt.mode == M_ECHO && c->body_sent < opt.body_size) {
      if (do_send(c) < 0) {
        fail(c);
        return;
      }
    }
    if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    ssize_t n = recv(c->fd, rbuf, sizeof rbuf, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      if (c->st == S_WAIT_EOF) { /* the server closed after its response: reconnect */
        conn_close(c);
        conn_open(c);
        return;
      }
      fail(c);
      return;
    }
    if (c->st != S_READING) { /* bytes where no response is due */
      fail_wrong(c);
      return;
    }
    int done = parse(c, rbuf, (size_t)n);
    /* wrong bytes, more responses than requests, or the start of one more */
    if (done < 0 || done > c->expect || (done == c->expect && c->roff != 0)) {
      fail_wrong(c);
      return;
    }
    for (int i = 0; i < done; i++) {
      if (c->sent_count > 0) {
        double sent = c->sent_at[c->sent_head];
        c->sent_head = (c->sent_head + 1) % 64;
        c->sent_count--;
        if (measuring) record_latency((t - sent) * 1e6);
      }
      if (measuring) requests++;
    }
    c->expect -= done;
    if (c->expect > 0) return;
    if (opt.max_requests > 0 && requests >= opt.max_requests) return;
    switch (opt.mode) {
      case M_CLOSE: c->st = S_WAIT_EOF; break;
      case M_IDLE: c->st = S_IDLE; break;
      case M_RATE:
        c->st = S_IDLE;
        if (rate_due(t)) {
          double when = rate_start + (double)scheduled++ / opt.rate;
          start_request(c, when);
          on_event(c, EPOLLOUT, t, measuring);
        }
        break;
      default: start_request(c, t); on_event(c, EPOLLOUT, t, measuring);
    }
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --port P [--host H] [--mode keepalive|close|pipeline|echo|idle|rate] "
          "[--connections N] [--duration S] [--depth D] [--body-size B] [--rate R] [--requests N]\n");
  exit(2);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (lat_len == 0) return 0;
  size_t i = (size_t)(p / 100.0 * (double)(lat_len - 1) + 0.5);
  return lat[i];
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (!strcmp(a, "--port"))
      opt.port = atoi(v);
    else if (!strcmp(a, "--host"))
      opt.host = v;
    else if (!strcmp(a, "--connections"))
      opt.connections = atoi(v);
    else if (!strcmp(a, "--duration"))
      opt.duration = atof(v);
    else if (!strcmp(a, "--depth"))
      opt.depth = atoi(v);
    else if (!strcmp(a, "--body-size"))
      opt.body_size = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--rate"))
      opt.rate = atof(v);
    else if (!strcmp(a, "--requests"))
      opt.max_requests = atoll(v);
    else if (!strcmp(a, "--mode")) {
      if (!strcmp(v, "keepalive"))
        opt.mode = M_KEEPALIVE;
      else if (!strcmp(v, "close"))
        opt.mode = M_CLOSE;
      else if (!strcmp(v, "pipeline"))
        opt.mode = M_PIPELINE;
      else if (!strcmp(v, "echo"))
        opt.mode = M_ECHO;
      else if (!strcmp(v, "idle"))
        opt.mode = M_IDLE;
      else if (!strcmp(v, "rate"))
        opt.mode = M_RATE;
      else
        usage();
    } else
      usage();
    i++;
  }
  if (opt.port <= 0 || opt.connections <= 0 || opt.duration <= 0 || opt.depth < 1 || opt.depth > 64 || opt.rate <= 0)
    usage();
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)opt.port);
  if (inet_pton(AF_INET, opt.host, &addr.sin_addr) != 1) usage();
  req_get_len = (size_t)snprintf(req_get, sizeof req_get, "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n", opt.host, opt.port);
  req_close_len = (size_t)snprintf(req_close, sizeof req_close,
                                   "GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", opt.host, opt.port);
  req_post_len = (size_t)snprintf(req_post, sizeof req_post,
                                  "POST /echo HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/octet-stream\r\n"
                                  "Content-Length: %zu\r\n\r\n",
                                  opt.host, opt.port, opt.body_size);
  if (opt.mode == M_ECHO) {
    expected_len = (size_t)snprintf(echo_head, sizeof echo_head, "%s%zu\r\n\r\n", ECHO_HEAD, opt.body_size);
    expected = echo_head;
    response_len = expected_len + opt.body_size;
  } else {
    expected = opt.mode == M_CLOSE ? RESPONSE_CLOSE : RESPONSE;
    expected_len = response_len = strlen(expected);
  }
  pipeline_len = req_get_len * (size_t)opt.depth;
  pipeline_buf = malloc(pipeline_len);
  if (!pipeline_buf) die("malloc");
  for (int i = 0; i < opt.depth; i++) memcpy(pipeline_buf + (size_t)i * req_get_len, req_get, req_get_len);
  if (opt.mode == M_ECHO) {
    body_buf = malloc(opt.body_size ? opt.body_size : 1);
    if (!body_buf) die("malloc");
    for (size_t i = 0; i < opt.body_size; i++) body_buf[i] = (char)('a' + i % 26);
  }

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct conn *conns = calloc((size_t)opt.connections, sizeof *conns);
  if (!conns) die("calloc");
  struct epoll_event events[512];
  double start = now();
  double deadline = start + opt.duration;

  if (opt.mode == M_IDLE) {
    /* connect in waves of 256 so the listen backlog never overflows; each makes one request */
    int opened = 0, held = 0;
    double connect_deadline = start + opt.duration;
    while (held < opt.connections && now() < connect_deadline) {
      while (opened < opt.connections && opened - held < 256) conn_open(&conns[opened++]);
      int n = epoll_wait(ep, events, 512, 100);
      for (int i = 0; i < n; i++) {
        struct conn *c = events[i].data.ptr;
        int was_reading = c->st != S_IDLE;
        on_event(c, events[i].events, now(), 1);
        if (c->fd < 0) { /* failed: retry this one */
          conn_open(c);
          continue;
        }
        if (was_reading && c->st == S_IDLE) held++;
      }
    }
    printf("HELD %d\n", held);
    fflush(stdout);
    /* hold until stdin closes or the duration (again) passes */
    struct epoll_event sev = {.events = EPOLLIN, .data.ptr = NULL};
    int watch_stdin = epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) == 0;
    double hold_deadline = now() + opt.duration;
    while (now() < hold_deadline) {
      int n = epoll_wait(ep, events, 512, 100);
      int quit = 0;
      for (int i = 0; i < n; i++) {
        if (events[i].data.ptr == NULL) {
          char b[64];
          if (read(0, b, sizeof b) <= 0) quit = 1;
        } else {
          struct conn *c = events[i].data.ptr;
          char b[4096];
          ssize_t r = recv(c->fd, b, sizeof b, 0);
          if (r > 0) wrong++; /* bytes where no response is due */
          if (r >= 0 || errno != EAGAIN) {
            errors++;
            conn_close(c);
            c->st = S_CONNECTING; /* dropped by the server */
          }
        }
      }
      if (quit || !watch_stdin) {
        if (!watch_stdin) usleep(100000);
        if (quit) break;
      }
    }
    for (int i = 0; i < opened; i++)
      if (conns[i].fd >= 0) close(conns[i].fd);
    printf("{\"mode\":\"idle\",\"held\":%d,\"errors\":%lld,\"wrong\":%lld}\n", held, errors, wrong);
    return 0;
  }

  rate_start = start;
  for (int i = 0; i < opt.connections; i++) conn_open(&conns[i]);
  for (;;) {
    double t = now();
    if (t >= deadline) break;
    if (opt.max_requests > 0 && requests >= opt.max_requests) break;
    int timeout_ms = (int)((deadline - t) * 1000) + 1;
    if (opt.mode == M_RATE) {
      /* hand due requests to quiet connections; if none is free they wait (and their latency grows) */
      for (int i = 0; i < opt.connections && rate_due(t); i++) {
        struct conn *c = &conns[i];
        if (c->fd >= 0 && c->st == S_IDLE) {
          double when = rate_start + (double)scheduled++ / opt.rate;
          start_request(c, when);
          on_event(c, EPOLLOUT, t, 1);
        }
      }
      double next = rate_start + (double)scheduled / opt.rate;
      int ms = (int)((next - t) * 1000);
      timeout_ms = ms < 0 ? 0 : ms < timeout_ms ? ms : timeout_ms;
    }
    int n = epoll_wait(ep, events, 512, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    t = now();
    for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events, t, 1);
  }
  double elapsed = now() - start;
  for (int i = 0; i < opt.connections; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  qsort(lat, lat_len, sizeof *lat, cmp_double);
  const char *names[] = {"keepalive", "close", "pipeline", "echo", "idle", "rate"};
  printf(
      "{\"mode\":\"%s\",\"requests\":%lld,\"errors\":%lld,\"wrong\":%lld,\"connects\":%lld,\"seconds\":%.6f,"
      "\"rps\":%.1f,\"offered\":%.1f,"
      "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}}\n",
      names[opt.mode], requests, errors, wrong, connects, elapsed, (double)requests / elapsed,
      opt.mode == M_RATE ? opt.rate : 0.0, pct(50), pct(90), pct(99), pct(99.9), lat_len ? lat[lat_len - 1] : 0.0);
  return 0;
}
