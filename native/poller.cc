// poller.cc — the `Poller` class exported to JavaScript: one backend instance (epoll, kqueue or
// poll) behind the contract in backend.h. The selectors layer drives it; its finalizer closes the
// kernel object of a Poller that was dropped without close().
#include <errno.h>

#include <memory>
#include <string>

#include "args.h"
#include "backend.h"
#include "errors.h"
#include "exports.h"
#include "owned.h"
#include "receiver.h"
#include "state.h"
#include "uring.h"

namespace ns {

namespace {

class PollerWrap final : public Napi::ObjectWrap<PollerWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function ctor = DefineClass(env, "Poller",
                                      {
                                          InstanceMethod<&PollerWrap::Add>("add"),
                                          InstanceMethod<&PollerWrap::Modify>("modify"),
                                          InstanceMethod<&PollerWrap::Remove>("remove"),
                                          InstanceMethod<&PollerWrap::Wait>("wait"),
                                          InstanceMethod<&PollerWrap::Close>("close"),
                                          InstanceMethod<&PollerWrap::Fileno>("fileno"),
                                      });
    DefinePrototypeGetter<&PollerWrap::Kind>(ctor, "kind");
    return ctor;
  }

  explicit PollerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PollerWrap>(info) {
    TagInstance(info, &kTypeTag);
    Napi::Env env = info.Env();
    std::string kind = StringArg(info, 0, "kind");
    int err = 0;
    if (kind == "epoll") {
      poller_ = CreateEpollPoller(&err);
      syscall_ = "epoll_ctl";
    } else if (kind == "kqueue") {
      poller_ = CreateKqueuePoller(&err);
      syscall_ = "kevent";
    } else if (kind == "poll") {
      poller_ = CreatePollPoller(&err);
      syscall_ = "poll";
    } else if (kind == "uring") {
      // new Poller('uring', entries?): the io_uring ring (uring.cc), 256 submission slots unless given.
      unsigned entries = static_cast<unsigned>(OptionalIntArg(info, 1, "entries", 1, 32768, 256));
      std::string reason;
      poller_ = CreateUringPoller(env, entries, &reason);
      if (!poller_) ThrowCodeError(env, "ERR_BACKEND_UNAVAILABLE", "io_uring is not available: " + reason);
      syscall_ = "io_uring_enter";
    } else {
      ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                     "The \"kind\" argument must be 'epoll', 'kqueue', 'poll' or 'uring'. Received '" + kind + "'",
                     ErrorKind::TypeError);
    }
    if (!poller_) {
      if (err == ENOSYS)
        ThrowCodeError(env, "ERR_BACKEND_UNAVAILABLE", "The " + kind + " backend is not available in this build");
      ThrowSystemError(env, err, kind == "epoll" ? "epoll_create1" : "kqueue");
    }
    kind_ = kind;
  }

  // The PollerWrap behind `value`, or null if it is not a Poller object.
  static PollerWrap* FromValue(napi_env env, napi_value value) {
    napi_valuetype type = napi_undefined;
    bool tagged = false;
    void* instance = nullptr;
    if (napi_typeof(env, value, &type) == napi_ok && type == napi_object &&
        napi_check_object_type_tag(env, value, &kTypeTag, &tagged) == napi_ok && tagged &&
        napi_unwrap(env, value, &instance) == napi_ok)
      return static_cast<PollerWrap*>(instance);
    return nullptr;
  }

 private:
  Poller& Live(Napi::Env env) {
    if (!poller_) ThrowCodeError(env, "ERR_SELECTOR_CLOSED", "the poller is closed");
    return *poller_;
  }

  static unsigned InterestArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
    return static_cast<unsigned>(IntArg(info, index, name, 0, 3));
  }

  // add(fd, interest): throws the kernel's refusal as a system error.
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0);
    unsigned interest = InterestArg(info, 1, "interest");
    int r = Live(env).Add(fd, interest);
    if (r < 0) ThrowSystemError(env, -r, syscall_);
    return env.Undefined();
  }

  // modify(fd, oldInterest, interest): throws the kernel's refusal as a system error.
  Napi::Value Modify(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0);
    unsigned old = InterestArg(info, 1, "oldInterest");
    unsigned interest = InterestArg(info, 2, "interest");
    int r = Live(env).Modify(fd, old, interest);
    if (r < 0) ThrowSystemError(env, -r, syscall_);
    return env.Undefined();
  }

  // remove(fd, oldInterest): returns 0 or -errno (a closed fd's registration is gone regardless).
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0);
    unsigned old = InterestArg(info, 1, "oldInterest");
    return Napi::Number::New(env, Live(env).Remove(fd, old));
  }

  // wait(out, timeoutMs): (fd, bits) pairs into out; returns the count or -errno.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Int32View out = Int32ArrayArg(info, 0, "out");
    int timeoutMs = TimeoutArg(info, 1);
    size_t capacity = out.length / 2;
    if (capacity == 0)
      ThrowCodeError(env, "ERR_OUT_OF_RANGE", "The \"out\" array must hold at least one (fd, events) pair",
                     ErrorKind::RangeError);
    Poller& poller = Live(env);
    int n = owned_ != nullptr ? OwnedWait(owned_, poller, out.data, capacity, timeoutMs)
                              : poller.Wait(out.data, capacity, timeoutMs);
    return CountOrErrno(env, n);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (poller_) {
      // A Watcher on the epoll/kqueue fd (an attached reactor) must stop before the fd closes.
      if (poller_->Fileno() >= 0) StopWatchersOnFd(env, poller_->Fileno());
      int r = poller_->Close();
      poller_.reset();
      if (r < 0) ThrowSystemError(env, -r, "close");
    }
    return env.Undefined();
  }

  Napi::Value Fileno(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), poller_ ? poller_->Fileno() : -1);
  }

  static Napi::Value Kind(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), CheckedThis<PollerWrap>(info, &kTypeTag, "Poller")->kind_);
  }

  friend void ns::BindOwnedPoller(Napi::Env env, Napi::Value value, OwnedRun* run, int wakeFd);
  friend void ns::UnbindOwnedPoller(napi_env env, napi_value value, OwnedRun* run);
  friend bool ns::PollerObject(napi_env env, napi_value value, Poller** out);

  static constexpr napi_type_tag kTypeTag = {0x6e732d706f6c6c65ULL, 0x72a3c1d95b0e4f17ULL};

  std::unique_ptr<Poller> poller_;
  // The run that owns the thread on this poller (owned.cc), or null. Not touched by the
  // finalizer: a run holds a reference to its Poller object until it unbinds.
  OwnedRun* owned_ = nullptr;
  std::string kind_;
  const char* syscall_ = "poll";
};

}  // namespace

