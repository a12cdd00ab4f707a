// uring.h — the io_uring ring (uring.cc): a Poller whose readiness interest is served by one-shot
// IORING_OP_POLL_ADD requests re-armed after each report (so it stays level-triggered, like epoll),
// and which also carries completion operations (accept, recv, send, connect, recvmsg, sendmsg)
// for the ProactorEventLoop. Built only where liburing was found (NS_HAVE_URING); elsewhere the
// same functions report the ring unavailable with the reason.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "backend.h"

namespace ns {

struct AddonData;

// A ring of `entries` submission slots for `env`, or nullptr with *reason saying why io_uring
// cannot be used here (no liburing in this build, io_uring_setup refused, an operation missing).
std::unique_ptr<Poller> CreateUringPoller(Napi::Env env, unsigned entries, std::string* reason);

// Called by close(fd) before the fd is closed: every ring of this environment cancels its
// operations on fd and waits for their completions (kept for its next wait), and drops its poll
// requests on fd, so no completion ever lands in a later fd of the same number.
void CancelRingOpsOnFd(AddonData* data, int fd);

// Environment teardown: every live ring cancels what it has in flight, waits for it, and exits.
void CloseAllRings(AddonData* data);

// The `uring` export: { compiled, probe(), accept, recv, send, connect, recvmsg, sendmsg, setupBuffers,
// recvMultishot, watchClose, cancel, submit, setCompletions, takeAddressInto, inflight }.
void InitUring(Napi::Env env, Napi::Object exports);

// poller.cc: whether `value` is a JavaScript Poller object; *out is its Poller (nullptr once closed).
bool PollerObject(napi_env env, napi_value value, Poller** out);

}  // namespace ns
