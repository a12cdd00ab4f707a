// uring.cc — the io_uring ring behind ProactorEventLoop (see uring.h), and the `uring` export.
//
// One ring is a Poller ("uring" kind), so the selector, the owned run (owned.cc: its wake fd is a
// poll request on libuv's backend fd) and the attached watcher (on the ring fd, readable while
// completions wait) work on it unchanged. Beside readiness it carries completion operations,
// each named by a positive int32 id the caller chooses; wait() submits everything queued and
// waits in one io_uring_enter, and writes (id, res, flags) triples into the caller's Int32Array
// (slot 0: their count) next to the usual (fd, bits) readiness pairs.
//
// Multishot receives (recvMultishot) take their buffers from a provided-buffer ring of native
// memory the ring owns (setupBuffers; Linux 6.0). Those buffers are never shown to JavaScript:
// when a wait hands out a completion that used one, its bytes are copied into the JS slab given
// to setupBuffers, one after the other from offset 0 in each wait (the completion's res is the
// length, IORING_CQE_F_BUFFER says it has bytes there), and the buffer goes back to the kernel at
// once. A completion kept in the stash keeps a copy of its bytes instead, and its buffer goes back.
//
// Lifetimes: a buffer given to an operation is held by a napi reference until the kernel has
// posted the operation's last completion. close(fd) (sockets.cc) first cancels the fd's
// operations here and waits for their completions, which are kept for the next wait. Closing the
// ring (or the environment's teardown) cancels everything, waits, and closes accepted fds that
// nobody will see.
#include "uring.h"

#include <errno.h>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "state.h"

#ifdef NS_HAVE_URING
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <unordered_map>
#include <vector>

#include "poll_bits.h"
#include "sockaddr.h"
#include "wait.h"
#endif

