/*
 * bench/c/uring_server.c — the bench's tiny HTTP responder on io_uring in C: the reference for a
 * completion-based loop beside epoll_server.c. Same framing (http_framing.h) and the same
 * response bytes (http_response.h, generated from bench/servers/http.ts).
 *
 * One ring, one thread. The listener has one multishot accept; each connection one multishot recv
 * (single-shot where the kernel lacks it) into a provided-buffer ring, whose buffers go back to the
 * ring as soon as their bytes are handled. The responses a batch of completions produces are sent
 * with one send per connection, and every request the iteration prepared (sends, re-armed recvs,
 * cancels, closes) is submitted together with the wait in one io_uring_submit_and_wait.
 *
 * A connection keeps a count of its operations in flight; its fd is closed (by a close request in
 * the ring) only when that count is zero, so no completion can land in a reused fd. While a send
 * is in flight, new responses queue behind it; above HIGH_WATER bytes of output backlog the
 * connection stops reading (its recv is cancelled, and what was already received is held
 * unprocessed) until the backlog drains, as epoll_server.c stops reading while output is pending.
 *
 * usage: uring_server [port]   (or PORT in the environment; 0 picks a free port; with
 *                              URING_SINGLE_SHOT=1 in the environment, single-shot accept and
 *                              recv, the path taken where the kernel lacks the multishot ones)
 *        uring_server --probe  exits 0 when io_uring and provided-buffer rings work here; else
 *                              prints why and exits 3
 * Prints "READY <port>" on stdout when listening. Exits on SIGTERM (default action).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_framing.h" /* the framing and response bytes shared with epoll_server.c */

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
#define BUF_GROUP 0
#define BUF_COUNT 128 /* a power of two; small requests touch one page of each buffer they cycle through */
#define BUF_SIZE 65536 /* as epoll_server.c reads */
#define HIGH_WATER (256 * 1024)
#define KEEP_CAPACITY 65536 /* an output buffer larger than this is freed once drained */

/* The low bits of a request's user_data say what it is; the rest is the connection. */
enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3, OP_CANCEL = 4, OP_CLOSE = 5 };
#define OP_MASK 7u

struct conn {
  int fd;
  struct framing f;
  struct outbuf sending; /* the bytes of the send in flight: untouched until it completes */
  size_t sendoff;
  struct outbuf queued; /* responses assembled since, sent when the send in flight is done */
  unsigned ops;         /* requests in flight on fd: recv, send, cancel */
  unsigned char recv_armed, send_armed, cancel_sent;
  unsigned char eof;      /* the peer closed: answer what was received, then close */
  unsigned char held;     /* output backlog above HIGH_WATER: input held, recv cancelled */
  unsigned char finished; /* no more sends: close once ops is zero */
  unsigned char dirty;
  struct conn *next_dirty;
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static int bufs_returned; /* buffers added to the ring since the last advance */
static int listen_fd = -1;
static int accept_armed;
static int multishot_accept = 1; /* cleared if the kernel rejects it */
static int multishot_recv = 1;
static struct conn *dirty_head; /* connections whose state changed in this batch of completions */

static void die(const char *what) {
  perror(what);
  exit(1);
}

static uint64_t tag(struct conn *c, unsigned op) { return (uint64_t)(uintptr_t)c | op; }

/* A free submission entry; when the submission queue is full, submits what it holds first. */
static struct io_uring_sqe *sqe_get(void) {
  for (;;) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    if (sqe) return sqe;
    int r = io_uring_submit(&ring);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      errno = -r;
      die("io_uring_submit");
    }
  }
}

static void mark_dirty(struct conn *c) {
  if (c->dirty) return;
  c->dirty = 1;
  c->next_dirty = dirty_head;
  dirty_head = c;
}

static void arm_accept(void) {
  struct io_uring_sqe *sqe = sqe_get();
  if (multishot_accept)
    io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
  else
    io_uring_prep_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, OP_ACCEPT);
  accept_armed = 1;
}

