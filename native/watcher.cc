// watcher.cc — `Watcher`: one uv_poll_t on the environment's own libuv loop, calling back into
// JavaScript when an fd is readable/writable. This is how a reactor runs attached to Node's loop:
// it watches the epoll fd (one wake-up per batch), or each registered fd where the backend has no
// pollable fd of its own (poll, and libkqueue whose kqueue fd libuv cannot watch). The driver of a
// reactor that owns the thread instead is in owned.cc.
//
// Handles are closed on close(), on finalization, and by an async cleanup hook when the
// environment (a worker thread, or the process) is torn down, so a worker's loop can close.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <uv.h>

#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "receiver.h"
#include "state.h"

namespace ns {

class Watcher final : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function ctor = DefineClass(env, "Watcher",
                                      {
                                          InstanceMethod<&Watcher::Start>("start"),
                                          InstanceMethod<&Watcher::Stop>("stop"),
                                          InstanceMethod<&Watcher::Close>("close"),
                                          InstanceMethod<&Watcher::SetRef>("setRef"),
                                      });
    DefinePrototypeGetter<&Watcher::Fd>(ctor, "fd");
    DefinePrototypeGetter<&Watcher::Events>(ctor, "events");
    return ctor;
  }

  // new Watcher(fd, callback(status, events))
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    TagInstance(info, &kTypeTag);
    Napi::Env env = info.Env();
    fd_ = FdArg(info, 0);
    callback_ = Napi::Persistent(FunctionArg(info, 1, "callback"));
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
      ThrowCodeError(env, "ERR_NO_EVENT_LOOP", "this environment has no libuv loop");
    struct stat st;
    if (fstat(fd_, &st) < 0) ThrowSystemError(env, errno, "uv_poll_init");
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    handle_ = new Handle();
    handle_->owner = this;
    handle_->env = env;
    int r = uv_poll_init(loop, &handle_->poll, fd_);
    if (r < 0) {
      delete handle_;
      handle_ = nullptr;
      ThrowSystemError(env, -r, "uv_poll_init");
    }
    napi_add_async_cleanup_hook(env, OnEnvTeardown, handle_, &handle_->hook);
    registry_ = Data(env)->watchers;
    registry_->live.insert(this);
    napi_async_context ctx = nullptr;
    napi_value name = Napi::String::New(env, "native-selectors:Watcher");
    napi_async_init(env, nullptr, name, &ctx);
    asyncContext_ = ctx;
  }

  ~Watcher() override {
    // Finalizer: never touches JavaScript. An open handle is closed and freed by libuv later.
    if (registry_) registry_->live.erase(this);
    if (handle_ != nullptr) CloseHandle();
    if (asyncContext_ != nullptr) napi_async_destroy(Env(), asyncContext_);
  }

 private:
  struct Handle {
    uv_poll_t poll;
    Watcher* owner = nullptr;
    napi_env env = nullptr;
    napi_async_cleanup_hook_handle hook = nullptr;
  };

  static void OnEnvTeardown(napi_async_cleanup_hook_handle, void* arg) {
    Handle* h = static_cast<Handle*>(arg);
    if (h->owner != nullptr) h->owner->DetachHandle();
    uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), OnClosed);
  }

  static void OnClosed(uv_handle_t* raw) {
    Handle* h = reinterpret_cast<Handle*>(raw);
    if (h->hook != nullptr) napi_remove_async_cleanup_hook(h->hook);
    delete h;
  }

  // Forgets the handle (it is being closed) and drops the self-reference kept while active.
  void DetachHandle() {
    handle_ = nullptr;
    if (referenced_) {
      referenced_ = false;
      Unref();
    }
  }

  void CloseHandle() {
    Handle* h = handle_;
    h->owner = nullptr;
    handle_ = nullptr;
    uv_poll_stop(&h->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), OnClosed);
  }

  static void OnPoll(uv_poll_t* raw, int status, int uvEvents) {
    Handle* h = reinterpret_cast<Handle*>(raw);
    Watcher* self = h->owner;
    if (self == nullptr) return;
    napi_env env = h->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    unsigned bits = 0;
    if (uvEvents & UV_READABLE) bits |= 1;
    if (uvEvents & UV_WRITABLE) bits |= 2;
    if (uvEvents & UV_DISCONNECT) bits |= 1;
    napi_value argv[2];
    napi_create_int32(env, status, &argv[0]);
    napi_create_uint32(env, bits, &argv[1]);
    napi_value recv;
    napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
    napi_value result;
    napi_status st = napi_make_callback(env, self->asyncContext_, recv, self->callback_.Value(), 2, argv, &result);
    if (st == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
    napi_close_handle_scope(env, scope);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    unsigned bits = static_cast<unsigned>(IntArg(info, 0, "events", 1, 3));
    if (handle_ == nullptr) ThrowCodeError(env, "ERR_WATCHER_CLOSED", "the watcher is closed");
    // libuv aborts if it cannot register a started handle's fd (its next poll's epoll_ctl fails,
    // ADD or MOD), so what would fail is refused here: an fd this watcher saw closed (close(fd),
    // or its Poller's close(): the number may be another file's by now), a closed fd, and a
    // number that now names another file than the watcher was made for (closed behind the
    // addon's back and reused, by a socket or by a regular file epoll would refuse; told by
    // device and inode, so not between two anonymous-inode fds such as two epoll fds, which share
    // one). uv_poll_init refused a file libuv cannot poll when the watcher was made.
    if (fdClosed_) ThrowSystemError(env, EBADF, "uv_poll_start");
    struct stat st;
    if (fstat(fd_, &st) < 0) ThrowSystemError(env, errno, "uv_poll_start");
    if (st.st_dev != dev_ || st.st_ino != ino_) ThrowSystemError(env, EBADF, "uv_poll_start");
    int uvEvents = ((bits & 1) ? UV_READABLE : 0) | ((bits & 2) ? UV_WRITABLE : 0);
    int r = uv_poll_start(&handle_->poll, uvEvents, OnPoll);
    if (r < 0) ThrowSystemError(env, -r, "uv_poll_start");
    events_ = bits;
    if (!referenced_) {
      referenced_ = true;
      Ref();
    }
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  void StopPolling() {
    if (handle_ != nullptr) uv_poll_stop(&handle_->poll);
    events_ = 0;
    if (referenced_) {
      referenced_ = false;
      Unref();
    }
  }

  friend void StopWatchersOnFd(AddonData* data, int fd);

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) CloseHandle();
    events_ = 0;
    if (referenced_) {
      referenced_ = false;
      Unref();
    }
    return info.Env().Undefined();
  }

  // setRef(bool): whether an active watcher keeps the process alive (uv_ref / uv_unref).
  Napi::Value SetRef(const Napi::CallbackInfo& info) {
    bool on = BoolArg(info, 0, "ref");
    if (handle_ != nullptr) {
      if (on)
        uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
      else
        uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    }
    return info.Env().Undefined();
  }

  static Napi::Value Fd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), CheckedThis<Watcher>(info, &kTypeTag, "Watcher")->fd_);
  }
  static Napi::Value Events(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), CheckedThis<Watcher>(info, &kTypeTag, "Watcher")->events_);
  }

  static constexpr napi_type_tag kTypeTag = {0x6e732d7761746368ULL, 0x1f9d3b72c40e8a65ULL};

  int fd_ = -1;
  // Its fd was closed through this addon (StopWatchersOnFd): start() refuses from then on.
  bool fdClosed_ = false;
  // The file fd_ named when the watcher was made (start() refuses another one under that number).
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  unsigned events_ = 0;
  bool referenced_ = false;
  Handle* handle_ = nullptr;
  Napi::FunctionReference callback_;
  napi_async_context asyncContext_ = nullptr;
  std::shared_ptr<WatcherSet> registry_;
};

void StopWatchersOnFd(Napi::Env env, int fd) { StopWatchersOnFd(Data(env), fd); }

void StopWatchersOnFd(AddonData* data, int fd) {
  if (data == nullptr || data->watchers->live.empty()) return;
  std::vector<Watcher*> matches;
  for (Watcher* w : data->watchers->live)
    if (w->fd_ == fd) matches.push_back(w);
  for (Watcher* w : matches) {
    w->fdClosed_ = true;
    if (w->events_ != 0) w->StopPolling();
  }
}

void InitWatcher(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Watcher::Define(env);
  Data(env)->watcherConstructor = Napi::Persistent(ctor);
  exports.Set("Watcher", ctor);
}

}  // namespace ns
