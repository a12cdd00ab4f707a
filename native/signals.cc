// signals.cc — signal delivery to a reactor through a self-pipe, as CPython's
// signal.set_wakeup_fd does: a sigaction handler writes the signal number as one byte to every
// pipe watching that signal, and the reactor reads the pipe like any other fd. This works while
// the reactor owns the thread (libuv's own signal machinery never runs then) and when attached.
//
// Signal dispositions are process-wide, so the table of watching pipes is the one piece of
// process-wide state here, guarded by a mutex for changes and read lock-free (atomics) by the
// handler. The previous disposition is saved when a signal's first watcher arrives, restored
// when its last leaves; a previous handler that was a function (libuv's, for process.on) is
// still called, so Node's own listeners keep working.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // macOS: the addon's sockets have SO_NOSIGPIPE
#endif

#include <atomic>
#include <mutex>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "state.h"

namespace ns {

namespace {

constexpr int kMaxSignal = 65;
constexpr int kMaxWatchers = 16;

struct SignalSlot {
  std::atomic<int> fds[kMaxWatchers];
  struct sigaction previous;
  int watchers = 0;
};

struct SignalTable {
  std::mutex mutex;
  SignalSlot slots[kMaxSignal];
  SignalTable() {
    for (auto& slot : slots)
      for (auto& fd : slot.fds) fd.store(-1, std::memory_order_relaxed);
  }
};

// Process-wide by nature (see the file header); never destroyed, so a late signal is safe.
SignalTable& Table() {
  static SignalTable* table = new SignalTable();
  return *table;
}

// Writes the wake-up byte to fd without raising SIGPIPE: with SIGPIPE itself watched, a SIGPIPE
// raised here (a pipe without readers, a socket without its peer) would run the handler again as
// soon as it returned, forever. A socket gets send(MSG_NOSIGNAL); anything else is written only
// when poll(2) does not report it broken (a pipe without readers polls POLLERR). Only
// async-signal-safe calls.
void Notify(int fd, unsigned char byte) {
  if (send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0 || errno != ENOTSOCK) return;
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 0) < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return;
  ssize_t ignored = write(fd, &byte, 1);  // a full pipe already holds a wake-up
  (void)ignored;
}

void Handler(int signo, siginfo_t* info, void* context) {
  int savedErrno = errno;
  if (signo > 0 && signo < kMaxSignal) {
    SignalSlot& slot = Table().slots[signo];
    unsigned char byte = static_cast<unsigned char>(signo);
    for (auto& entry : slot.fds) {
      int fd = entry.load(std::memory_order_acquire);
      if (fd >= 0) Notify(fd, byte);
    }
    const struct sigaction& prev = slot.previous;
    // A one-shot previous handler (SA_RESETHAND) is not chained: that is Node's SignalExit for
    // SIGINT/SIGTERM, which re-raises the signal to die by it; with this handler still installed
    // the re-raise would come back here forever. The signal is handled now.
    if (prev.sa_flags & SA_RESETHAND) {
      // nothing to chain
    } else if (prev.sa_flags & SA_SIGINFO) {
      if (prev.sa_sigaction != nullptr) prev.sa_sigaction(signo, info, context);
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler != nullptr) {
      prev.sa_handler(signo);
    }
  }
  errno = savedErrno;
}

int Watch(int signo, int fd) {
  if (signo <= 0 || signo >= kMaxSignal || signo == SIGKILL || signo == SIGSTOP) return EINVAL;
  SignalTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  SignalSlot& slot = table.slots[signo];
  int freeIndex = -1;
  for (int i = 0; i < kMaxWatchers; ++i) {
    int current = slot.fds[i].load(std::memory_order_relaxed);
    if (current == fd) return EEXIST;
    if (current < 0 && freeIndex < 0) freeIndex = i;
  }
  if (freeIndex < 0) return ENOSPC;
  if (slot.watchers == 0) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = Handler;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signo, &action, &slot.previous) < 0) return errno;
  }
  slot.fds[freeIndex].store(fd, std::memory_order_release);
  ++slot.watchers;
  return 0;
}

int Unwatch(int signo, int fd) {
  if (signo <= 0 || signo >= kMaxSignal) return EINVAL;
  SignalTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mutex);
  SignalSlot& slot = table.slots[signo];
  for (auto& entry : slot.fds) {
    if (entry.load(std::memory_order_relaxed) == fd) {
      entry.store(-1, std::memory_order_release);
      if (--slot.watchers == 0) sigaction(signo, &slot.previous, nullptr);
      return 0;
    }
  }
  return ENOENT;
}

// watchSignal(signo, writeFd): from now on each delivery of signo writes one byte to writeFd.
Napi::Value WatchSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int signo = static_cast<int>(IntArg(info, 0, "signal", 1, kMaxSignal - 1));
  int fd = FdArg(info, 1);
  if (int err = Watch(signo, fd)) ThrowSystemError(env, err, "sigaction");
  Data(env)->signalWatches.emplace_back(signo, fd);
  return env.Undefined();
}

// unwatchSignal(signo, writeFd): true if that watch existed.
Napi::Value UnwatchSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int signo = static_cast<int>(IntArg(info, 0, "signal", 1, kMaxSignal - 1));
  int fd = FdArg(info, 1);
  auto& watches = Data(env)->signalWatches;
  for (auto it = watches.begin(); it != watches.end(); ++it) {
    if (it->first == signo && it->second == fd) {
      watches.erase(it);
      break;
    }
  }
  return Napi::Boolean::New(env, Unwatch(signo, fd) == 0);
}

}  // namespace

// Called from the environment cleanup hook: drops every watch this environment made.
void UnwatchAllSignals(AddonData* data) {
  for (auto& w : data->signalWatches) Unwatch(w.first, w.second);
  data->signalWatches.clear();
}

void InitSignals(Napi::Env env, Napi::Object exports) {
  exports.Set("watchSignal", Napi::Function::New(env, WatchSignal, "watchSignal"));
  exports.Set("unwatchSignal", Napi::Function::New(env, UnwatchSignal, "unwatchSignal"));
}

}  // namespace ns