namespace ns {

#ifdef NS_HAVE_URING

namespace {

// A completion's user_data: the top byte says what it belongs to; then 24 bits of generation and
// 32 bits of fd (poll requests) or id (operations).
constexpr uint64_t kTagOp = 1;
constexpr uint64_t kTagPoll = 2;
constexpr uint64_t kTagWake = 3;
constexpr uint64_t kTagIgnore = 4;  // cancels, poll removals, the close path's NOP

inline uint64_t MakeData(uint64_t tag, uint32_t gen, uint32_t low) {
  return (tag << 56) | (static_cast<uint64_t>(gen & 0xffffff) << 32) | low;
}
inline uint64_t TagOf(uint64_t data) { return data >> 56; }
inline uint32_t GenOf(uint64_t data) { return static_cast<uint32_t>((data >> 32) & 0xffffff); }
inline uint32_t LowOf(uint64_t data) { return static_cast<uint32_t>(data); }

// CloseWatch has nothing in the kernel: it ends when it is cancelled (see WatchClose).
enum class OpKind : uint8_t { Accept, Recv, Send, Connect, RecvMsg, SendMsg, CloseWatch, RecvMulti };

struct Op {
  int32_t id = 0;
  int fd = -1;
  OpKind kind = OpKind::Recv;
  napi_ref buffer = nullptr;
  bool cancelRequested = false;
  sockaddr_storage addr{};
  msghdr msg{};
  iovec iov{};
};

// A completion taken off the completion queue, with the kind of operation it belonged to. One
// that used a provided buffer (IORING_CQE_F_BUFFER) and waits in the stash holds a copy of its
// bytes in `bytes` (its buffer is back in the ring by then).
struct Cqe {
  uint64_t data;
  int32_t res;
  uint32_t flags;
  OpKind kind;
  std::string bytes;
  // Its provided buffer is still out of the ring (it has not been copied and given back yet).
  bool held = false;
};

// The buffer group id of the ring's one provided-buffer ring.
constexpr uint16_t kBufferGroup = 0;

struct Registration {
  unsigned interest = 0;
  uint32_t gen = 0;
  bool armed = false;
};

// Multishot accept needs Linux 5.19; no probe tells, so the release is read.
bool KernelAtLeast(int major, int minor) {
  utsname u;
  if (uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

std::string SetupFailure(int err) {
  std::string text = std::string("io_uring_setup failed with ") + ErrnoName(err);
  if (err == ENOSYS) return text + ": this kernel has no io_uring";
  if (err == EPERM || err == EACCES)
    return text + ": io_uring is disabled here (sysctl kernel.io_uring_disabled, or a seccomp profile)";
  if (err == ENOMEM) return text + ": the locked-memory limit (RLIMIT_MEMLOCK) is too low for the ring";
  return text;
}

// Why an initialised ring cannot serve the loop, or "" when it can.
std::string RingShortcoming(io_uring& ring) {
  if (!(ring.features & IORING_FEAT_NODROP)) return "the kernel's io_uring lacks IORING_FEAT_NODROP (Linux 5.5)";
  if (!(ring.features & IORING_FEAT_EXT_ARG)) return "the kernel's io_uring lacks IORING_FEAT_EXT_ARG (Linux 5.11)";
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) return "the kernel refused IORING_REGISTER_PROBE";
  struct {
    int op;
    const char* name;
  } needed[] = {
      {IORING_OP_NOP, "NOP"},
      {IORING_OP_POLL_ADD, "POLL_ADD"},
      {IORING_OP_POLL_REMOVE, "POLL_REMOVE"},
      {IORING_OP_ACCEPT, "ACCEPT"},
      {IORING_OP_CONNECT, "CONNECT"},
      {IORING_OP_RECV, "RECV"},
      {IORING_OP_SEND, "SEND"},
      {IORING_OP_RECVMSG, "RECVMSG"},
      {IORING_OP_SENDMSG, "SENDMSG"},
      {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
  };
  std::string missing;
  for (auto& n : needed)
    if (!io_uring_opcode_supported(probe, n.op)) missing = n.name;
  io_uring_free_probe(probe);
  if (!missing.empty()) return "the kernel's io_uring lacks IORING_OP_" + missing;
  if (!KernelAtLeast(5, 19)) return "multishot accept needs Linux 5.19 or later";
  return "";
}

}  // namespace

class UringPoller final : public Poller {
 public:
  UringPoller(napi_env env, AddonData* data) : env_(env), data_(data) {}
  ~UringPoller() override { Close(); }

  // Sets up the ring; "" or the reason it cannot be used.
  std::string Init(unsigned entries) {
    // COOP_TASKRUN: a completion's task work waits for this thread's next entry into the kernel
    // (its next wait, or any syscall) instead of interrupting it with an IPI wherever it runs.
    // A multishot receive completes each time bytes land, mostly while JavaScript runs: without
    // it the proactor's keep-alive bench cost about 1.5x the CPU per request (see
    // docs/benchmarks.md). TASKRUN_FLAG tells liburing (io_uring_submit with nothing queued) that
    // such work waits, so a wait of 0 ms still enters the kernel to run it. Both are Linux 5.19,
    // which multishot accept needs anyway; an older kernel gets a plain ring.
    int r = io_uring_queue_init(entries, &ring_, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    if (r == -EINVAL) r = io_uring_queue_init(entries, &ring_, 0);
    if (r < 0) return SetupFailure(-r);
    std::string shortcoming = RingShortcoming(ring_);
    if (!shortcoming.empty()) {
      io_uring_queue_exit(&ring_);
      return shortcoming;
    }
    open_ = true;
    if (data_->lastRingId == INT32_MAX) {  // two billion rings on one thread: refuse the next
      io_uring_queue_exit(&ring_);
      open_ = false;
      return "this thread has used up its io_uring ring ids";
    }
    id_ = ++data_->lastRingId;
    data_->rings.emplace(id_, this);
    return "";
  }

  UringPoller* AsUring() override { return this; }
  int Fileno() const override { return open_ ? ring_.ring_fd : -1; }
  int32_t Id() const { return id_; }

  // Readiness: one one-shot poll request per fd, re-armed by the wait after the one reporting it.
  int Add(int fd, unsigned interest) override {
    if (!open_) return -EBADF;
    if (fcntl(fd, F_GETFD) < 0) return -errno;  // as epoll_ctl would, at once
    if (regs_.count(fd) != 0) return -EEXIST;
    Registration& reg = regs_[fd];
    reg.interest = interest;
    reg.gen = ++gen_;
    Arm(fd, reg);
    Flush();  // at once: an attached loop may not wait again before the fd is ready
    return 0;
  }

  int Modify(int fd, unsigned, unsigned interest) override {
    if (!open_) return -EBADF;
    auto it = regs_.find(fd);
    if (it == regs_.end()) return -ENOENT;
    Registration& reg = it->second;
    if (reg.armed) RemovePoll(MakeData(kTagPoll, reg.gen, static_cast<uint32_t>(fd)));
    reg.armed = false;
    reg.interest = interest;
    reg.gen = ++gen_;
    Arm(fd, reg);
    Flush();
    return 0;
  }

  int Remove(int fd, unsigned) override {
    if (!open_) return -EBADF;
    auto it = regs_.find(fd);
    if (it == regs_.end()) return -ENOENT;
    if (it->second.armed) RemovePoll(MakeData(kTagPoll, it->second.gen, static_cast<uint32_t>(fd)));
    regs_.erase(it);
    Flush();  // the poll request holds the file open until it is gone
    return 0;
  }

  int SetWakeFd(int fd) override {
    if (!open_) return -EBADF;
    if (wakeArmed_) RemovePoll(MakeData(kTagWake, wakeGen_, static_cast<uint32_t>(wakeFd_)));
    wakeArmed_ = false;
    wakeFd_ = fd;
    ++wakeGen_;
    if (fd < 0) Flush();
    return 0;
  }

  int Wait(int32_t* out, size_t capacity, int timeoutMs) override {
    if (!open_) return -EBADF;
    woken_ = false;
    Rearm();
    int32_t* comp = nullptr;
    size_t compCapacity = 0;
    CompletionArray(&comp, &compCapacity);
    SlabArray();
    bool pending = !stash_.empty() || io_uring_cq_ready(&ring_) > 0;
    int r = Enter(pending ? 0 : timeoutMs);
    if (r < 0) return r;
    size_t n = 0, m = 0;
    while (!stash_.empty() && Fits(stash_.front(), n, capacity, m, compCapacity)) {
      Deliver(stash_.front(), out, &n, comp, &m);
      stash_.pop_front();
    }
    if (stash_.empty()) {
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        Cqe probe{cqe->user_data, cqe->res, cqe->flags, OpKind::Recv, {}};
        if (!Fits(probe, n, capacity, m, compCapacity)) break;
        Cqe c = Account(cqe->user_data, cqe->res, cqe->flags);
        Deliver(c, out, &n, comp, &m);
        ++seen;
      }
      io_uring_cq_advance(&ring_, seen);
    }
    if (comp != nullptr) comp[0] = static_cast<int32_t>(m);
    return static_cast<int>(n);
  }

  int Close() override {
    if (!open_) return 0;
    CancelIds(OpIds());
    int64_t deadline = MonotonicMs() + 10000;
    while (!ops_.empty() && MonotonicMs() < deadline) {
      CancelIds(OpIds());
      int r = SubmitAndWaitOne(200);
      DrainToStash();
      if (r < 0 && r != -EINTR && r != -ETIME && r != -EBUSY && r != -EAGAIN) break;
    }
    for (Cqe& c : stash_)
      if (TagOf(c.data) == kTagOp && c.kind == OpKind::Accept && c.res >= 0) {
        UntrackFd(data_, c.res);
        CloseFd(c.res);
      }
    stash_.clear();
    bool settled = ops_.empty();
    // Operations still here are those whose completions never came (the wait above failed or
    // timed out): the kernel may still write into their buffers while io_uring_queue_exit tears
    // the ring down, so their references are left alive (a leak) rather than released.
    for (auto& entry : ops_) entry.second->buffer = nullptr;
    ops_.clear();
    pool_.clear();
    byFd_.clear();
    regs_.clear();
    addresses_.clear();
    if (completions_ != nullptr && !data_->tearingDown) napi_delete_reference(env_, completions_);
    completions_ = nullptr;
    if (slab_ != nullptr && !data_->tearingDown) napi_delete_reference(env_, slab_);
    slab_ = nullptr;
    io_uring_queue_exit(&ring_);
    // As the buffers above: with a multishot receive whose end never came, the kernel may still
    // write into the provided buffers, which are then left mapped.
    if (bufRing_ != nullptr && settled) {
      munmap(bufRing_, bufCount_ * sizeof(io_uring_buf));
      munmap(bufs_, static_cast<size_t>(bufCount_) * bufSize_);
    }
    bufRing_ = nullptr;
    bufs_ = nullptr;
    open_ = false;
    data_->rings.erase(id_);
    return 0;
  }

  // ---- completion operations: 0, or -errno when no submission slot could be had

  bool HasOp(int32_t id) const { return ops_.count(id) != 0; }
  bool HasCompletions() const { return completions_ != nullptr; }
  size_t InFlight() const { return ops_.size(); }

  void SetCompletions(napi_ref ref) {
    if (completions_ != nullptr) napi_delete_reference(env_, completions_);
    completions_ = ref;
  }

  int Accept(int32_t id, int fd, bool multishot) {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return -EBUSY;
    Op* op = NewOp(id, fd, OpKind::Accept, nullptr);
    if (multishot)
      io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    else
      io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    sqe->user_data = MakeData(kTagOp, 0, static_cast<uint32_t>(op->id));
    return 0;
  }

  int Transfer(int32_t id, int fd, OpKind kind, napi_ref buffer, ByteView view, int flags, const sockaddr_storage* to,
               socklen_t toLen) {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return -EBUSY;
    Op* op = NewOp(id, fd, kind, buffer);
    switch (kind) {
      case OpKind::Recv: io_uring_prep_recv(sqe, fd, view.data, view.length, flags); break;
      case OpKind::Send: io_uring_prep_send(sqe, fd, view.data, view.length, flags | MSG_NOSIGNAL); break;
      case OpKind::RecvMsg:
      case OpKind::SendMsg:
        op->iov.iov_base = view.data;
        op->iov.iov_len = view.length;
        op->msg.msg_iov = &op->iov;
        op->msg.msg_iovlen = 1;
        op->msg.msg_name = &op->addr;
        if (kind == OpKind::RecvMsg) {
          op->msg.msg_namelen = sizeof op->addr;
          io_uring_prep_recvmsg(sqe, fd, &op->msg, static_cast<unsigned>(flags));
        } else {
          memcpy(&op->addr, to, toLen);
          op->msg.msg_namelen = toLen;
          io_uring_prep_sendmsg(sqe, fd, &op->msg, static_cast<unsigned>(flags | MSG_NOSIGNAL));
        }
        break;
      default: break;
    }
    sqe->user_data = MakeData(kTagOp, 0, static_cast<uint32_t>(op->id));
    return 0;
  }

  int Connect(int32_t id, int fd, const sockaddr_storage& to, socklen_t toLen) {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return -EBUSY;
    Op* op = NewOp(id, fd, OpKind::Connect, nullptr);
    memcpy(&op->addr, &to, toLen);
    io_uring_prep_connect(sqe, fd, reinterpret_cast<sockaddr*>(&op->addr), toLen);
    sqe->user_data = MakeData(kTagOp, 0, static_cast<uint32_t>(op->id));
    return 0;
  }

  // The provided-buffer ring multishot receives take their buffers from: `count` (a power of two)
  // buffers of `size` bytes, in native memory, and `slab` (a reference to an ArrayBuffer of at
  // least `size` bytes) that each wait copies their bytes into. 0, or -errno: EOPNOTSUPP before
  // Linux 6.0 (no multishot receive), EALREADY when set up before, or why the kernel refused.
  int SetupBuffers(unsigned count, unsigned size, napi_ref slab) {
    if (!open_) return -EBADF;
    if (bufRing_ != nullptr) return -EALREADY;
    if (!KernelAtLeast(6, 0)) return -EOPNOTSUPP;
    size_t ringBytes = count * sizeof(io_uring_buf);
    size_t bufBytes = static_cast<size_t>(count) * size;
    void* ringMem = mmap(nullptr, ringBytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ringMem == MAP_FAILED) return -errno;
    void* bufMem = mmap(nullptr, bufBytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (bufMem == MAP_FAILED) {
      int err = errno;
      munmap(ringMem, ringBytes);
      return -err;
    }
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uintptr_t>(ringMem);
    reg.ring_entries = count;
    reg.bgid = kBufferGroup;
    int r = io_uring_register_buf_ring(&ring_, &reg, 0);
    if (r < 0) {
      munmap(bufMem, bufBytes);
      munmap(ringMem, ringBytes);
      return r;
    }
    bufRing_ = static_cast<io_uring_buf_ring*>(ringMem);
    bufs_ = static_cast<uint8_t*>(bufMem);
    bufCount_ = count;
    bufSize_ = size;
    io_uring_buf_ring_init(bufRing_);
    int mask = io_uring_buf_ring_mask(count);
    for (unsigned i = 0; i < count; ++i)
      io_uring_buf_ring_add(bufRing_, bufs_ + static_cast<size_t>(i) * size, size, static_cast<unsigned short>(i), mask,
                            static_cast<int>(i));
    io_uring_buf_ring_advance(bufRing_, static_cast<int>(count));
    if (slab_ != nullptr) napi_delete_reference(env_, slab_);
    slab_ = slab;
    return 0;
  }

  bool HasBuffers() const { return bufRing_ != nullptr; }

  // One receive request that stays armed, each completion with the bytes of one provided buffer
  // (IORING_CQE_F_MORE while it goes on); it ends on end of stream, an error, -ENOBUFS (no
  // buffer was free), a cancel, or once it has received `limit` bytes in all (0: no limit;
  // Linux 6.17, MultishotLimit()).
  int RecvMultishot(int32_t id, int fd, uint32_t limit) {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return -EBUSY;
    Op* op = NewOp(id, fd, OpKind::RecvMulti, nullptr);
    io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
    // The kernel's sqe->optlen, the total a multishot receive may bring: the same 32 bits as
    // file_index, the only name liburing 2.3's header has for them. Kernels before 6.17 refuse
    // a non-zero value there (EINVAL), hence MultishotLimit().
    sqe->file_index = limit;
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    sqe->user_data = MakeData(kTagOp, 0, static_cast<uint32_t>(op->id));
    return 0;
  }

  // An operation with nothing in the kernel, for a caller that holds something for fd between
  // kernel operations: it ends with -ECANCELED when cancelled, by Cancel(id), by close(fd)
  // (CancelFd) or by the ring's close, so the caller learns that fd was closed.
  int WatchClose(int32_t id, int fd) {
    if (!open_) return -EBADF;
    if (fcntl(fd, F_GETFD) < 0) return -errno;
    NewOp(id, fd, OpKind::CloseWatch, nullptr);
    return 0;
  }

  // -ENOENT: not in flight (its last completion was taken already); -EALREADY: asked before.
  int Cancel(int32_t id) {
    auto it = ops_.find(id);
    if (it == ops_.end()) return -ENOENT;
    if (it->second->cancelRequested) return -EALREADY;
    return RequestCancel(it->second.get()) ? 0 : -EBUSY;
  }

  // Hands the kernel what is queued, and re-arms the fds the last wait reported: a loop driven
  // by Node's libuv loop calls this after each batch, as it waits on the ring fd, not in Wait(),
  // and an fd left unarmed would never be reported again. Completions kept in the stash get a
  // NOP so that the ring fd reads as ready for them.
  int Submit() {
    if (!open_) return -EBADF;
    Rearm();
    if (!stash_.empty() && io_uring_cq_ready(&ring_) == 0) QueueNop();
    return Flush();
  }

  // The sender address of a recvmsg completion, once (false when there is none).
  bool TakeAddress(int32_t id, sockaddr_storage* ss, socklen_t* len) {
    auto it = addresses_.find(id);
    if (it == addresses_.end()) return false;
    *ss = it->second.first;
    *len = it->second.second;
    addresses_.erase(it);
    return true;
  }

  // See CancelRingOpsOnFd.
  void CancelFd(int fd) {
    if (!open_) return;
    bool flush = false;
    auto reg = regs_.find(fd);
    if (reg != regs_.end()) {
      if (reg->second.armed) RemovePoll(MakeData(kTagPoll, reg->second.gen, static_cast<uint32_t>(fd)));
      regs_.erase(reg);
      flush = true;
    }
    int64_t deadline = MonotonicMs() + 10000;
    for (;;) {
      auto it = byFd_.find(fd);
      if (it == byFd_.end() || it->second.empty() || MonotonicMs() >= deadline) break;
      CancelIds(it->second);
      auto left = byFd_.find(fd);
      if (left == byFd_.end() || left->second.empty()) {  // close watches only: ended at once
        flush = true;
        break;
      }
      int r = SubmitAndWaitOne(200);
      DrainToStash();
      flush = false;
      if (r < 0 && r != -EINTR && r != -ETIME && r != -EBUSY && r != -EAGAIN) break;
    }
    auto list = byFd_.find(fd);
    if (list != byFd_.end() && list->second.empty()) byFd_.erase(list);
    if (flush) Flush();
    // An attached loop watches the ring fd, which is readable only while the queue holds
    // completions: one NOP makes it so while some wait in the stash.
    if (!stash_.empty() && QueueNop()) Flush();
  }

 private:
  bool QueueNop() {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return false;
    io_uring_prep_nop(sqe);
    sqe->user_data = MakeData(kTagIgnore, 0, 0);
    return true;
  }

  io_uring_sqe* GetSqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      // The submission queue is full: hand it to the kernel (which frees its slots) and retry.
      Flush();
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  // Submits what is queued. The kernel refuses (EBUSY) while completions it could not post
  // wait in its overflow list: they are moved to the stash to make room, and it is asked again.
  int Flush() {
    for (;;) {
      int r = io_uring_submit(&ring_);
      if (r != -EBUSY && r != -EAGAIN && r != -EINTR) return r;
      if (r != -EINTR && DrainToStash() == 0) return r;
    }
  }

  int SubmitAndWaitOne(int timeoutMs) {
    __kernel_timespec ts{};
    ts.tv_sec = timeoutMs / 1000;
    ts.tv_nsec = static_cast<long long>(timeoutMs % 1000) * 1000000;
    io_uring_cqe* cqe = nullptr;
    return io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }

  // Submits and waits up to timeoutMs (-1 forever, 0 not at all) for one completion, with
  // wait.h's EINTR rule. Returns 0 or -errno.
  int Enter(int timeoutMs) {
    int r = WaitRetrying(timeoutMs, [this](int ms) {
      int n;
      if (ms == 0) {
        n = io_uring_submit(&ring_);
      } else if (ms < 0) {
        n = io_uring_submit_and_wait(&ring_, 1);
      } else {
        n = SubmitAndWaitOne(ms);
      }
      if (n == -ETIME || (n == -EINTR && ms == 0)) return 0;
      // io_uring_enter reports how many requests it took even when a signal (or the timeout)
      // then cut its wait short: with no completion that is an interrupted wait, resumed with
      // the time left (which ends it at once after a timeout).
      if (n >= 0 && ms != 0 && io_uring_cq_ready(&ring_) == 0) n = -EINTR;
      if (n >= 0) return 0;
      errno = -n;
      return -1;
    });
    if ((r == -EBUSY || r == -EAGAIN) && DrainToStash() > 0) return 0;
    return r < 0 ? r : 0;
  }

  void Arm(int fd, Registration& reg) {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) {
      rearm_.push_back(fd);  // the next wait tries again
      return;
    }
    io_uring_prep_poll_add(sqe, fd, BitsToPoll(reg.interest));
    sqe->user_data = MakeData(kTagPoll, reg.gen, static_cast<uint32_t>(fd));
    reg.armed = true;
  }

  void RemovePoll(uint64_t data) {
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return;  // its completion is stale by generation anyway
    io_uring_prep_poll_remove(sqe, data);
    sqe->user_data = MakeData(kTagIgnore, 0, 0);
  }

  void Rearm() {
    if (!rearm_.empty()) {
      std::vector<int> fds;
      fds.swap(rearm_);
      for (int fd : fds) {
        auto it = regs_.find(fd);
        if (it != regs_.end() && !it->second.armed) Arm(fd, it->second);
      }
    }
    if (wakeFd_ >= 0 && !wakeArmed_) {
      if (io_uring_sqe* sqe = GetSqe()) {
        io_uring_prep_poll_add(sqe, wakeFd_, POLLIN);
        sqe->user_data = MakeData(kTagWake, wakeGen_, static_cast<uint32_t>(wakeFd_));
        wakeArmed_ = true;
      }
    }
  }

  // The ids of every operation in flight.
  std::vector<int32_t> OpIds() const {
    std::vector<int32_t> ids;
    ids.reserve(ops_.size());
    for (const auto& entry : ops_) ids.push_back(entry.first);
    return ids;
  }

  // Asks the kernel to cancel each of `ids` still in flight. Takes a copy: a full submission
  // queue makes RequestCancel flush, which can account completions and so end operations (and
  // edit ops_ and byFd_) while this goes through the list.
  void CancelIds(std::vector<int32_t> ids) {
    for (int32_t id : ids) {
      auto it = ops_.find(id);
      if (it != ops_.end()) RequestCancel(it->second.get());
    }
  }

  bool RequestCancel(Op* op) {
    if (op->cancelRequested) return true;
    if (op->kind == OpKind::CloseWatch) {  // its completion, made here (this ends op)
      stash_.push_back(Account(MakeData(kTagOp, 0, static_cast<uint32_t>(op->id)), -ECANCELED, 0));
      return true;
    }
    io_uring_sqe* sqe = GetSqe();
    if (sqe == nullptr) return false;
    io_uring_prep_cancel64(sqe, MakeData(kTagOp, 0, static_cast<uint32_t>(op->id)), 0);
    sqe->user_data = MakeData(kTagIgnore, 0, 0);
    op->cancelRequested = true;
    return true;
  }

  // Operations come from a pool of finished ones (a keep-alive request makes two).
  Op* NewOp(int32_t id, int fd, OpKind kind, napi_ref buffer) {
    std::unique_ptr<Op> op;
    if (pool_.empty()) {
      op = std::make_unique<Op>();
    } else {
      op = std::move(pool_.back());
      pool_.pop_back();
      *op = Op{};
    }
    op->id = id;
    op->fd = fd;
    op->kind = kind;
    op->buffer = buffer;
    Op* raw = op.get();
    ops_.emplace(id, std::move(op));
    byFd_[fd].push_back(id);
    return raw;
  }

  void ReleaseRef(Op* op) {
    if (op->buffer != nullptr && !data_->tearingDown) napi_delete_reference(env_, op->buffer);
    op->buffer = nullptr;
  }

  // The kernel's side of a completion, done once as it leaves the queue: an accepted fd is
  // tracked, a recvmsg's sender kept, and an operation's last completion frees its buffer.
  Cqe Account(uint64_t data, int32_t res, uint32_t flags) {
    Cqe c{data, res, flags, OpKind::Recv, {}};
    if (TagOf(c.data) != kTagOp) return c;
    c.held = (flags & IORING_CQE_F_BUFFER) != 0 && bufRing_ != nullptr;
    auto it = ops_.find(static_cast<int32_t>(LowOf(c.data)));
    if (it == ops_.end()) return c;
    Op* op = it->second.get();
    c.kind = op->kind;
    if (op->kind == OpKind::Accept && c.res >= 0) TrackFd(data_, c.res);
    if (op->kind == OpKind::RecvMsg && c.res >= 0) addresses_[op->id] = {op->addr, op->msg.msg_namelen};
    if (!(c.flags & IORING_CQE_F_MORE)) {
      ReleaseRef(op);
      auto list = byFd_.find(op->fd);
      if (list != byFd_.end()) {
        auto& ids = list->second;
        for (size_t i = 0; i < ids.size(); ++i)
          if (ids[i] == op->id) {
            ids[i] = ids.back();
            ids.pop_back();
            break;
          }
        // An empty list stays until close(fd) (CancelFd): the fd's next operation reuses it.
      }
      if (pool_.size() < kOpPool) pool_.push_back(std::move(it->second));
      ops_.erase(it);
    }
    return c;
  }

  size_t DrainToStash() {
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      stash_.push_back(Account(cqe->user_data, cqe->res, cqe->flags));
      Cqe& kept = stash_.back();
      if (kept.held) {
        if (kept.res > 0) kept.bytes.assign(reinterpret_cast<const char*>(BufferOf(kept.flags)), kept.res);
        GiveBack(kept.flags);
        kept.held = false;
      }
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
    return seen;
  }

  // A completion fits when the caller's arrays have room for it: a slot in the completion array,
  // and room in the slab for the bytes of one that used a provided buffer.
  bool Fits(const Cqe& c, size_t n, size_t capacity, size_t m, size_t compCapacity) const {
    uint64_t tag = TagOf(c.data);
    if (tag == kTagOp) {
      if (m >= compCapacity) return false;
      if ((c.flags & IORING_CQE_F_BUFFER) != 0 && c.res > 0)
        return slabUsed_ + static_cast<size_t>(c.res) <= slabCapacity_;
      return true;
    }
    if (tag == kTagPoll) return n < capacity;
    return true;
  }

  void Deliver(const Cqe& c, int32_t* out, size_t* n, int32_t* comp, size_t* m) {
    uint64_t tag = TagOf(c.data);
    if (tag == kTagOp) {
      int32_t* slot = comp + 1 + 3 * (*m);
      slot[0] = static_cast<int32_t>(LowOf(c.data));
      slot[1] = c.res;
      slot[2] = static_cast<int32_t>(c.flags);
      ++*m;
      if ((c.flags & IORING_CQE_F_BUFFER) != 0) {
        // The bytes go to the slab after those of this wait's earlier completions; the buffer
        // id is of no use to the caller.
        slot[2] = static_cast<int32_t>(c.flags & 0xffff);
        if (c.res > 0) {
          const uint8_t* from = c.held ? BufferOf(c.flags) : reinterpret_cast<const uint8_t*>(c.bytes.data());
          memcpy(slabData_ + slabUsed_, from, static_cast<size_t>(c.res));
          slabUsed_ += static_cast<size_t>(c.res);
        }
        if (c.held) GiveBack(c.flags);
      }
    } else if (tag == kTagPoll) {
      int fd = static_cast<int>(LowOf(c.data));
      auto it = regs_.find(fd);
      if (it == regs_.end() || it->second.gen != GenOf(c.data)) return;  // removed or changed since
      Registration& reg = it->second;
      reg.armed = false;
      if (c.res < 0) return;  // the fd was closed (EBADF): its registration is gone, as epoll's
      rearm_.push_back(fd);
      unsigned bits = PollToBits(static_cast<unsigned>(c.res)) & reg.interest;
      if (bits != 0) {
        out[2 * *n] = fd;
        out[2 * *n + 1] = static_cast<int32_t>(bits);
        ++*n;
      }
    } else if (tag == kTagWake) {
      if (GenOf(c.data) != (wakeGen_ & 0xffffff)) return;
      wakeArmed_ = false;
      woken_ = true;
    }
  }

  // The provided buffer a completion's flags name (the kernel's buffer id, in the top 16 bits).
  const uint8_t* BufferOf(uint32_t flags) const {
    unsigned bid = (flags >> IORING_CQE_BUFFER_SHIFT) % bufCount_;
    return bufs_ + static_cast<size_t>(bid) * bufSize_;
  }

  // Puts the provided buffer a completion's flags name back in the ring, for the kernel's next use.
  void GiveBack(uint32_t flags) {
    unsigned bid = (flags >> IORING_CQE_BUFFER_SHIFT) % bufCount_;
    io_uring_buf_ring_add(bufRing_, bufs_ + static_cast<size_t>(bid) * bufSize_, bufSize_,
                          static_cast<unsigned short>(bid), io_uring_buf_ring_mask(bufCount_), 0);
    io_uring_buf_ring_advance(bufRing_, 1);
  }

  // The slab this wait copies provided buffers' bytes into, from its start.
  void SlabArray() {
    slabData_ = nullptr;
    slabCapacity_ = 0;
    slabUsed_ = 0;
    if (slab_ == nullptr) return;
    napi_value value;
    if (napi_get_reference_value(env_, slab_, &value) != napi_ok || value == nullptr) return;
    void* raw = nullptr;
    size_t length = 0;
    if (napi_get_arraybuffer_info(env_, value, &raw, &length) != napi_ok || raw == nullptr) return;
    slabData_ = static_cast<uint8_t*>(raw);
    slabCapacity_ = length;
  }

  void CompletionArray(int32_t** data, size_t* capacity) {
    if (completions_ == nullptr) return;
    napi_value value;
    if (napi_get_reference_value(env_, completions_, &value) != napi_ok || value == nullptr) return;
    napi_typedarray_type type;
    size_t length = 0;
    void* raw = nullptr;
    if (napi_get_typedarray_info(env_, value, &type, &length, &raw, nullptr, nullptr) != napi_ok) return;
    if (type != napi_int32_array || raw == nullptr || length < 4) return;
    *data = static_cast<int32_t*>(raw);
    *capacity = (length - 1) / 3;
  }

  napi_env env_;
  AddonData* data_;
  // This ring's key in data_->rings (ringId()); 0 until Init succeeds.
  int32_t id_ = 0;
  io_uring ring_{};
  bool open_ = false;
  uint32_t gen_ = 0;
  std::unordered_map<int, Registration> regs_;
  std::vector<int> rearm_;
  int wakeFd_ = -1;
  uint32_t wakeGen_ = 0;
  bool wakeArmed_ = false;
  std::unordered_map<int32_t, std::unique_ptr<Op>> ops_;
  std::unordered_map<int, std::vector<int32_t>> byFd_;
  static constexpr size_t kOpPool = 256;
  std::vector<std::unique_ptr<Op>> pool_;
  std::deque<Cqe> stash_;
  std::unordered_map<int32_t, std::pair<sockaddr_storage, socklen_t>> addresses_;
  napi_ref completions_ = nullptr;
  io_uring_buf_ring* bufRing_ = nullptr;
  uint8_t* bufs_ = nullptr;
  unsigned bufCount_ = 0;
  unsigned bufSize_ = 0;
  napi_ref slab_ = nullptr;
  uint8_t* slabData_ = nullptr;
  size_t slabCapacity_ = 0;
  size_t slabUsed_ = 0;
};

std::unique_ptr<Poller> CreateUringPoller(Napi::Env env, unsigned entries, std::string* reason) {
  auto ring = std::make_unique<UringPoller>(env, Data(env));
  *reason = ring->Init(entries);
  if (!reason->empty()) return nullptr;
  return ring;
}

namespace {

// A copy of the live rings: what each is asked to do (CancelFd, Close) may change the table.
std::vector<UringPoller*> LiveRings(const AddonData* data) {
  std::vector<UringPoller*> rings;
  for (auto& entry : data->rings) rings.push_back(entry.second);
  return rings;
}

}  // namespace

void CancelRingOpsOnFd(AddonData* data, int fd) {
  if (data == nullptr || data->rings.empty()) return;
  for (UringPoller* ring : LiveRings(data)) ring->CancelFd(fd);
}

void CloseAllRings(AddonData* data) {
  for (UringPoller* ring : LiveRings(data)) ring->Close();
}

namespace {

// The Poller object of a ring, checked (its type tag, then the wrapped pointer): two private-
// symbol lookups, over 1,500 instructions a call under callgrind.
UringPoller* RingObjectArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Poller* poller = nullptr;
  bool isPoller = info.Length() > 0 && PollerObject(env, info[0], &poller);
  UringPoller* ring = poller != nullptr ? poller->AsUring() : nullptr;
  if (!isPoller || (poller != nullptr && ring == nullptr))
    ThrowCodeError(env, "ERR_INVALID_ARG_TYPE",
                   "The \"ring\" argument must be a Poller of kind 'uring' or its ringId(). Received " +
                       DescribeValue(info.Length() > 0 ? info[0] : env.Undefined()),
                   ErrorKind::TypeError);
  if (ring == nullptr || ring->Fileno() < 0) ThrowCodeError(env, "ERR_SELECTOR_CLOSED", "the ring is closed");
  return ring;
}

// info[0]: the ring, as its id (ringId(); the per-operation form, a number and a table lookup)
// or as its Poller object. The functions of this file have the AddonData as their data.
UringPoller* RingArg(const Napi::CallbackInfo& info) {
  double d;
  if (info.Length() == 0 || napi_get_value_double(info.Env(), info[0], &d) != napi_ok) return RingObjectArg(info);
  auto* data = static_cast<AddonData*>(info.Data());
  int32_t id = static_cast<int32_t>(IntArg(info, 0, "ring", 1, INT32_MAX));
  auto found = data->rings.find(id);
  if (found != data->rings.end()) return found->second;
  if (id <= data->lastRingId) ThrowCodeError(info.Env(), "ERR_SELECTOR_CLOSED", "the ring is closed");
  ThrowCodeError(info.Env(), "ERR_INVALID_ARG_VALUE", "no io_uring ring has the id " + std::to_string(id),
                 ErrorKind::TypeError);
}

// ringId(ring): the ring's id, which every operation of this file takes in place of the Poller
// object. Ids are not reused: a closed ring's id stays ERR_SELECTOR_CLOSED.
Napi::Value RingId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), RingObjectArg(info)->Id()); }

