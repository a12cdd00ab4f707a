// backend_epoll.cc — Linux epoll: the Poller backend and the low-level `epoll` exports
// (create, ctl, wait). Compiled to stubs where NS_HAVE_EPOLL is not defined.
#include <errno.h>

#include "backend.h"
#include "exports.h"

#ifdef NS_HAVE_EPOLL

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "args.h"
#include "errors.h"
#include "state.h"
#include "wait.h"

namespace ns {

namespace {

// epoll_wait, resuming after EINTR with the time left (wait.h). Returns the count or -errno.
int EpollWaitRetrying(int epfd, epoll_event* events, int maxEvents, int timeoutMs) {
  return WaitRetrying(timeoutMs, [&](int ms) { return epoll_wait(epfd, events, maxEvents, ms); });
}

// Python's rule: any bit but IN counts as WRITE, any bit but OUT counts as READ, so HUP and ERR
// report both; the caller's interest then masks the result.
inline unsigned EpollToBits(uint32_t ev) {
  unsigned bits = 0;
  if (ev & ~static_cast<uint32_t>(EPOLLIN)) bits |= kWrite;
  if (ev & ~static_cast<uint32_t>(EPOLLOUT)) bits |= kRead;
  return bits;
}

inline uint32_t BitsToEpoll(unsigned interest) {
  uint32_t ev = 0;
  if (interest & kRead) ev |= EPOLLIN;
  if (interest & kWrite) ev |= EPOLLOUT;
  return ev;
}

class EpollPoller;

// The live epoll Pollers of this thread (each environment has its own thread, and a Poller is used
// only on its own), for NoteFdClosedInEpolls.
thread_local std::vector<EpollPoller*> liveEpollPollers;

class EpollPoller final : public Poller {
 public:
  explicit EpollPoller(int epfd) : epfd_(epfd) { liveEpollPollers.push_back(this); }
  ~EpollPoller() override {
    Close();
    liveEpollPollers.erase(std::remove(liveEpollPollers.begin(), liveEpollPollers.end(), this), liveEpollPollers.end());
  }

  int Fileno() const override { return epfd_; }

  int Add(int fd, unsigned interest) override {
    // A registration whose fd was closed since is gone from the kernel's set: this is a new file.
    if (StateOf(fd) == kClosed) Forget(fd);
    int r = Ctl(EPOLL_CTL_ADD, fd, interest, +1);
    if (r == 0) SetState(fd, kRegistered);
    return r;
  }
  int Modify(int fd, unsigned, unsigned interest) override { return Ctl(EPOLL_CTL_MOD, fd, interest, 0); }
  int Remove(int fd, unsigned) override {
    if (epfd_ < 0) return -EBADF;
    if (StateOf(fd) == kClosed) {
      // Closed through this addon while registered: closing the last reference took it out of
      // the set, and EPOLL_CTL_DEL by number could only fail (EBADF), or reach whatever file has
      // the number now. (With a dup of the fd still open the kernel keeps the registration, and
      // no DEL by this number could remove it either.) A loop whose sock* caller closed the
      // socket saves one failing syscall per connection here.
      Forget(fd);
      return -EBADF;
    }
    SetState(fd, kNone);
    epoll_event ev{};  // non-null for kernels before 2.6.9
    if (epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev) < 0) {
      int err = errno;
      // The fd may have been closed (ENOENT/EBADF): the registration is gone either way.
      if (registered_ > 0) --registered_;
      return -err;
    }
    if (registered_ > 0) --registered_;
    return 0;
  }

  // close() of a registered fd through this addon is about to happen (NoteFdClosedInEpolls).
  void NoteClosed(int fd) {
    if (StateOf(fd) == kRegistered) SetState(fd, kClosed);
  }

