// backend_kqueue.cc — kqueue (macOS, the BSDs, or libkqueue on Linux): the Poller backend and the
// low-level `kqueue` exports (create, kevent). Compiled to stubs where NS_HAVE_KQUEUE is not set.
//
// kqueue filters are separate registrations, not a bitmask: READ interest is one EVFILT_READ
// knote and WRITE another, so Add/Modify/Remove translate Python's bits into filter changes, and
// Wait merges the two filters' events for one fd into a single (fd, bits) pair.
//
// libkqueue (Linux) must be told of a close before it happens (its BUGS.md: "Applications should
// ensure that file descriptors are removed from the kqueue before they are closed"). It keeps an
// fd's filters in one epoll registration, which the kernel keys by the open file and removes only
// when the last fd on that file closes. If an fd is closed while registered and its file lives on
// (a dup), the EV_DELETE that follows fails in epoll_ctl (EBADF, or ENOENT once the number is
// reused); epoll_update() then frees the fd_state and its udata all the same, while the epoll
// registration it could not remove goes on reporting the file's readiness with that freed udata:
// linux_kevent_copyout() reads freed memory and crashes (or reports garbage) in a later kevent().
// So close() first deletes the fd from this thread's kqueue Pollers (ForgetFdInKqueues), as the
// BSD kernels do on close themselves.
#include <errno.h>

#include "backend.h"
#include "exports.h"

#ifdef NS_HAVE_KQUEUE

#include <sys/event.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "args.h"
#include "errors.h"
#include "state.h"
#include "wait.h"

namespace ns {

namespace {

// One entry of the JavaScript-side kevent layout: six int32 per event.
constexpr size_t kStride = 6;  // ident, filter, flags, fflags, data, udata

// The most events one kevent() call returns. libkqueue (kqueue on Linux) caps a call at 512
// (MAX_KEVENT); the BSDs return as many as the list holds.
#ifdef __linux__
constexpr size_t kMaxPerCall = 512;
#else
constexpr size_t kMaxPerCall = static_cast<size_t>(INT32_MAX);
#endif

void ToTimespec(int timeoutMs, timespec* ts) {
  ts->tv_sec = timeoutMs / 1000;
  ts->tv_nsec = static_cast<long>(timeoutMs % 1000) * 1000000L;
}

// kevent, resuming after EINTR with the time left (wait.h). Returns the count or -errno. Changes
// are submitted once only: after an EINTR the kernel has already applied them, so a retry only
// waits.
int KeventRetrying(int kq, const struct kevent* changes, int nchanges, struct kevent* events, int nevents,
                   int timeoutMs) {
  return WaitRetrying(timeoutMs, [&](int ms) {
    timespec ts;
    timespec* tsp = nullptr;
    if (ms >= 0) {
      ToTimespec(ms, &ts);
      tsp = &ts;
    }
    int n = kevent(kq, changes, nchanges, events, nevents, tsp);
    changes = nullptr;  // leaves errno as kevent set it
    nchanges = 0;
    return n;
  });
}

class KqueuePoller;

#ifdef __linux__
// The live kqueue Pollers of this thread (each environment has its own thread, and a Poller is used
// only on its own), for ForgetFdInKqueues.
thread_local std::vector<KqueuePoller*> livePollers;
#endif

class KqueuePoller final : public Poller {
 public:
  explicit KqueuePoller(int kq) : kq_(kq) {
#ifdef __linux__
    livePollers.push_back(this);
#endif
  }
  ~KqueuePoller() override {
    Close();
#ifdef __linux__
    livePollers.erase(std::remove(livePollers.begin(), livePollers.end(), this), livePollers.end());
#endif
  }

  int Fileno() const override { return kq_; }

  int Add(int fd, unsigned interest) override { return Apply(fd, 0, interest); }

  int Modify(int fd, unsigned oldInterest, unsigned interest) override { return Apply(fd, oldInterest, interest); }

