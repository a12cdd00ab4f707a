// sockaddr.h — socket addresses between JavaScript and sockaddr_storage (sockets.cc), shared
// with the io_uring operations (uring.cc) that connect or send to an address.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include "args.h"

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

// How many int32 words an address written for JavaScript takes: [family, length, the
// sockaddr_storage's bytes] (lib/sockio.ts reads them: IPv4 in JavaScript, the rest through
// decodeAddress). acceptInto, getpeernameInto, recvfromAddressInto and the ring's
// takeAddressInto write it.
constexpr size_t kSockaddrOutWords = 2 + (sizeof(sockaddr_storage) + 3) / 4;
// The "out" argument at info[index]: an Int32Array or Uint32Array (or an ArrayBuffer) of at least
// kSockaddrOutWords elements.
template <class Info>
Int32View SockaddrOutArg(const Info& info, size_t index);
// Writes [family, length, the sockaddr's bytes] into out (checked by SockaddrOutArg). A length of
// 0 means no address (the kernel gave none).
void WriteSockaddr(Int32View out, const sockaddr_storage& ss, socklen_t len);

}  // namespace ns