// A new operation's id: a positive int32 not in flight on this ring; the ring must have its
// completion array.
int32_t NewIdArg(const Napi::CallbackInfo& info, UringPoller* ring) {
  int32_t id = static_cast<int32_t>(IntArg(info, 1, "id", 1, INT32_MAX));
  if (ring->HasOp(id))
    ThrowCodeError(info.Env(), "ERR_INVALID_ARG_VALUE", "operation " + std::to_string(id) + " is already in flight",
                   ErrorKind::TypeError);
  if (!ring->HasCompletions())
    ThrowCodeError(info.Env(), "ERR_INVALID_STATE", "setCompletions() must be called before operations are submitted");
  return id;
}

int FdArgAt2(const Napi::CallbackInfo& info) { return FdArg(info, 2); }

// accept(ring, id, fd, multishot): 0 or -errno.
Napi::Value AcceptOp(const Napi::CallbackInfo& info) {
  UringPoller* ring = RingArg(info);
  int32_t id = NewIdArg(info, ring);
  int fd = FdArgAt2(info);
  bool multishot = BoolArg(info, 3, "multishot");
  return Napi::Number::New(info.Env(), ring->Accept(id, fd, multishot));
}

// The leading arguments of recv, send, recvmsg and sendmsg: (ring, id, fd, buffer, offset,
// length, flags?).
struct TransferArgs {
  UringPoller* ring;
  int32_t id;
  int fd;
  ByteView view;
  int flags;
};

