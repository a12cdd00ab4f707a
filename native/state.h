// state.h — per-environment state (main thread and each worker thread has its own), and the fd
// helpers every file uses. No file keeps a static that two environments could share.
#pragma once

#include <napi.h>

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ns {

class Watcher;
class UringPoller;
class PollerWrap;
struct OwnedRun;

// The live Watchers of one environment. Shared with each Watcher, so neither the environment's
// teardown order nor a late finalizer can leave a dangling pointer on either side.
struct WatcherSet {
  std::unordered_set<Watcher*> live;
};

struct AddonData {
  // fds this environment created and has not closed, closed by the environment cleanup hook: a
  // flag per fd number, so tracking an accepted connection allocates nothing.
  std::vector<bool> ownedFds;
  // Signal numbers this environment watches (see signals.cc), unwatched at teardown.
  std::vector<std::pair<int, int>> signalWatches;  // (signo, write fd)
  Napi::FunctionReference pollerConstructor;
  Napi::FunctionReference watcherConstructor;
  std::shared_ptr<WatcherSet> watchers = std::make_shared<WatcherSet>();
  // The live io_uring rings (uring.cc) by id: close(fd) cancels their operations on fd first,
  // teardown closes them, and the per-request operations find their ring by id (ringId()).
  std::unordered_map<int32_t, UringPoller*> rings;
  // The last id given to a ring (ids are never reused, so a closed ring's id stays closed).
  int32_t lastRingId = 0;
  // The open Pollers (poller.cc) by id, which the per-call functions take (pollerId()).
  std::unordered_map<int32_t, PollerWrap*> pollers;
  // The last id given to a Poller (never reused, so a closed Poller's id stays closed).
  int32_t lastPollerId = 0;
  // The owned run (owned.cc) whose iterate is running right now, if any.
  OwnedRun* currentRun = nullptr;
  bool tearingDown = false;
};

AddonData* Data(Napi::Env env);

// Records that this environment owns fd (so teardown closes it). The AddonData forms are for
// functions created with the AddonData as their data (no instance-data lookup per call).
void TrackFd(AddonData* data, int fd);
void UntrackFd(AddonData* data, int fd);
void TrackFd(Napi::Env env, int fd);
void UntrackFd(Napi::Env env, int fd);

// Stops every started Watcher of this environment on fd, and marks every Watcher on it as having
// seen its fd closed, so that start() refuses (watcher.cc). close() calls it first: libuv aborts
// the process if a started uv_poll_t's fd is closed (or becomes a file it cannot poll) before its
// loop registers it.
void StopWatchersOnFd(Napi::Env env, int fd);
void StopWatchersOnFd(AddonData* data, int fd);

// close(2) without retrying on EINTR (on Linux the fd is gone even then). Returns 0 or errno.
int CloseFd(int fd);

// Sets O_NONBLOCK and FD_CLOEXEC on fd; returns 0 or errno.
int SetNonBlockCloexec(int fd, bool nonblock);

}  // namespace ns