  int Remove(int fd, unsigned oldInterest) override {
    if (kq_ < 0) return -EBADF;
    // Delete each filter on its own: a closed fd's knotes are already gone (ENOENT/EBADF), and the
    // registration is removed either way.
    int first = 0;
    for (unsigned bit : {kRead, kWrite}) {
      if (!(oldInterest & bit)) continue;
      int r = Change(fd, bit, EV_DELETE);
      if (r < 0 && first == 0) first = r;
    }
    SetInterest(fd, Interest(fd) & ~oldInterest);
    return first;
  }

  // Deletes fd's filters while fd is still open (see the file's header); the later Remove finds
  // no knotes (ENOENT, without touching epoll).
  void Forget(int fd) {
    unsigned held = Interest(fd);
    if (kq_ < 0 || held == 0) return;
    for (unsigned bit : {kRead, kWrite})
      if (held & bit) Change(fd, bit, EV_DELETE);
    SetInterest(fd, 0);
  }

  int Wait(int32_t* out, size_t capacity, int timeoutMs) override {
    if (kq_ < 0) return -EBADF;
    woken_ = false;
    size_t want = (registered_ == 0 ? 1 : 2 * registered_) + (wakeFd_ >= 0 ? 1 : 0);
    size_t asked = want < kMaxPerCall ? want : kMaxPerCall;
    if (events_.size() < asked) events_.resize(asked);
    int n = KeventRetrying(kq_, nullptr, 0, events_.data(), static_cast<int>(asked), timeoutMs);
    if (n <= 0) return n;
    size_t count = 0;
    ++stamp_;
    for (;;) {
      size_t before = count;
      Merge(n, out, capacity, &count);
      // A full answer may not be all that is ready (libkqueue caps each call): ask again without
      // waiting until a call brings nothing new. Level-triggered knotes come back in turn, and
      // a repeat only ORs its bits into the fd's pair, so this ends.
      if (static_cast<size_t>(n) < asked || count >= capacity || count == before) break;
      n = KeventRetrying(kq_, nullptr, 0, events_.data(), static_cast<int>(asked), 0);
      if (n <= 0) break;
    }
    return static_cast<int>(count);
  }

  // A kqueue can watch libuv's backend fd with EVFILT_READ: another kqueue on macOS and the BSDs
  // (readable while it has pending events), an epoll fd through libkqueue on Linux.
  int SetWakeFd(int fd) override {
    if (kq_ < 0) return -EBADF;
    struct kevent change;
    if (wakeFd_ >= 0) {
      EV_SET(&change, wakeFd_, EVFILT_READ, EV_DELETE, 0, 0, 0);
      KeventRetrying(kq_, &change, 1, nullptr, 0, 0);  // a closed fd's knote is gone anyway
      wakeFd_ = -1;
    }
    if (fd < 0) return 0;
    if (fd == kq_) return -EINVAL;
    EV_SET(&change, fd, EVFILT_READ, EV_ADD, 0, 0, 0);
    int r = KeventRetrying(kq_, &change, 1, nullptr, 0, 0);
    if (r < 0) return r;
    wakeFd_ = fd;
    return 0;
  }

  int Close() override {
    if (kq_ < 0) return 0;
    int err = CloseFd(kq_);
    kq_ = -1;
    wakeFd_ = -1;
    interest_.clear();
    registered_ = 0;
    return -err;
  }

 private:
  // One filter change (EV_ADD or EV_DELETE) for fd's READ or WRITE bit; 0 or -errno.
  int Change(int fd, unsigned bit, unsigned short flags) {
    struct kevent change;
    EV_SET(&change, fd, bit == kRead ? EVFILT_READ : EVFILT_WRITE, flags, 0, 0, 0);
    return KeventRetrying(kq_, &change, 1, nullptr, 0, 0);
  }