TransferArgs TransferArgsOf(const Napi::CallbackInfo& info) {
  TransferArgs args{};
  args.ring = RingArg(info);
  args.id = NewIdArg(info, args.ring);
  args.fd = FdArgAt2(info);
  args.view = SliceArgs(info, 4, BufferArg(info, 3, "buffer"));
  args.flags = static_cast<int>(OptionalIntArg(info, 6, "flags", 0, INT32_MAX, 0));
  return args;
}

// Submits the transfer once every argument is checked, holding the buffer (info[3]) until the
// operation's last completion: 0 or -errno.
Napi::Value SubmitTransfer(const Napi::CallbackInfo& info, const TransferArgs& args, OpKind kind,
                           const sockaddr_storage* to, socklen_t toLen) {
  Napi::Env env = info.Env();
  napi_ref ref = nullptr;
  if (napi_create_reference(env, info[3], 1, &ref) != napi_ok)
    ThrowCodeError(env, "ERR_INVALID_STATE", "could not hold the buffer");
  int r = args.ring->Transfer(args.id, args.fd, kind, ref, args.view, args.flags, to, toLen);
  if (r < 0) napi_delete_reference(env, ref);
  return Napi::Number::New(env, r);
}

// recv/send/recvmsg(ring, id, fd, buffer, offset, length, flags?): 0 or -errno.
template <int Kind>
Napi::Value TransferOp(const Napi::CallbackInfo& info) {
  return SubmitTransfer(info, TransferArgsOf(info), static_cast<OpKind>(Kind), nullptr, 0);
}

