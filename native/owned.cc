// owned.cc — `runOwned(iterate, done, poller?)`: drives a reactor that owns the thread, and lets
// Node's own libuv loop run whenever it has work.
//
// The run enters from a libuv timer callback, where no JavaScript is on the stack, and calls
// `iterate` again and again through napi_make_callback; each call therefore ends with Node
// draining process.nextTick and the microtask queue, exactly as after any libuv callback, so
// promise continuations run between iterations.
//
// Node's own work (its timers, I/O, setImmediate, worker messages, thread-pool completions such as
// fs and dns.lookup) runs in libuv's turns, which cannot happen while the run holds the thread.
// So the run yields: after an iteration, when libuv has something to do, the callback returns so
// that libuv runs one full turn — its due timers, pending callbacks, a poll of its I/O without
// waiting (the run's idle handle is active meanwhile), setImmediate — and the run enters again
// from its check handle, right after that poll. (Not from a timer re-armed at 0 ms: libuv 1.46,
// Node 20's, runs a timer that is due again within the same timers phase, so libuv would never
// get to its poll.) libuv "has something to do" when:
// - its backend fd (epoll on Linux, kqueue on macOS) is readable: the run's Poller watches it
//   beside the loop's own fds in the same kernel wait (see Poller::SetWakeFd), so a blocked loop
//   wakes for Node's I/O at no extra syscall;
// - uv_backend_timeout() is 0 (a timer due, setImmediate queued, callbacks pending, handles
//   closing): checked after every iteration, and used to cut a blocking wait short at libuv's
//   next timer;
// - new I/O watchers are queued: libuv hands them to its backend only in its next poll, so its
//   fd cannot report them before (Electron patches libuv's uv_backend_timeout for the same case).
// The first entry is from a timer at 0 ms. While the run is inside its callback, that timer stays
// armed far in the future, so that libuv's timeout reflects Node's own work only (with no active
// handle at all libuv would say 0).
//
// Handles are closed on completion, and by an async cleanup hook when the environment (a worker
// thread, or the process) is torn down between two turns.
#include "owned.h"

#include <uv.h>

#include "args.h"
#include "backend.h"
#include "errors.h"
#include "exports.h"
#include "state.h"