  // Adds the filters in `interest` but not in `old`, deletes those in `old` but not in `interest`.
  // If an add fails, the adds already made by this call are rolled back.
  int Apply(int fd, unsigned old, unsigned interest) {
    if (kq_ < 0) return -EBADF;
    // A kqueue cannot watch itself: the BSDs refuse with EINVAL (as epoll does), libkqueue would
    // accept its own pipe end, which never reports anything.
    if (fd == kq_ && (interest & ~old) != 0) return -EINVAL;
    unsigned added = 0;
    for (unsigned bit : {kRead, kWrite}) {
      if ((interest & bit) && !(old & bit)) {
        int r = Change(fd, bit, EV_ADD);
        if (r < 0) {
          for (unsigned undo : {kRead, kWrite})
            if (added & undo) Change(fd, undo, EV_DELETE);
          return r;
        }
        added |= bit;
        SetInterest(fd, Interest(fd) | bit);
      }
    }
    for (unsigned bit : {kRead, kWrite}) {
      if ((old & bit) && !(interest & bit)) {
        int r = Change(fd, bit, EV_DELETE);
        SetInterest(fd, Interest(fd) & ~bit);
        if (r < 0) return r;
      }
    }
    return 0;
  }

  // The filters this Poller holds for fd (kRead | kWrite), and their bookkeeping: registered_
  // counts the fds holding any, for the size of Wait's event list.
  unsigned Interest(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < interest_.size() ? interest_[static_cast<size_t>(fd)] : 0;
  }
  void SetInterest(int fd, unsigned bits) {
    if (fd < 0) return;
    size_t ufd = static_cast<size_t>(fd);
    if (ufd >= interest_.size()) {
      if (bits == 0) return;
      interest_.resize(ufd + 1, 0);
    }
    if (interest_[ufd] == 0 && bits != 0) ++registered_;
    if (interest_[ufd] != 0 && bits == 0) --registered_;
    interest_[ufd] = static_cast<uint8_t>(bits);
  }

  // Folds n events from events_ into out's (fd, bits) pairs: one pair per fd per Wait (stamp_),
  // the READ and WRITE filters' bits merged.
  void Merge(int n, int32_t* out, size_t capacity, size_t* count) {
    for (int i = 0; i < n; ++i) {
      const struct kevent& ev = events_[i];
      if (ev.flags & EV_ERROR) continue;
      int fd = static_cast<int>(ev.ident);
      if (fd == wakeFd_ && ev.filter == EVFILT_READ) {
        woken_ = true;
        continue;
      }
      unsigned bits = ev.filter == EVFILT_READ ? kRead : ev.filter == EVFILT_WRITE ? kWrite : 0;
      if (bits == 0 || fd < 0) continue;
      size_t ufd = static_cast<size_t>(fd);
      if (ufd >= seen_.size()) seen_.resize(ufd + 1, SeenSlot{0, 0});
      if (seen_[ufd].stamp == stamp_) {
        out[2 * seen_[ufd].slot + 1] |= static_cast<int32_t>(bits);
        continue;
      }
      if (*count >= capacity) continue;
      seen_[ufd] = SeenSlot{stamp_, static_cast<uint32_t>(*count)};
      out[2 * *count] = fd;
      out[2 * *count + 1] = static_cast<int32_t>(bits);
      ++*count;
    }
  }

  struct SeenSlot {
    uint32_t stamp;
    uint32_t slot;
  };