bool PollerObject(napi_env env, napi_value value, Poller** out) {
  PollerWrap* wrap = PollerWrap::FromValue(env, value);
  if (wrap == nullptr) return false;
  *out = wrap->poller_.get();
  return true;
}

void BindOwnedPoller(Napi::Env env, Napi::Value value, OwnedRun* run, int wakeFd) {
  PollerWrap* wrap = PollerWrap::FromValue(env, value);
  if (wrap == nullptr)
    ThrowCodeError(env, "ERR_INVALID_ARG_TYPE",
                   "The \"poller\" argument must be a Poller. Received " + DescribeValue(value), ErrorKind::TypeError);
  Poller& poller = wrap->Live(env);
  if (wrap->owned_ != nullptr) ThrowCodeError(env, "ERR_LOOP_RUNNING", "another run owns the thread on this poller");
  if (wakeFd >= 0) {
    int r = poller.SetWakeFd(wakeFd);
    if (r < 0) ThrowSystemError(env, -r, wrap->syscall_);
  }
  wrap->owned_ = run;
}

void UnbindOwnedPoller(napi_env env, napi_value value, OwnedRun* run) {
  PollerWrap* wrap = PollerWrap::FromValue(env, value);
  if (wrap == nullptr || wrap->owned_ != run) return;
  wrap->owned_ = nullptr;
  if (wrap->poller_) wrap->poller_->SetWakeFd(-1);
}

void InitPoller(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = PollerWrap::Define(env);
  Data(env)->pollerConstructor = Napi::Persistent(ctor);
  exports.Set("Poller", ctor);
}

}  // namespace ns
