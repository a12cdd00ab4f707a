// wait.h — the one EINTR rule of every blocking wait in the addon (the backends' epoll_wait,
// kevent and poll, and the sockets' poll for a timeout or an interrupted connect): a signal
// neither ends the wait early nor stretches it. The wait is called again with the time left
// against a monotonic deadline taken before the first call (PEP 475's rule).
#pragma once

#include <errno.h>
#include <stdint.h>
#include <time.h>

namespace ns {

// Milliseconds on the monotonic clock.
inline int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Time left until deadlineMs, or -1 for "forever" when deadlineMs < 0 (never negative otherwise).
inline int RemainingMs(int64_t deadlineMs) {
  if (deadlineMs < 0) return -1;
  int64_t left = deadlineMs - MonotonicMs();
  if (left < 0) return 0;
  return left > INT32_MAX ? INT32_MAX : static_cast<int>(left);
}

// Calls wait(timeoutMs), a syscall's shape (a count >= 0, or -1 with errno set), until it fails
// with something other than EINTR; each retry gets the time left (-1 stays forever, 0 stays a
// poll). Returns the count, or -errno.
template <typename Wait>
int WaitRetrying(int timeoutMs, Wait&& wait) {
  int64_t deadline = timeoutMs < 0 ? -1 : MonotonicMs() + timeoutMs;
  for (;;) {
    int n = wait(timeoutMs);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
    timeoutMs = RemainingMs(deadline);
  }
}

}  // namespace ns