  int Wait(int32_t* out, size_t capacity, int timeoutMs) override {
    if (epfd_ < 0) return -EBADF;
    woken_ = false;
    if (capacity == 0) return -EINVAL;
    // Python's max_ev: one slot per registered fd (and one for the wake fd), so every ready fd
    // comes back in one call.
    size_t want = registered_ == 0 ? 1 : registered_;
    if (want > capacity) want = capacity;
    if (wakeFd_ >= 0) ++want;
    if (events_.size() < want) events_.resize(want);
    int n = EpollWaitRetrying(epfd_, events_.data(), static_cast<int>(want), timeoutMs);
    int count = 0;
    for (int i = 0; i < n; ++i) {
      uint64_t data = events_[i].data.u64;
      if (data == kWakeData) {
        woken_ = true;
        continue;
      }
      if (static_cast<size_t>(count) == capacity) break;  // only with the wake fd not ready
      unsigned interest = static_cast<unsigned>(data >> 32);
      out[2 * count] = static_cast<int32_t>(data & 0xffffffffu);
      out[2 * count + 1] = static_cast<int32_t>(EpollToBits(events_[i].events) & interest);
      ++count;
    }
    return n < 0 ? n : count;
  }

  // An epoll fd can be watched by another epoll: libuv's epoll fd is readable while it has ready
  // events. It is told apart by its user data (a registered fd carries interest 1..3 up there).
  int SetWakeFd(int fd) override {
    if (epfd_ < 0) return -EBADF;
    if (wakeFd_ >= 0) {
      epoll_event ev{};
      epoll_ctl(epfd_, EPOLL_CTL_DEL, wakeFd_, &ev);  // a closed fd is gone from the set anyway
      wakeFd_ = -1;
    }
    if (fd < 0) return 0;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeData;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
    wakeFd_ = fd;
    return 0;
  }

  int Close() override {
    if (epfd_ < 0) return 0;
    int err = CloseFd(epfd_);
    epfd_ = -1;
    wakeFd_ = -1;
    states_.clear();
    registered_ = 0;
    return -err;
  }

 private:
  static constexpr uint64_t kWakeData = ~static_cast<uint64_t>(0);
  // What this Poller knows of an fd number: not registered, registered, or registered and then
  // closed through this addon (NoteClosed).
  static constexpr uint8_t kNone = 0;
  static constexpr uint8_t kRegistered = 1;
  static constexpr uint8_t kClosed = 2;

  uint8_t StateOf(int fd) const {
    return static_cast<size_t>(fd) < states_.size() ? states_[static_cast<size_t>(fd)] : kNone;
  }
  void SetState(int fd, uint8_t state) {
    size_t at = static_cast<size_t>(fd);
    if (at >= states_.size()) {
      if (state == kNone) return;
      states_.resize(at + 1 > 2 * states_.size() ? at + 1 : 2 * states_.size(), kNone);
    }
    states_[at] = state;
  }
  // Drops a closed fd's registration from the count, with no syscall.
  void Forget(int fd) {
    SetState(fd, kNone);
    if (registered_ > 0) --registered_;
  }

  int Ctl(int op, int fd, unsigned interest, int delta) {
    if (epfd_ < 0) return -EBADF;
    epoll_event ev{};
    ev.events = BitsToEpoll(interest);
    // The interest rides in the upper half of the user data so Wait can mask without a lookup.
    ev.data.u64 = static_cast<uint64_t>(static_cast<uint32_t>(fd)) | (static_cast<uint64_t>(interest) << 32);
    if (epoll_ctl(epfd_, op, fd, &ev) < 0) return -errno;
    registered_ += delta;
    return 0;
  }

  int epfd_;
  int wakeFd_ = -1;
  size_t registered_ = 0;
  std::vector<epoll_event> events_;
  // Indexed by fd number (fds are small and dense): kNone, kRegistered or kClosed.
  std::vector<uint8_t> states_;
};

Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) ThrowSystemError(env, errno, "epoll_create1");
  TrackFd(env, fd);
  return Napi::Number::New(env, fd);
}

