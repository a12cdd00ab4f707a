// backend_poll.cc — POSIX poll(2): the Poller backend available everywhere (selectable on Linux
// so its path is tested here) and the low-level `poll` export.
#include <errno.h>
#include <poll.h>

#include <unordered_map>
#include <vector>

#include "args.h"
#include "backend.h"
#include "errors.h"
#include "exports.h"
#include "poll_bits.h"
#include "state.h"
#include "wait.h"

namespace ns {

namespace {

// poll, resuming after EINTR with the time left (wait.h). Returns the count or -errno.
int PollRetrying(pollfd* fds, nfds_t count, int timeoutMs) {
  return WaitRetrying(timeoutMs, [&](int ms) { return poll(fds, count, ms); });
}

class PollPoller final : public Poller {
 public:
  int Fileno() const override { return -1; }

  int Add(int fd, unsigned interest) override {
    if (closed_) return -EBADF;
    if (index_.count(fd)) return -EEXIST;
    index_.emplace(fd, fds_.size());
    fds_.push_back(pollfd{fd, static_cast<short>(BitsToPoll(interest)), 0});
    interest_.push_back(interest);
    return 0;
  }

  int Modify(int fd, unsigned, unsigned interest) override {
    if (closed_) return -EBADF;
    auto it = index_.find(fd);
    if (it == index_.end()) return -ENOENT;
    fds_[it->second].events = static_cast<short>(BitsToPoll(interest));
    interest_[it->second] = interest;
    return 0;
  }

  int Remove(int fd, unsigned) override {
    if (closed_) return -EBADF;
    auto it = index_.find(fd);
    if (it == index_.end()) return -ENOENT;
    size_t slot = it->second;
    size_t last = fds_.size() - 1;
    if (slot != last) {
      fds_[slot] = fds_[last];
      interest_[slot] = interest_[last];
      index_[fds_[slot].fd] = slot;
    }
    fds_.pop_back();
    interest_.pop_back();
    index_.erase(fd);
    return 0;
  }

  int Wait(int32_t* out, size_t capacity, int timeoutMs) override {
    if (closed_) return -EBADF;
    woken_ = false;
    size_t registered = fds_.size();
    // The wake fd rides at the end of the array for this call only.
    if (wakeFd_ >= 0) fds_.push_back(pollfd{wakeFd_, POLLIN, 0});
    int n = PollRetrying(fds_.data(), static_cast<nfds_t>(fds_.size()), timeoutMs);
    if (wakeFd_ >= 0) {
      if (n > 0 && fds_.back().revents != 0) {
        woken_ = true;
        --n;
      }
      fds_.pop_back();
    }
    if (n <= 0) return n;
    size_t count = 0;
    for (size_t i = 0; i < registered && count < capacity; ++i) {
      short revents = fds_[i].revents;
      if (revents == 0) continue;
      out[2 * count] = fds_[i].fd;
      out[2 * count + 1] = static_cast<int32_t>(PollToBits(static_cast<unsigned short>(revents)) & interest_[i]);
      ++count;
    }
    return static_cast<int>(count);
  }

  int SetWakeFd(int fd) override {
    if (closed_) return -EBADF;
    wakeFd_ = fd < 0 ? -1 : fd;
    return 0;
  }

  int Close() override {
    closed_ = true;
    wakeFd_ = -1;
    fds_.clear();
    interest_.clear();
    index_.clear();
    return 0;
  }

 private:
  bool closed_ = false;
  int wakeFd_ = -1;
  std::vector<pollfd> fds_;
  std::vector<unsigned> interest_;
  std::unordered_map<int, size_t> index_;
};

// poll(fds, timeoutMs): fds is an Int32Array of (fd, events, revents) triples; revents is
// written back. Returns the number of entries with revents set, or -errno.
Napi::Value PollExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Int32View triples = Int32ArrayArg(info, 0, "fds");
  int timeoutMs = TimeoutArg(info, 1);
  if (triples.length % 3 != 0)
    ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                   "The \"fds\" array must hold (fd, events, revents) triples: its length must be a multiple of 3",
                   ErrorKind::TypeError);
  size_t count = triples.length / 3;
  std::vector<pollfd> fds(count);
  for (size_t i = 0; i < count; ++i) {
    int32_t events = triples.data[3 * i + 1];
    if (events < 0 || events > 0xffff)
      ThrowCodeError(env, "ERR_OUT_OF_RANGE", "poll events must fit in 16 bits", ErrorKind::RangeError);
    // A negative fd is ignored by poll(2), as the syscall specifies.
    fds[i] = pollfd{triples.data[3 * i], static_cast<short>(events), 0};
  }
  int n = PollRetrying(fds.data(), static_cast<nfds_t>(count), timeoutMs);
  if (n >= 0) {
    for (size_t i = 0; i < count; ++i) triples.data[3 * i + 2] = static_cast<uint16_t>(fds[i].revents);
  }
  return Napi::Number::New(env, n);
}

}  // namespace

std::unique_ptr<Poller> CreatePollPoller(int*) { return std::make_unique<PollPoller>(); }

Napi::Value InitPollExport(Napi::Env env) {
  Napi::Function fn = Napi::Function::New(env, PollExport, "poll");
  struct {
    const char* name;
    int value;
  } constants[] = {
      {"POLLIN", POLLIN},   {"POLLOUT", POLLOUT}, {"POLLPRI", POLLPRI},
      {"POLLERR", POLLERR}, {"POLLHUP", POLLHUP}, {"POLLNVAL", POLLNVAL},
  };
  for (auto& c : constants) fn.Set(c.name, Napi::Number::New(env, c.value));
  return fn;
}

}  // namespace ns
