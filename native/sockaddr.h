// sockaddr.h — socket addresses between JavaScript and sockaddr_storage (sockets.cc), shared
// with the io_uring operations (uring.cc) that connect or send to an address.
#pragma once

#include <napi.h>
#include <sys/socket.h>

namespace ns {

// [host, port] (IPv4), [host, port, flowinfo, scopeId] (IPv6), a path string (Unix), or null.
Napi::Value AddressToJs(Napi::Env env, const sockaddr_storage& ss, socklen_t len);
// Fills ss from (host|path, port, flowinfo, scopeId) at info[index..] for `family`; resolves host
// names with getaddrinfo (blocking). Throws argument and resolver errors.
template <class Info>
socklen_t AddressFromArgs(const Info& info, size_t index, int family, sockaddr_storage* ss);
// The "family" argument at info[index]: an integer 0..255.
template <class Info>
int FamilyArg(const Info& info, size_t index);

}  // namespace ns