  int kq_;
  int wakeFd_ = -1;
  size_t registered_ = 0;
  uint32_t stamp_ = 0;
  std::vector<struct kevent> events_;
  std::vector<SeenSlot> seen_;
  std::vector<uint8_t> interest_;  // by fd: kRead | kWrite
};

Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int kq = kqueue();
  if (kq < 0) ThrowSystemError(env, errno, "kqueue");
  if (int err = SetNonBlockCloexec(kq, false)) {
    CloseFd(kq);
    ThrowSystemError(env, err, "fcntl");
  }
  TrackFd(env, kq);
  return Napi::Number::New(env, kq);
}

#ifdef __linux__
// kevent() with the BSD semantics on top of libkqueue, which differs in two ways: an fd that is
// not a kqueue gives ENOENT (the BSDs: EBADF), and a failed change (or an EV_RECEIPT) is reported
// in the event list only when it fills the list; otherwise the following wait overwrites the
// count and the EV_ERROR entry is lost. So each change is applied on its own with no event list,
// its outcome placed in the list here, and, as the BSDs do, a call that reports any change
// returns at once without waiting; with no room for an error the call fails with it.
int LibkqueueKevent(int kq, std::vector<struct kevent>& changes, std::vector<struct kevent>& events, int timeoutMs) {
  // libkqueue reads its fd map before any kqueue() has set it up, so kevent() on any fd crashes
  // until the process has made one kqueue: the library is readied once, process-wide.
  static std::once_flag ready;
  std::call_once(ready, [] {
    int q = kqueue();
    if (q >= 0) close(q);
  });
  timespec zero{0, 0};
  if (kevent(kq, nullptr, 0, nullptr, 0, &zero) < 0) return errno == ENOENT ? -EBADF : -errno;
  size_t reported = 0;
  for (struct kevent& change : changes) {
    // Without an event list libkqueue fails an EV_RECEIPT change; the receipt is made here.
    struct kevent submit = change;
    submit.flags &= static_cast<unsigned short>(~EV_RECEIPT);
    int err = kevent(kq, &submit, 1, nullptr, 0, &zero) < 0 ? errno : 0;
    if (err == 0 && !(change.flags & EV_RECEIPT)) continue;
    if (reported == events.size()) {
      if (err != 0) return -err;
      continue;
    }
    events[reported] = change;
    events[reported].flags |= EV_ERROR;
    events[reported].data = err;
    ++reported;
  }
  if (reported > 0 || events.empty()) return static_cast<int>(reported);
  return KeventRetrying(kq, nullptr, 0, events.data(), static_cast<int>(events.size()), timeoutMs);
}
#endif

// kevent(kq, changes, out, timeoutMs): changes and out are Int32Arrays of six-int entries
// (ident, filter, flags, fflags, data, udata), either may be null. Returns the number of events
// written to out, or -errno. `data` is clamped to the int32 range.
Napi::Value Kevent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int kq = FdArg(info, 0, "kq");
  Int32View changes{nullptr, 0};
  Int32View out{nullptr, 0};
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) changes = Int32ArrayArg(info, 1, "changes");
  if (info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined()) out = Int32ArrayArg(info, 2, "out");
  int timeoutMs = TimeoutArg(info, 3);
  if (changes.length % kStride != 0 || out.length % kStride != 0)
    ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                   "kevent arrays hold six int32 per entry (ident, filter, flags, fflags, data, udata)",
                   ErrorKind::TypeError);
  size_t nchanges = changes.length / kStride;
  size_t nevents = out.length / kStride;
  if (nchanges > 65536 || nevents > 65536)
    ThrowCodeError(env, "ERR_OUT_OF_RANGE", "at most 65536 kevent entries per call", ErrorKind::RangeError);
  std::vector<struct kevent> changeList(nchanges);
  for (size_t i = 0; i < nchanges; ++i) {
    const int32_t* c = changes.data + kStride * i;
    if (c[0] < 0) ThrowCodeError(env, "ERR_OUT_OF_RANGE", "kevent ident must be >= 0", ErrorKind::RangeError);
    EV_SET(&changeList[i], static_cast<uintptr_t>(c[0]), static_cast<short>(c[1]), static_cast<unsigned short>(c[2]),
           static_cast<unsigned>(c[3]), static_cast<intptr_t>(c[4]),
           reinterpret_cast<void*>(static_cast<intptr_t>(c[5])));
  }
  std::vector<struct kevent> eventList(nevents);