static void arm_recv(struct conn *c) {
  struct io_uring_sqe *sqe = sqe_get();
  if (multishot_recv)
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
  else
    io_uring_prep_recv(sqe, c->fd, NULL, BUF_SIZE, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = BUF_GROUP;
  io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
  c->recv_armed = 1;
  c->ops++;
}

static void arm_send(struct conn *c) {
  struct io_uring_sqe *sqe = sqe_get();
  io_uring_prep_send(sqe, c->fd, c->sending.buf + c->sendoff, c->sending.len - c->sendoff, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
  c->send_armed = 1;
  c->ops++;
}

static void cancel_recv(struct conn *c) {
  if (!c->recv_armed || c->cancel_sent) return;
  struct io_uring_sqe *sqe = sqe_get();
  io_uring_prep_cancel64(sqe, tag(c, OP_RECV), 0);
  io_uring_sqe_set_data64(sqe, tag(c, OP_CANCEL));
  c->cancel_sent = 1;
  c->ops++;
}

/* Closes the fd through the ring and frees the connection: nothing is in flight on it. */
static void conn_close(struct conn *c) {
  struct io_uring_sqe *sqe = sqe_get();
  io_uring_prep_close(sqe, c->fd);
  io_uring_sqe_set_data64(sqe, OP_CLOSE);
  framing_free(&c->f);
  free(c->sending.buf);
  free(c->queued.buf);
  free(c);
}

static void buf_return(unsigned short bid) {
  io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid, io_uring_buf_ring_mask(BUF_COUNT), bufs_returned++);
}

static size_t backlog(const struct conn *c) { return (c->sending.len - c->sendoff) + c->queued.len; }

/* After a batch of completions: decides what the connection submits next. */
static void settle(struct conn *c) {
  c->dirty = 0;
  if (!c->finished) {
    if (c->held && backlog(c) == 0) {
      /* drained: handle the input held meanwhile, then read again */
      c->held = 0;
      framing_pending(&c->f, &c->queued);
    }
    if (!c->send_armed) {
      if (c->sendoff < c->sending.len) {
        arm_send(c); /* the rest of a short send */
      } else if (c->queued.len > 0) {
        struct outbuf t = c->sending;
        c->sending = c->queued;
        c->sendoff = 0;
        c->queued = t;
        c->queued.len = 0;
        arm_send(c);
      } else if (c->f.close_after || (c->eof && !c->held)) {
        c->finished = 1;
      }
    }
    if (!c->held && backlog(c) > HIGH_WATER) c->held = 1;
  }
  if (c->finished || c->eof || c->f.close_after || c->held)
    cancel_recv(c);
  else if (!c->recv_armed)
    arm_recv(c);
  if (c->finished && c->ops == 0) conn_close(c);
}

static void on_recv(struct conn *c, const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) {
    c->recv_armed = 0;
    c->cancel_sent = 0;
    c->ops--;
  }
  int res = cqe->res;
  if (res > 0) {
    if (!(cqe->flags & IORING_CQE_F_BUFFER)) {
      fprintf(stderr, "uring_server: a recv completed without a provided buffer\n");
      exit(1);
    }
    unsigned short bid = (unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
    const char *data = bufs + (size_t)bid * BUF_SIZE;
    if (c->finished || c->eof || c->f.close_after) {
      /* input after the end is dropped, as epoll_server.c drops it */
    } else if (c->held) {
      framing_hold(&c->f, data, (size_t)res);
    } else {
      framing_feed(&c->f, &c->queued, data, (size_t)res);
    }
    buf_return(bid);
  } else if (res == 0) {
    c->eof = 1;
  } else if (res == -ENOBUFS || res == -ECANCELED) {
    /* ENOBUFS: the buffer ring ran dry for a moment (buffers go back at the end of the batch):
     * re-armed by settle. ECANCELED: our cancel. */
  } else if (res == -EINVAL && multishot_recv) {
    multishot_recv = 0; /* a kernel without multishot recv: single-shot from now on */
  } else {
    c->finished = 1; /* ECONNRESET and the like */
  }
  mark_dirty(c);
}

static void on_send(struct conn *c, int res) {
  c->send_armed = 0;
  c->ops--;
  if (res <= 0) {
    c->finished = 1;
  } else {
    c->sendoff += (size_t)res;
    if (c->sendoff == c->sending.len) {
      c->sending.len = c->sendoff = 0;
      if (c->sending.cap > KEEP_CAPACITY) {
        free(c->sending.buf);
        c->sending.buf = NULL;
        c->sending.cap = 0;
      }
    }
  }
  mark_dirty(c);
}

static void on_accept(const struct io_uring_cqe *cqe) {
  if (!(cqe->flags & IORING_CQE_F_MORE)) accept_armed = 0;
  if (cqe->res >= 0) {
    struct conn *c = calloc(1, sizeof *c);
    if (!c) die("calloc");
    c->fd = cqe->res;
    mark_dirty(c); /* settle arms its recv */
  } else if (cqe->res == -EINVAL && multishot_accept) {
    multishot_accept = 0;
  }
  /* other errors (EMFILE, ECONNABORTED, ...): accept is re-armed and tried again */
}

static void on_completion(const struct io_uring_cqe *cqe) {
  uint64_t data = io_uring_cqe_get_data64(cqe);
  struct conn *c = (struct conn *)(uintptr_t)(data & ~(uint64_t)OP_MASK);
  switch ((unsigned)(data & OP_MASK)) {
    case OP_ACCEPT:
      on_accept(cqe);
      break;
    case OP_RECV:
      on_recv(c, cqe);
      break;
    case OP_SEND:
      on_send(c, cqe->res);
      break;
    case OP_CANCEL:
      c->ops--;
      mark_dirty(c);
      break;
    default: /* OP_CLOSE: nothing to do */
      break;
  }
}

/* Sets up the ring (with the cheapest task-running mode the kernel takes) and the buffer ring;
 * on failure writes why to why[] and returns -1. */
static int setup(char *why, size_t whylen) {
  const unsigned base = IORING_SETUP_CQSIZE;
  const unsigned modes[] = {
      base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      base | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      base,
  };
  int r = -EINVAL;
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = modes[i];
    p.cq_entries = CQ_ENTRIES;
    r = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
    if (r != -EINVAL) break;
  }
  if (r < 0) {
    char sysctl[32] = "unknown";
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    if (f) {
      if (fgets(sysctl, sizeof sysctl, f)) sysctl[strcspn(sysctl, "\n")] = 0;
      fclose(f);
    }
    snprintf(why, whylen, "io_uring_queue_init: %s (kernel.io_uring_disabled = %s; a seccomp profile can also block io_uring)", strerror(-r), sysctl);
    return -1;
  }
  io_uring_register_ring_fd(&ring); /* optional: saves a file lookup per io_uring_enter */

  size_t ring_size = BUF_COUNT * sizeof(struct io_uring_buf);
  void *mem = mmap(NULL, ring_size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) die("mmap");
  br = mem;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)mem;
  reg.ring_entries = BUF_COUNT;
  reg.bgid = BUF_GROUP;
  r = io_uring_register_buf_ring(&ring, &reg, 0);
  if (r < 0) {
    snprintf(why, whylen, "io_uring_register_buf_ring: %s (provided-buffer rings need Linux 5.19 or later)", strerror(-r));
    return -1;
  }
  bufs = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (bufs == MAP_FAILED) die("mmap");
  io_uring_buf_ring_init(br);
  for (int i = 0; i < BUF_COUNT; i++) buf_return((unsigned short)i);
  io_uring_buf_ring_advance(br, bufs_returned);
  bufs_returned = 0;
  return 0;
}

