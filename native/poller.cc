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
    data_ = Data(env);
    if (data_->lastPollerId < INT32_MAX) {  // past two billion Pollers on one thread, only the object form works
      id_ = ++data_->lastPollerId;
      data_->pollers.emplace(id_, this);
    }
  }

  ~PollerWrap() override { ForgetId(); }

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

  template <class Info>
  static unsigned InterestArg(const Info& info, size_t index, const char* name) {
    return static_cast<unsigned>(IntArg(info, index, name, 0, 3));
  }

  void ForgetId() {
    if (id_ != 0 && data_ != nullptr) data_->pollers.erase(id_);
    id_ = 0;
  }

  // The operations below read their arguments from index `at` on: 0 for the methods, 1 for the
  // functions that take the Poller's id first (IdCallback).

  // add(fd, interest): throws the kernel's refusal as a system error.
  template <class Info>
  Napi::Value AddAt(const Info& info, size_t at) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, at);
    unsigned interest = InterestArg(info, at + 1, "interest");
    int r = Live(env).Add(fd, interest);
    if (r < 0) ThrowSystemError(env, -r, syscall_);
    return env.Undefined();
  }

  // modify(fd, oldInterest, interest): throws the kernel's refusal as a system error.
  template <class Info>
  Napi::Value ModifyAt(const Info& info, size_t at) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, at);
    unsigned old = InterestArg(info, at + 1, "oldInterest");
    unsigned interest = InterestArg(info, at + 2, "interest");
    int r = Live(env).Modify(fd, old, interest);
    if (r < 0) ThrowSystemError(env, -r, syscall_);
    return env.Undefined();
  }

  // remove(fd, oldInterest): returns 0 or -errno (a closed fd's registration is gone regardless).
  template <class Info>
  Napi::Value RemoveAt(const Info& info, size_t at) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, at);
    unsigned old = InterestArg(info, at + 1, "oldInterest");
    return Napi::Number::New(env, Live(env).Remove(fd, old));
  }

  // wait(out, timeoutMs): (fd, bits) pairs into out; returns the count or -errno. The id form's
  // out may also be the array's ArrayBuffer (WordsArg).
  template <class Info>
  Napi::Value WaitAt(const Info& info, size_t at) {
    Napi::Env env = info.Env();
    Int32View out = at == 0 ? Int32ArrayArg(info, at, "out") : WordsArg(info, at, "out");
    int timeoutMs = TimeoutArg(info, at + 1);
    size_t capacity = out.length / 2;
    if (capacity == 0)
      ThrowCodeError(env, "ERR_OUT_OF_RANGE", "The \"out\" array must hold at least one (fd, events) pair",
                     ErrorKind::RangeError);
    Poller& poller = Live(env);
    int n = owned_ != nullptr ? OwnedWait(owned_, poller, out.data, capacity, timeoutMs)
                              : poller.Wait(out.data, capacity, timeoutMs);
    return CountOrErrno(env, n);
  }

  Napi::Value Add(const Napi::CallbackInfo& info) { return AddAt(info, 0); }
  Napi::Value Modify(const Napi::CallbackInfo& info) { return ModifyAt(info, 0); }
  Napi::Value Remove(const Napi::CallbackInfo& info) { return RemoveAt(info, 0); }
  Napi::Value Wait(const Napi::CallbackInfo& info) { return WaitAt(info, 0); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (poller_) {
      // A Watcher on the epoll/kqueue fd (an attached reactor) must stop before the fd closes.
      if (poller_->Fileno() >= 0) StopWatchersOnFd(env, poller_->Fileno());
      int r = poller_->Close();
      poller_.reset();
      ForgetId();
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
  friend PollerWrap* PollerByIdArg(const CallArgs& info);
  friend Napi::Value PollerId(const CallArgs& info);
  template <Napi::Value (PollerWrap::*op)(const CallArgs&, size_t)>
  friend Napi::Value IdCallback(const CallArgs& info);

  static constexpr napi_type_tag kTypeTag = {0x6e732d706f6c6c65ULL, 0x72a3c1d95b0e4f17ULL};

  std::unique_ptr<Poller> poller_;
  // The run that owns the thread on this poller (owned.cc), or null. Not touched by the
  // finalizer: a run holds a reference to its Poller object until it unbinds.
  OwnedRun* owned_ = nullptr;
  std::string kind_;
  const char* syscall_ = "poll";
  AddonData* data_ = nullptr;
  // This Poller's key in data_->pollers (pollerId()); 0 while it has none (closed, or never opened).
  int32_t id_ = 0;
};

// The per-call forms of add, modify, remove and wait: plain functions with the AddonData as their
// data that take the Poller's id (pollerId(poller)) first, found in a table, where a method call
// on the object unwraps it through a private-symbol lookup (about 600 instructions a call under
// callgrind). Ids are not reused: a closed Poller's id stays ERR_SELECTOR_CLOSED.
PollerWrap* PollerByIdArg(const CallArgs& info) {
  auto* data = static_cast<AddonData*>(info.Data());
  int32_t id = static_cast<int32_t>(IntArg(info, 0, "poller", 1, INT32_MAX));
  auto found = data->pollers.find(id);
  if (found != data->pollers.end()) return found->second;
  if (id <= data->lastPollerId) ThrowCodeError(info.Env(), "ERR_SELECTOR_CLOSED", "the poller is closed");
  ThrowCodeError(info.Env(), "ERR_INVALID_ARG_VALUE", "no Poller has the id " + std::to_string(id),
                 ErrorKind::TypeError);
}

template <Napi::Value (PollerWrap::*op)(const CallArgs&, size_t)>
Napi::Value IdCallback(const CallArgs& info) {
  return (PollerByIdArg(info)->*op)(info, 1);
}

// pollerId(poller): the id the functions above take (ERR_SELECTOR_CLOSED for a closed Poller).
Napi::Value PollerId(const CallArgs& info) {
  PollerWrap* wrap = info.Length() > 0 ? PollerWrap::FromValue(info.Env(), info[0]) : nullptr;
  if (wrap == nullptr)
    ThrowCodeError(info.Env(), "ERR_INVALID_ARG_TYPE",
                   "The \"poller\" argument must be a Poller. Received " +
                       DescribeValue(info.Length() > 0 ? info[0] : info.Env().Undefined()),
                   ErrorKind::TypeError);
  if (!wrap->poller_) ThrowCodeError(info.Env(), "ERR_SELECTOR_CLOSED", "the poller is closed");
  if (wrap->id_ == 0)
    ThrowCodeError(info.Env(), "ERR_OUT_OF_RANGE", "no Poller ids are left on this thread", ErrorKind::RangeError);
  return Napi::Number::New(info.Env(), wrap->id_);
}

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
  struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"pollerId", PlainCallback<PollerId, 1>},
      {"pollerAdd", PlainCallback<IdCallback<&PollerWrap::AddAt<CallArgs>>, 3>},
      {"pollerModify", PlainCallback<IdCallback<&PollerWrap::ModifyAt<CallArgs>>, 4>},
      {"pollerRemove", PlainCallback<IdCallback<&PollerWrap::RemoveAt<CallArgs>>, 3>},
      {"pollerWait", PlainCallback<IdCallback<&PollerWrap::WaitAt<CallArgs>>, 3>},
  };
  for (auto& f : functions) {
    napi_value fn;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, Data(env), &fn));
    exports.Set(f.name, Napi::Value(env, fn));
  }
}

}  // namespace ns