Napi::Value Ctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = FdArg(info, 0, "epfd");
  int op = static_cast<int>(IntArg(info, 1, "op", 1, 3));
  int fd = FdArg(info, 2, "fd");
  // Either sign: JavaScript's `EPOLLIN | EPOLLET` is a negative int32 with the same bits.
  int64_t events = OptionalIntArg(info, 3, "events", INT32_MIN, 0xffffffffLL, 0);
  epoll_event ev{};
  ev.events = static_cast<uint32_t>(events);
  ev.data.u64 = static_cast<uint32_t>(fd);
  if (epoll_ctl(epfd, op, fd, &ev) < 0) ThrowSystemError(env, errno, "epoll_ctl");
  return env.Undefined();
}

// wait(epfd, out, timeoutMs): fills (fd, events) pairs into out; returns the count or -errno.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int epfd = FdArg(info, 0, "epfd");
  Int32View out = Int32ArrayArg(info, 1, "out");
  int timeoutMs = TimeoutArg(info, 2);
  size_t maxEvents = out.length / 2;
  if (maxEvents == 0)
    ThrowCodeError(env, "ERR_OUT_OF_RANGE", "The \"out\" array must hold at least one (fd, events) pair",
                   ErrorKind::RangeError);
  if (maxEvents > 1u << 20) maxEvents = 1u << 20;
  // Up to 256 events go through the stack; a larger request uses a heap buffer.
  epoll_event stackEvents[256];
  std::vector<epoll_event> heapEvents;
  epoll_event* events = stackEvents;
  if (maxEvents > 256) {
    heapEvents.resize(maxEvents);
    events = heapEvents.data();
  }
  int n = EpollWaitRetrying(epfd, events, static_cast<int>(maxEvents), timeoutMs);
  for (int i = 0; i < n; ++i) {
    out.data[2 * i] = static_cast<int32_t>(events[i].data.u64 & 0xffffffffu);
    out.data[2 * i + 1] = static_cast<int32_t>(events[i].events);
  }
  return Napi::Number::New(env, n);
}

}  // namespace

bool HaveEpoll() { return true; }

void NoteFdClosedInEpolls(int fd) {
  for (EpollPoller* poller : liveEpollPollers) poller->NoteClosed(fd);
}

std::unique_ptr<Poller> CreateEpollPoller(int* err) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return nullptr;
  }
  return std::make_unique<EpollPoller>(fd);
}

Napi::Value InitEpollExports(Napi::Env env) {
  Napi::Object epoll = Napi::Object::New(env);
  epoll.Set("create", Napi::Function::New(env, Create, "create"));
  epoll.Set("ctl", Napi::Function::New(env, Ctl, "ctl"));
  epoll.Set("wait", Napi::Function::New(env, Wait, "wait"));
  struct {
    const char* name;
    uint32_t value;
  } constants[] = {
      {"EPOLLIN", EPOLLIN},
      {"EPOLLOUT", EPOLLOUT},
      {"EPOLLPRI", EPOLLPRI},
      {"EPOLLRDHUP", EPOLLRDHUP},
      {"EPOLLERR", EPOLLERR},
      {"EPOLLHUP", EPOLLHUP},
      {"EPOLLET", EPOLLET},
      {"EPOLLONESHOT", EPOLLONESHOT},
      {"EPOLLEXCLUSIVE", EPOLLEXCLUSIVE},
      {"EPOLL_CTL_ADD", EPOLL_CTL_ADD},
      {"EPOLL_CTL_MOD", EPOLL_CTL_MOD},
      {"EPOLL_CTL_DEL", EPOLL_CTL_DEL},
      {"EPOLL_CLOEXEC", EPOLL_CLOEXEC},
  };
  for (auto& c : constants) epoll.Set(c.name, Napi::Number::New(env, c.value));
  return epoll;
}

}  // namespace ns

#else  // !NS_HAVE_EPOLL

namespace ns {
bool HaveEpoll() { return false; }
void NoteFdClosedInEpolls(int) {}
std::unique_ptr<Poller> CreateEpollPoller(int* err) {
  *err = ENOSYS;
  return nullptr;
}
Napi::Value InitEpollExports(Napi::Env env) { return env.Undefined(); }
}  // namespace ns

#endif
