// owned.h — the driver of a loop that owns the thread (owned.cc), and what the Poller class
// (poller.cc) needs of it: while a run is bound to a Poller, that Poller's waits also wait for
// Node's own libuv loop.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace ns {

class Poller;
struct OwnedRun;

// A wait of `poller` (bound to `run`) while the run owns the thread: Wait(out, capacity,
// timeoutMs), with the timeout shortened to libuv's next deadline, libuv's backend fd watched
// too, and the run told to yield one libuv turn when libuv has work. Returns what Wait returns.
int OwnedWait(OwnedRun* run, Poller& poller, int32_t* out, size_t capacity, int timeoutMs);

// poller.cc: binds the JavaScript Poller object `value` to `run` (its wait() goes through
// OwnedWait and watches `wakeFd`, libuv's backend fd, unless that is -1). Throws
// ERR_INVALID_ARG_TYPE for anything but a Poller, ERR_SELECTOR_CLOSED for a closed one,
// ERR_LOOP_RUNNING if another run is bound to it, or SetWakeFd's error as a system error.
void BindOwnedPoller(Napi::Env env, Napi::Value value, OwnedRun* run, int wakeFd);
// Undoes BindOwnedPoller if `run` is still the Poller's run (the Poller may have been closed).
void UnbindOwnedPoller(napi_env env, napi_value value, OwnedRun* run);

}  // namespace ns
