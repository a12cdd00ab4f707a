// exports.h — what addon.cc needs of the other native files: the part each contributes to the
// module's exports, and the part each plays when an environment is torn down.
#pragma once

#include <napi.h>

namespace ns {

struct AddonData;

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
// errorFromErrno and errnoInfo (errors.cc).
void InitErrors(Napi::Env env, Napi::Object exports);

// Environment teardown (signals.cc): drops every signal watch this environment holds.
void UnwatchAllSignals(AddonData* data);

}  // namespace ns