// sendmsg(ring, id, fd, buffer, offset, length, flags, family, host|path, port?, flowinfo?,
// scopeId?): a datagram to an address. Host names are resolved (blocking), as sendto's.
Napi::Value SendMsgOp(const Napi::CallbackInfo& info) {
  TransferArgs args = TransferArgsOf(info);
  int family = FamilyArg(info, 7);
  sockaddr_storage ss;
  socklen_t len = AddressFromArgs(info, 8, family, &ss);
  return SubmitTransfer(info, args, OpKind::SendMsg, &ss, len);
}

// connect(ring, id, fd, family, host|path, port?, flowinfo?, scopeId?): 0 or -errno.
Napi::Value ConnectOp(const Napi::CallbackInfo& info) {
  UringPoller* ring = RingArg(info);
  int32_t id = NewIdArg(info, ring);
  int fd = FdArgAt2(info);
  int family = FamilyArg(info, 3);
  sockaddr_storage ss;
  socklen_t len = AddressFromArgs(info, 4, family, &ss);
  return Napi::Number::New(info.Env(), ring->Connect(id, fd, ss, len));
}

// Whether a multishot receive can be given a total byte limit (IORING_RECV_MSHOT_LIM, Linux
// 6.17): no probe tells, so the release is read, once (each limited receive asks).
bool MultishotLimit() {
  static const bool has = KernelAtLeast(6, 17);
  return has;
}