namespace ns {

enum class OwnedPhase { Armed, Inside, Over };

struct OwnedRun {
  uv_timer_t timer;  // the first entry, then the keep-alive while inside
  uv_idle_t idle;    // while yielding: libuv's poll does not wait
  uv_check_t check;  // while yielding: enters the run again after libuv's poll
  int handles = 0;   // initialised handles not yet closed
  uv_loop_t* loop = nullptr;
  napi_env env = nullptr;
  AddonData* data = nullptr;
  napi_ref iterate = nullptr;
  napi_ref done = nullptr;
  napi_ref poller = nullptr;  // the bound Poller object, if any
  napi_async_context context = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
  OwnedPhase phase = OwnedPhase::Armed;
  bool yield = false;  // libuv has work: let it run one turn after this iteration
};

namespace {

// The keep-alive deadline of the run's timer while the run is inside it: never due.
constexpr uint64_t kNever = ~static_cast<uint64_t>(0);

// libuv's own timeout in ms as its next poll would use it (0: it has work now; -1: none). The
// cached loop time is refreshed first: the run may have held the thread for a while.
int LibuvTimeout(uv_loop_t* loop) {
  uv_update_time(loop);
  // Watchers started since libuv's last poll are not in its backend yet (uv__io_start queues
  // them; its next uv__io_poll registers them): only a turn of libuv can hand them over.
  if (loop->watcher_queue.next != &loop->watcher_queue) return 0;
  return uv_backend_timeout(loop);
}

void FreeOwnedRun(uv_handle_t* raw) {
  OwnedRun* run = static_cast<OwnedRun*>(raw->data);
  if (--run->handles > 0) return;
  if (run->hook != nullptr) napi_remove_async_cleanup_hook(run->hook);
  delete run;
}

void CloseOwnedHandles(OwnedRun* run) {
  uv_close(reinterpret_cast<uv_handle_t*>(&run->timer), FreeOwnedRun);
  uv_close(reinterpret_cast<uv_handle_t*>(&run->idle), FreeOwnedRun);
  uv_close(reinterpret_cast<uv_handle_t*>(&run->check), FreeOwnedRun);
}

void ReleaseOwnedRun(OwnedRun* run) {
  napi_env env = run->env;
  run->phase = OwnedPhase::Over;
  if (run->poller) napi_delete_reference(env, run->poller);  // unbound by the caller
  if (run->iterate) napi_delete_reference(env, run->iterate);
  if (run->done) napi_delete_reference(env, run->done);
  if (run->context) napi_async_destroy(env, run->context);
  run->iterate = run->done = run->poller = nullptr;
  run->context = nullptr;
  CloseOwnedHandles(run);
}

void OnOwnedTeardown(napi_async_cleanup_hook_handle, void* arg) {
  OwnedRun* run = static_cast<OwnedRun*>(arg);
  // Inside: the run itself ends and releases it (its calls into JavaScript fail from now on).
  // Over: it is already closing, and FreeOwnedRun ends this hook.
  if (run->phase != OwnedPhase::Armed) return;
  run->phase = OwnedPhase::Over;
  // No JavaScript and no references here: the environment is going away with them.
  CloseOwnedHandles(run);
}

// Calls iterate once; returns whether it asked for more. An exception is kept in *errorRef.
bool CallIterate(OwnedRun* run, napi_ref* errorRef) {
  napi_env env = run->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
  napi_value recv;
  napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
  napi_value fn = nullptr;
  napi_value result = nullptr;
  bool again = false;
  if (napi_get_reference_value(env, run->iterate, &fn) == napi_ok && fn != nullptr) {
    napi_status st = napi_make_callback(env, run->context, recv, fn, 0, nullptr, &result);
    if (st == napi_ok) {
      napi_get_value_bool(env, result, &again);
    } else {
      napi_value e;
      if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_create_reference(env, e, 1, errorRef);
    }
  }
  napi_close_handle_scope(env, scope);
  return again;
}

void CallDone(OwnedRun* run, napi_ref errorRef) {
  napi_env env = run->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn = nullptr;
  if (run->done != nullptr && napi_get_reference_value(env, run->done, &fn) == napi_ok && fn != nullptr) {
    napi_value argv[1];
    napi_get_undefined(env, &argv[0]);
    if (errorRef != nullptr) {
      napi_value e = nullptr;
      if (napi_get_reference_value(env, errorRef, &e) == napi_ok && e != nullptr) argv[0] = e;
    }
    napi_value recv;
    napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
    napi_value result;
    napi_status st = napi_make_callback(env, run->context, recv, fn, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value e;
      if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
}

void EnterOwned(OwnedRun* run);

void OnOwnedTimer(uv_timer_t* timer) { EnterOwned(static_cast<OwnedRun*>(timer->data)); }

void OnOwnedCheck(uv_check_t* check) { EnterOwned(static_cast<OwnedRun*>(check->data)); }

void OnOwnedIdle(uv_idle_t*) {}

void EnterOwned(OwnedRun* run) {
  if (run->phase != OwnedPhase::Armed) return;
  run->phase = OwnedPhase::Inside;
  uv_idle_stop(&run->idle);
  uv_check_stop(&run->check);
  run->yield = false;
  uv_timer_start(&run->timer, OnOwnedTimer, kNever, 0);  // the keep-alive (see the file header)
  OwnedRun* outer = run->data->currentRun;               // a raw runOwned inside another run
  run->data->currentRun = run;
  napi_ref errorRef = nullptr;  // an exception that escaped iterate, reported to done
  bool over = true;
  for (;;) {
    if (!CallIterate(run, &errorRef)) break;
    if (run->yield || LibuvTimeout(run->loop) == 0) {
      over = false;
      break;
    }
  }
  run->data->currentRun = outer;
  if (!over) {
    // One turn of libuv, then back here from the check phase, right after its poll (which the
    // active idle handle keeps from waiting).
    run->phase = OwnedPhase::Armed;
    uv_timer_stop(&run->timer);
    uv_idle_start(&run->idle, OnOwnedIdle);
    uv_check_start(&run->check, OnOwnedCheck);
    return;
  }
  run->phase = OwnedPhase::Over;
  if (run->poller != nullptr) {
    // Unbound before done: the loop may be run again from done's continuations.
    napi_handle_scope scope;
    if (napi_open_handle_scope(run->env, &scope) == napi_ok) {
      napi_value poller = nullptr;
      if (napi_get_reference_value(run->env, run->poller, &poller) == napi_ok && poller != nullptr)
        UnbindOwnedPoller(run->env, poller, run);
      napi_close_handle_scope(run->env, scope);
    }
  }
  CallDone(run, errorRef);
  if (errorRef != nullptr) napi_delete_reference(run->env, errorRef);
  ReleaseOwnedRun(run);
}

// runOwned(iterate: () => boolean, done: (error?) => void, poller?: Poller): see the file header.
Napi::Value RunOwned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Function iterate = FunctionArg(info, 0, "iterate");
  Napi::Function done = FunctionArg(info, 1, "done");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
    ThrowCodeError(env, "ERR_NO_EVENT_LOOP", "this environment has no libuv loop");
  OwnedRun* run = new OwnedRun();
  run->env = env;
  run->loop = loop;
  run->data = Data(env);
  bool withPoller = info.Length() > 2 && !info[2].IsUndefined();
  if (withPoller) {
    try {
      BindOwnedPoller(env, info[2], run, uv_backend_fd(loop));
    } catch (...) {
      delete run;
      throw;
    }
  }
  // These never fail on Unix (they only link the handle into the loop).
  uv_timer_init(loop, &run->timer);
  uv_idle_init(loop, &run->idle);
  uv_check_init(loop, &run->check);
  run->timer.data = run->idle.data = run->check.data = run;
  run->handles = 3;
  if (withPoller) napi_create_reference(env, info[2], 1, &run->poller);
  napi_create_reference(env, iterate, 1, &run->iterate);
  napi_create_reference(env, done, 1, &run->done);
  napi_value name = Napi::String::New(env, "native-selectors:EventLoop");
  napi_async_init(env, nullptr, name, &run->context);
  napi_add_async_cleanup_hook(env, OnOwnedTeardown, run, &run->hook);
  uv_timer_start(&run->timer, OnOwnedTimer, 0, 0);
  return env.Undefined();
}

// nodeLoopIdle(): whether Node's own libuv loop holds nothing that could run JavaScript later —
// no referenced active handle or request, no pending or closing callback — leaving out the timer
// of the run whose iterate is calling. True is exactly when a plain Node process would exit.
Napi::Value NodeLoopIdle(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
    ThrowCodeError(env, "ERR_NO_EVENT_LOOP", "this environment has no libuv loop");
  OwnedRun* run = Data(env)->currentRun;
  uv_handle_t* own = run != nullptr ? reinterpret_cast<uv_handle_t*>(&run->timer) : nullptr;
  bool unrefed = own != nullptr && uv_is_active(own) && uv_has_ref(own);
  if (unrefed) uv_unref(own);
  bool alive = uv_loop_alive(loop) != 0;
  if (unrefed) uv_ref(own);
  return Napi::Boolean::New(env, !alive);
}

}  // namespace

int OwnedWait(OwnedRun* run, Poller& poller, int32_t* out, size_t capacity, int timeoutMs) {
  bool cut = false;  // the timeout was shortened to libuv's next deadline
  if (run->yield) {
    timeoutMs = 0;  // already yielding after this iteration: do not block first
  } else if (timeoutMs != 0) {
    int libuv = LibuvTimeout(run->loop);
    if (libuv == 0) {
      run->yield = true;
      timeoutMs = 0;
    } else if (libuv > 0 && (timeoutMs < 0 || libuv < timeoutMs)) {
      timeoutMs = libuv;
      cut = true;
    }
  }
  int n = poller.Wait(out, capacity, timeoutMs);
  if (poller.Woken() || (cut && n == 0)) run->yield = true;
  return n;
}

void InitOwned(Napi::Env env, Napi::Object exports) {
  exports.Set("runOwned", Napi::Function::New(env, RunOwned, "runOwned"));
  exports.Set("nodeLoopIdle", Napi::Function::New(env, NodeLoopIdle, "nodeLoopIdle"));
}

}  // namespace ns
