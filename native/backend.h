// backend.h — the one contract every readiness backend (epoll, kqueue, poll) implements.
//
// A Poller holds interest in (fd, READ|WRITE) and waits for readiness. Interest and results use
// Python's bits: READ = 1, WRITE = 2. Each backend translates its kernel's flags in its own file:
// epoll's HUP and ERR count as both READ and WRITE (masked by the interest), poll's likewise;
// kqueue's filters are separate registrations, not a bitmask, so its backend keeps one filter
// per bit and merges the two filters' results for an fd into one pair.
//
// Every method returns 0 (or a count) on success and -errno on failure; nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ns {

constexpr unsigned kRead = 1;
constexpr unsigned kWrite = 2;

enum class BackendKind { Epoll, Kqueue, Poll };

class UringPoller;  // uring.h: the io_uring ring, a Poller that also carries completion operations

class Poller {
 public:
  virtual ~Poller() = default;
  // The kernel object's fd (epoll/kqueue), or -1 for poll which has none.
  virtual int Fileno() const = 0;
  virtual int Add(int fd, unsigned interest) = 0;
  virtual int Modify(int fd, unsigned oldInterest, unsigned interest) = 0;
  virtual int Remove(int fd, unsigned oldInterest) = 0;
  // Waits up to timeoutMs (-1 forever, 0 poll), resuming after EINTR with the time left. Writes
  // up to `capacity` (fd, bits) pairs into out and returns how many, or -errno.
  virtual int Wait(int32_t* out, size_t capacity, int timeoutMs) = 0;
  // Closes the kernel object; idempotent. Returns 0 or -errno.
  virtual int Close() = 0;

  // The wake fd (libuv's own backend fd, while a loop owns the thread on this poller): every Wait
  // also returns when it is readable, without reporting it in `out`; Woken() tells whether the
  // last Wait saw it. -1 stops watching it. It is watched for readability only, and it must not
  // be registered through Add as well. Returns 0 or -errno.
  virtual int SetWakeFd(int fd) = 0;
  bool Woken() const { return woken_; }

  // The io_uring ring behind this Poller, or nullptr for a readiness-only backend.
  virtual UringPoller* AsUring() { return nullptr; }

 protected:
  bool woken_ = false;
};

// Each returns nullptr and sets *err (positive errno) on failure, or nullptr with err = ENOSYS
// when this build has no such backend.
std::unique_ptr<Poller> CreateEpollPoller(int* err);
std::unique_ptr<Poller> CreateKqueuePoller(int* err);
std::unique_ptr<Poller> CreatePollPoller(int* err);

bool HaveEpoll();
bool HaveKqueue();

// Deletes fd's filters from every kqueue Poller of the calling thread; close() calls it before
// closing an fd. libkqueue (kqueue on Linux) cannot see a close, and an fd closed while still
// registered leaves it unsafe to delete afterwards (backend_kqueue.cc says why); the BSD kernels
// drop the knotes on close themselves, and there it does nothing.
void ForgetFdInKqueues(int fd);

// Tells every epoll Poller of the calling thread that fd is about to be closed; close() calls it.
// Closing the last reference takes the fd out of every epoll set, so a Poller that had it
// registered then forgets it on Remove without the EPOLL_CTL_DEL that could only fail.
void NoteFdClosedInEpolls(int fd);

}  // namespace ns