// recvMultishot(ring, id, fd, limit = 0): a multishot receive into the provided buffers
// (setupBuffers must have succeeded) that ends once it has brought `limit` bytes (0: no limit;
// only where multishotLimit()): 0 or -errno.
Napi::Value RecvMultishotOp(const Napi::CallbackInfo& info) {
  UringPoller* ring = RingArg(info);
  int32_t id = NewIdArg(info, ring);
  int fd = FdArgAt2(info);
  auto limit = static_cast<uint32_t>(OptionalIntArg(info, 3, "limit", 0, INT32_MAX, 0));
  if (!ring->HasBuffers())
    ThrowCodeError(info.Env(), "ERR_INVALID_STATE",
                   "setupBuffers() must succeed before multishot receives are submitted");
  if (limit != 0 && !MultishotLimit())
    ThrowCodeError(info.Env(), "ERR_INVALID_STATE", "a multishot receive's byte limit needs Linux 6.17 or later");
  return Napi::Number::New(info.Env(), ring->RecvMultishot(id, fd, limit));
}

// multishotLimit(): whether recvMultishot takes a byte limit on this kernel.
Napi::Value MultishotLimitOp(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), MultishotLimit());
}

// setupBuffers(ring, count, size, slab): `count` (a power of two up to 32768) provided buffers of
// `size` bytes (up to 1 MiB) for multishot receives, whose bytes each wait copies into `slab`, an
// ArrayBuffer of at least `size` bytes: 0 or -errno (EOPNOTSUPP: the kernel is older than 6.0).
Napi::Value SetupBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UringPoller* ring = RingArg(info);
  unsigned count = static_cast<unsigned>(IntArg(info, 1, "count", 1, 32768));
  if ((count & (count - 1)) != 0)
    ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                   "The \"count\" argument must be a power of two. Received " + std::to_string(count),
                   ErrorKind::TypeError);
  unsigned size = static_cast<unsigned>(IntArg(info, 2, "size", 1, 1 << 20));
  ByteView slab = ArrayBufferArg(info, 3, "slab");
  if (slab.length < size)
    ThrowCodeError(env, "ERR_OUT_OF_RANGE",
                   "The \"slab\" argument must hold at least one buffer (" + std::to_string(size) +
                       " bytes). Received " + std::to_string(slab.length) + " bytes",
                   ErrorKind::RangeError);
  napi_ref ref = nullptr;
  if (napi_create_reference(env, info[3], 1, &ref) != napi_ok)
    ThrowCodeError(env, "ERR_INVALID_STATE", "could not hold the slab");
  int r = ring->SetupBuffers(count, size, ref);
  if (r < 0) napi_delete_reference(env, ref);
  return Napi::Number::New(env, r);
}