int main(int argc, char **argv) {
  char why[256];
  if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
    if (setup(why, sizeof why) < 0) {
      printf("%s\n", why);
      return 3;
    }
    printf("OK\n");
    return 0;
  }
  const char *port_s = argc > 1 ? argv[1] : getenv("PORT");
  const char *single = getenv("URING_SINGLE_SHOT");
  if (single && strcmp(single, "1") == 0) multishot_accept = multishot_recv = 0;
  int port = port_s ? atoi(port_s) : 0;
  if (setup(why, sizeof why) < 0) {
    fprintf(stderr, "uring_server: io_uring unavailable: %s\n", why);
    return 3;
  }
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0) die("socket");
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listen_fd, SOMAXCONN) < 0) die("listen");
  socklen_t alen = sizeof addr;
  if (getsockname(listen_fd, (struct sockaddr *)&addr, &alen) < 0) die("getsockname");
  printf("READY %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  for (;;) {
    if (!accept_armed) arm_accept();
    while (dirty_head) {
      struct conn *c = dirty_head;
      dirty_head = c->next_dirty;
      settle(c);
    }
    int r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
      errno = -r;
      die("io_uring_submit_and_wait");
    }
    unsigned head, seen = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      on_completion(cqe);
      seen++;
    }
    io_uring_cq_advance(&ring, seen);
    if (bufs_returned) {
      io_uring_buf_ring_advance(br, bufs_returned);
      bufs_returned = 0;
    }
  }
}
