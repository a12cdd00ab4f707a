// exports.h — the init functions each native file contributes to the module's exports.
#pragma once

#include <napi.h>

namespace ns {

// Each returns the backend's low-level syscall object, or undefined where this build lacks it.
Napi::Value InitEpollExports(Napi::Env env);
Napi::Value InitKqueueExports(Napi::Env env);
// poll(fds, timeoutMs) over an Int32Array of (fd, events, revents) triples.
Napi::Value InitPollExport(Napi::Env env);

void InitPoller(Napi::Env env, Napi::Object exports);
void InitSockets(Napi::Env env, Napi::Object exports);
void InitWatcher(Napi::Env env, Napi::Object exports);
void InitOwned(Napi::Env env, Napi::Object exports);
void InitSignals(Napi::Env env, Napi::Object exports);

}  // namespace ns