// watchClose(ring, id, fd): an operation that ends (-ECANCELED) only when cancelled, by cancel(),
// close(fd) or the ring's close: 0 or -errno (EBADF: fd is not open).
Napi::Value WatchCloseOp(const Napi::CallbackInfo& info) {
  UringPoller* ring = RingArg(info);
  int32_t id = NewIdArg(info, ring);
  int fd = FdArgAt2(info);
  return Napi::Number::New(info.Env(), ring->WatchClose(id, fd));
}

// cancel(ring, id): 0, -ENOENT (not in flight) or -EALREADY (asked before).
Napi::Value CancelOp(const Napi::CallbackInfo& info) {
  UringPoller* ring = RingArg(info);
  int32_t id = static_cast<int32_t>(IntArg(info, 1, "id", 1, INT32_MAX));
  return Napi::Number::New(info.Env(), ring->Cancel(id));
}

// submit(ring): hands queued requests to the kernel without waiting; the count or -errno.
Napi::Value SubmitOp(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), RingArg(info)->Submit()); }

// setCompletions(ring, out): the Int32Array each wait fills with [count, (id, res, flags)...].
Napi::Value SetCompletions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  UringPoller* ring = RingArg(info);
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    ThrowCodeError(env, "ERR_INVALID_ARG_TYPE",
                   "The \"out\" argument must be an Int32Array. Received " +
                       DescribeValue(info.Length() < 2 ? env.Undefined() : info[1]),
                   ErrorKind::TypeError);
  if (info[1].As<Napi::TypedArray>().ElementLength() < 4)
    ThrowCodeError(env, "ERR_OUT_OF_RANGE", "The \"out\" array must hold a count and at least one completion",
                   ErrorKind::RangeError);
  napi_ref ref = nullptr;
  if (napi_create_reference(env, info[1], 1, &ref) != napi_ok)
    ThrowCodeError(env, "ERR_INVALID_STATE", "could not hold the array");
  ring->SetCompletions(ref);
  return env.Undefined();
}

