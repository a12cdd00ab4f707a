// poll_bits.h — Python's READ/WRITE bits to and from poll(2)'s event bits, shared by the poll
// backend and the io_uring ring's poll requests (which take and report the same bits).
#pragma once

#include <poll.h>

#include "backend.h"

namespace ns {

inline unsigned BitsToPoll(unsigned interest) {
  unsigned ev = 0;
  if (interest & kRead) ev |= POLLIN;
  if (interest & kWrite) ev |= POLLOUT;
  return ev;
}

// As epoll: any bit but IN counts as WRITE, any bit but OUT as READ (so HUP, ERR, NVAL give both).
inline unsigned PollToBits(unsigned revents) {
  unsigned bits = 0;
  if (revents & ~static_cast<unsigned>(POLLIN)) bits |= kWrite;
  if (revents & ~static_cast<unsigned>(POLLOUT)) bits |= kRead;
  return bits;
}

}  // namespace ns
