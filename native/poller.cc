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
#include "receiver.h"
#include "state.h"

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
    } else {
      ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                     "The \"kind\" argument must be 'epoll', 'kqueue' or 'poll'. Received '" + kind + "'",
                     ErrorKind::TypeError);
    }
    if (!poller_) {
      if (err == ENOSYS)
        ThrowCodeError(env, "ERR_BACKEND_UNAVAILABLE", "The " + kind + " backend is not available in this build");
      ThrowSystemError(env, err, kind == "epoll" ? "epoll_create1" : "kqueue");
    }
    kind_ = kind;
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
    return Napi::Number::New(env, Live(env).Wait(out.data, capacity, timeoutMs));
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

  static constexpr napi_type_tag kTypeTag = {0x6e732d706f6c6c65ULL, 0x72a3c1d95b0e4f17ULL};

  std::unique_ptr<Poller> poller_;
  std::string kind_;
  const char* syscall_ = "poll";
};

}  // namespace

void InitPoller(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = PollerWrap::Define(env);
  Data(env)->pollerConstructor = Napi::Persistent(ctor);
  exports.Set("Poller", ctor);
}

}  // namespace ns