// takeAddressInto(ring, id, out): writes the sender of a recvmsg completion (once) into out as
// acceptInto writes an address (native/sockaddr.h), with length 0 when there is none; lib/sockio.ts
// reads it. Building the [host, port] array here would cost about 2,000 instructions per datagram.
Napi::Value TakeAddressInto(const Napi::CallbackInfo& info) {
  UringPoller* ring = RingArg(info);
  int32_t id = static_cast<int32_t>(IntArg(info, 1, "id", 1, INT32_MAX));
  Int32View out = SockaddrOutArg(info, 2);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = 0;
  if (!ring->TakeAddress(id, &ss, &len)) len = 0;
  WriteSockaddr(out, ss, len);
  return info.Env().Undefined();
}

// inflight(ring): operations whose last completion the kernel has not posted yet.
Napi::Value InFlight(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(RingArg(info)->InFlight()));
}

// probe(): "" when a ring with every operation the loop uses can be set up here, else why not.
Napi::Value Probe(const Napi::CallbackInfo& info) {
  io_uring ring;
  int r = io_uring_queue_init(4, &ring, 0);
  if (r < 0) return Napi::String::New(info.Env(), SetupFailure(-r));
  std::string reason = RingShortcoming(ring);
  io_uring_queue_exit(&ring);
  return Napi::String::New(info.Env(), reason);
}

}  // namespace

void InitUring(Napi::Env env, Napi::Object exports) {
  Napi::Object uring = Napi::Object::New(env);
  uring.Set("compiled", Napi::Boolean::New(env, true));
  struct {
    const char* name;
    Napi::Function::Callback fn;
  } functions[] = {
      {"probe", Probe},
      {"accept", AcceptOp},
      {"recv", TransferOp<static_cast<int>(OpKind::Recv)>},
      {"send", TransferOp<static_cast<int>(OpKind::Send)>},
      {"recvmsg", TransferOp<static_cast<int>(OpKind::RecvMsg)>},
      {"sendmsg", SendMsgOp},
      {"connect", ConnectOp},
      {"setupBuffers", SetupBuffers},
      {"recvMultishot", RecvMultishotOp},
      {"multishotLimit", MultishotLimitOp},
      {"watchClose", WatchCloseOp},
      {"cancel", CancelOp},
      {"submit", SubmitOp},
      {"setCompletions", SetCompletions},
      {"takeAddressInto", TakeAddressInto},
      {"inflight", InFlight},
      {"ringId", RingId},
  };
  // With the AddonData as their data: RingArg finds a ring id there.
  AddonData* data = Data(env);
  for (auto& f : functions) uring.Set(f.name, Napi::Function::New(env, f.fn, f.name, data));
  exports.Set("uring", uring);
}

#else  // no liburing in this build

namespace {
const char kNotBuilt[] =
    "this build has no io_uring support: liburing was not found (pkg-config liburing) when the addon was built";
}

std::unique_ptr<Poller> CreateUringPoller(Napi::Env, unsigned, std::string* reason) {
  *reason = kNotBuilt;
  return nullptr;
}

void CancelRingOpsOnFd(AddonData*, int) {}
void CloseAllRings(AddonData*) {}

void InitUring(Napi::Env env, Napi::Object exports) {
  Napi::Object uring = Napi::Object::New(env);
  uring.Set("compiled", Napi::Boolean::New(env, false));
  uring.Set("probe",
            Napi::Function::New(
                env, [](const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kNotBuilt); }, "probe"));
  exports.Set("uring", uring);
}

#endif

}  // namespace ns