#ifdef __linux__
  int n = LibkqueueKevent(kq, changeList, eventList, timeoutMs);
#else
  int n = KeventRetrying(kq, changeList.data(), static_cast<int>(nchanges), eventList.data(), static_cast<int>(nevents),
                         timeoutMs);
#endif
  for (int i = 0; i < n; ++i) {
    const struct kevent& ev = eventList[i];
    int32_t* o = out.data + kStride * i;
    intptr_t data = ev.data;
    o[0] = static_cast<int32_t>(ev.ident);
    o[1] = ev.filter;
    o[2] = ev.flags;
    o[3] = static_cast<int32_t>(ev.fflags);
    o[4] = data > INT32_MAX ? INT32_MAX : data < INT32_MIN ? INT32_MIN : static_cast<int32_t>(data);
    o[5] = static_cast<int32_t>(reinterpret_cast<intptr_t>(ev.udata));
  }
  return Napi::Number::New(env, n);
}

}  // namespace

bool HaveKqueue() { return true; }

void ForgetFdInKqueues(int fd) {
#ifdef __linux__
  for (KqueuePoller* poller : livePollers) poller->Forget(fd);
#else
  (void)fd;
#endif
}

std::unique_ptr<Poller> CreateKqueuePoller(int* err) {
  int kq = kqueue();
  if (kq < 0) {
    *err = errno;
    return nullptr;
  }
  if (int e = SetNonBlockCloexec(kq, false)) {
    CloseFd(kq);
    *err = e;
    return nullptr;
  }
  return std::make_unique<KqueuePoller>(kq);
}

Napi::Value InitKqueueExports(Napi::Env env) {
  Napi::Object kq = Napi::Object::New(env);
  kq.Set("create", Napi::Function::New(env, Create, "create"));
  kq.Set("kevent", Napi::Function::New(env, Kevent, "kevent"));
  struct {
    const char* name;
    int64_t value;
  } constants[] = {
      {"EVFILT_READ", EVFILT_READ},
      {"EVFILT_WRITE", EVFILT_WRITE},
      {"EVFILT_SIGNAL", EVFILT_SIGNAL},
      {"EVFILT_TIMER", EVFILT_TIMER},
      {"EVFILT_USER", EVFILT_USER},
      {"EV_ADD", EV_ADD},
      {"EV_DELETE", EV_DELETE},
      {"EV_ENABLE", EV_ENABLE},
      {"EV_DISABLE", EV_DISABLE},
      {"EV_ONESHOT", EV_ONESHOT},
      {"EV_CLEAR", EV_CLEAR},
      {"EV_RECEIPT", EV_RECEIPT},
      {"EV_DISPATCH", EV_DISPATCH},
      {"EV_EOF", EV_EOF},
      {"EV_ERROR", EV_ERROR},
      {"NOTE_TRIGGER", NOTE_TRIGGER},
      {"NOTE_FFNOP", NOTE_FFNOP},
      {"NOTE_FFAND", NOTE_FFAND},
      {"NOTE_FFOR", NOTE_FFOR},
      {"NOTE_FFCOPY", NOTE_FFCOPY},
      {"NOTE_FFCTRLMASK", NOTE_FFCTRLMASK},
      {"NOTE_FFLAGSMASK", NOTE_FFLAGSMASK},
      {"STRIDE", static_cast<int64_t>(kStride)},
  };
  for (auto& c : constants) kq.Set(c.name, Napi::Number::New(env, static_cast<double>(c.value)));
  return kq;
}

}  // namespace ns

#else  // !NS_HAVE_KQUEUE

namespace ns {
bool HaveKqueue() { return false; }
void ForgetFdInKqueues(int) {}
std::unique_ptr<Poller> CreateKqueuePoller(int* err) {
  *err = ENOSYS;
  return nullptr;
}
Napi::Value InitKqueueExports(Napi::Env env) { return env.Undefined(); }
}  // namespace ns

#endif
