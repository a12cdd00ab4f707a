// sockets.cc — the socket syscalls: socket, socketpair, pipe, bind, listen, accept (single and
// batched), non-blocking connect, recv/send over (buffer, offset, length), gathered writes,
// shutdown, close, integer socket options, addresses (IPv4, IPv6, Unix) and O_NONBLOCK.
//
// Every fd created here is CLOEXEC (and NONBLOCK when asked) from birth and tracked so the
// environment's cleanup hook can close it. Hot-path calls (accept, connect, recv, send, writev)
// return -errno instead of throwing; the rest throw Node-shaped system errors.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "backend.h"
#include "errors.h"
#include "exports.h"
#include "sockaddr.h"
#include "state.h"
#include "uring.h"
#include "wait.h"

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
#define NS_HAVE_ACCEPT4 1
#define NS_HAVE_SOCK_FLAGS 1
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // macOS: SO_NOSIGPIPE is set on every socket instead
#endif

namespace ns {

namespace {

// Every function of this file is created with the environment's AddonData as its data, so a call
// reads it from its own arguments instead of looking the instance data up.
AddonData* DataOf(const CallArgs& info) { return static_cast<AddonData*>(info.Data()); }

// After a socket is made: the flags that socket()/accept4() could not set atomically here.
int FinishNewSocket(int fd, bool nonblock) {
#ifndef NS_HAVE_SOCK_FLAGS
  if (int err = SetNonBlockCloexec(fd, nonblock)) return err;
#endif
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  (void)fd;
  (void)nonblock;
  return 0;
}

int SocketFlags(bool nonblock) {
#ifdef NS_HAVE_SOCK_FLAGS
  return SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);
#else
  (void)nonblock;
  return 0;
#endif
}

// An IPv4 address as dotted decimal, what inet_ntop writes, without its sprintf (which cost
// ~1,600 instructions per accepted connection under callgrind). Returns the length (7..15).
size_t FormatIPv4(const in_addr& addr, char* out) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(&addr.s_addr);  // network order
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned v = bytes[i];
    if (i > 0) out[n++] = '.';
    if (v >= 100) out[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) out[n++] = static_cast<char>('0' + v / 10 % 10);
    out[n++] = static_cast<char>('0' + v % 10);
  }
  return n;
}

}  // namespace

// An address tuple for JavaScript: [host, port] (IPv4), [host, port, flowinfo, scopeId] (IPv6),
// a path string (Unix; an abstract name keeps its leading NUL), or null for an unknown family.
Napi::Value AddressToJs(Napi::Env env, const sockaddr_storage& ss, socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  switch (ss.ss_family) {
    case AF_INET: {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
      size_t hostLength = FormatIPv4(sin->sin_addr, host);
      Napi::Array a = Napi::Array::New(env, 2);
      a.Set(0u, Napi::String::New(env, host, hostLength));
      a.Set(1u, Napi::Number::New(env, ntohs(sin->sin_port)));
      return a;
    }
    case AF_INET6: {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      Napi::Array a = Napi::Array::New(env, 4);
      a.Set(0u, Napi::String::New(env, host));
      a.Set(1u, Napi::Number::New(env, ntohs(sin6->sin6_port)));
      a.Set(2u, Napi::Number::New(env, ntohl(sin6->sin6_flowinfo)));
      a.Set(3u, Napi::Number::New(env, sin6->sin6_scope_id));
      return a;
    }
    case AF_UNIX: {
      const auto* sun = reinterpret_cast<const sockaddr_un*>(&ss);
      size_t offset = offsetof(sockaddr_un, sun_path);
      if (len <= offset) return Napi::String::New(env, "");
      size_t n = len - offset;
      if (n > sizeof sun->sun_path) n = sizeof sun->sun_path;
      // A pathname is NUL-terminated; an abstract name (Linux) starts with NUL and has exact length.
      if (n > 0 && sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
      return Napi::String::New(env, sun->sun_path, n);
    }
    default: return env.Null();
  }
}

// Fills ss from (family, host|path, port, flowinfo, scopeId) at info[index..]. Resolves host
// names with getaddrinfo (blocking, as Python's socket module does).
template <class Info>
socklen_t AddressFromArgs(const Info& info, size_t index, int family, sockaddr_storage* ss) {
  Napi::Env env = info.Env();
  memset(ss, 0, sizeof *ss);
  std::string host = StringArg(info, index, family == AF_UNIX ? "path" : "host");
  if (family == AF_UNIX) {
    auto* sun = reinterpret_cast<sockaddr_un*>(ss);
    if (host.size() >= sizeof sun->sun_path)
      ThrowCodeError(env, "ERR_INVALID_ARG_VALUE", "AF_UNIX path too long", ErrorKind::TypeError);
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, host.data(), host.size());
    // An abstract name (leading NUL) is exactly its length; a path keeps its terminating NUL.
    size_t extra = (!host.empty() && host[0] == '\0') ? 0 : 1;
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + host.size() + extra);
  }
  if (host.find('\0') != std::string::npos)
    ThrowCodeError(env, "ERR_INVALID_ARG_VALUE", "host names must not contain NUL bytes", ErrorKind::TypeError);
  uint16_t port = static_cast<uint16_t>(IntArg(info, index + 1, "port", 0, 65535));
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (host.empty()) {
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (host == "<broadcast>") {
      sin->sin_addr.s_addr = htonl(INADDR_BROADCAST);
    } else if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) {
      addrinfo hints{};
      hints.ai_family = AF_INET;
      addrinfo* res = nullptr;
      int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
      if (rc != 0) ThrowResolveError(env, rc, errno, host.c_str());
      sin->sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
      freeaddrinfo(res);
    }
    return sizeof(sockaddr_in);
  }
  if (family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_flowinfo = htonl(static_cast<uint32_t>(OptionalIntArg(info, index + 2, "flowinfo", 0, 0xfffff, 0)));
    sin6->sin6_scope_id = static_cast<uint32_t>(OptionalIntArg(info, index + 3, "scopeId", 0, 0xffffffffLL, 0));
    if (host.empty()) {
      sin6->sin6_addr = in6addr_any;
    } else if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) {
      addrinfo hints{};
      hints.ai_family = AF_INET6;
      addrinfo* res = nullptr;
      int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
      if (rc != 0) ThrowResolveError(env, rc, errno, host.c_str());
      const auto* found = reinterpret_cast<sockaddr_in6*>(res->ai_addr);
      sin6->sin6_addr = found->sin6_addr;
      if (sin6->sin6_scope_id == 0) sin6->sin6_scope_id = found->sin6_scope_id;
      freeaddrinfo(res);
    }
    return sizeof(sockaddr_in6);
  }
  ThrowSystemError(env, EAFNOSUPPORT, "getaddrinfo");
}

template <class Info>
int FamilyArg(const Info& info, size_t index) {
  return static_cast<int>(IntArg(info, index, "family", 0, 255));
}

// The Int32Array (or its ArrayBuffer) at info[index] that an address is written into, checked to
// hold one.
template <class Info>
Int32View SockaddrOutArg(const Info& info, size_t index) {
  Int32View out = WordsArg(info, index, "out");
  if (out.length < kSockaddrOutWords)
    ThrowCodeError(info.Env(), "ERR_OUT_OF_RANGE",
                   "The \"out\" array must hold at least " + std::to_string(kSockaddrOutWords) +
                       " elements (a family, a length and a sockaddr_storage). Received " + std::to_string(out.length),
                   ErrorKind::RangeError);
  return out;
}

void WriteSockaddr(Int32View out, const sockaddr_storage& ss, socklen_t len) {
  out.data[0] = ss.ss_family;
  out.data[1] = static_cast<int32_t>(len > sizeof ss ? sizeof ss : len);
  memcpy(out.data + 2, &ss, sizeof ss);
}

// sockets.cc's functions read these through CallArgs; uring.cc's through CallbackInfo.
template socklen_t AddressFromArgs(const CallArgs&, size_t, int, sockaddr_storage*);
template socklen_t AddressFromArgs(const Napi::CallbackInfo&, size_t, int, sockaddr_storage*);
template int FamilyArg(const CallArgs&, size_t);
template int FamilyArg(const Napi::CallbackInfo&, size_t);
template Int32View SockaddrOutArg(const CallArgs&, size_t);
template Int32View SockaddrOutArg(const Napi::CallbackInfo&, size_t);

namespace {

Napi::Value Socket(const CallArgs& info) {
  Napi::Env env = info.Env();
  int family = FamilyArg(info, 0);
  int type = static_cast<int>(IntArg(info, 1, "type", 0, 0xffff));
  int proto = static_cast<int>(OptionalIntArg(info, 2, "proto", 0, 0xffff, 0));
  bool nonblock = OptionalBoolArg(info, 3, "nonblock", false);
  int fd = socket(family, type | SocketFlags(nonblock), proto);
  if (fd < 0) ThrowSystemError(env, errno, "socket");
  if (int err = FinishNewSocket(fd, nonblock)) {
    CloseFd(fd);
    ThrowSystemError(env, err, "fcntl");
  }
  TrackFd(DataOf(info), fd);
  return Napi::Number::New(env, fd);
}

Napi::Value SocketPair(const CallArgs& info) {
  Napi::Env env = info.Env();
  int family = static_cast<int>(OptionalIntArg(info, 0, "family", 0, 255, AF_UNIX));
  int type = static_cast<int>(OptionalIntArg(info, 1, "type", 0, 0xffff, SOCK_STREAM));
  int proto = static_cast<int>(OptionalIntArg(info, 2, "proto", 0, 0xffff, 0));
  bool nonblock = OptionalBoolArg(info, 3, "nonblock", false);
  int fds[2];
  if (socketpair(family, type | SocketFlags(nonblock), proto, fds) < 0) ThrowSystemError(env, errno, "socketpair");
  for (int fd : fds) {
    if (int err = FinishNewSocket(fd, nonblock)) {
      CloseFd(fds[0]);
      CloseFd(fds[1]);
      ThrowSystemError(env, err, "fcntl");
    }
  }
  TrackFd(DataOf(info), fds[0]);
  TrackFd(DataOf(info), fds[1]);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

// pipe(nonblock = true): [readFd, writeFd], both CLOEXEC.
Napi::Value Pipe(const CallArgs& info) {
  Napi::Env env = info.Env();
  bool nonblock = OptionalBoolArg(info, 0, "nonblock", true);
  int fds[2];
#if defined(__linux__) || defined(__FreeBSD__)
  if (pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)) < 0) ThrowSystemError(env, errno, "pipe2");
#else
  if (pipe(fds) < 0) ThrowSystemError(env, errno, "pipe");
  for (int fd : fds) {
    if (int err = SetNonBlockCloexec(fd, nonblock)) {
      CloseFd(fds[0]);
      CloseFd(fds[1]);
      ThrowSystemError(env, err, "fcntl");
    }
  }
#endif
  TrackFd(DataOf(info), fds[0]);
  TrackFd(DataOf(info), fds[1]);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

// bind(fd, family, hostOrPath, port?, flowinfo?, scopeId?)
Napi::Value Bind(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int family = FamilyArg(info, 1);
  sockaddr_storage ss;
  socklen_t len = AddressFromArgs(info, 2, family, &ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) ThrowSystemError(env, errno, "bind");
  return env.Undefined();
}

// connect(fd, family, hostOrPath, port?, flowinfo?, scopeId?): 0 or -errno (-EINPROGRESS on a
// non-blocking socket). A blocking connect interrupted by a signal waits for the outcome.
Napi::Value Connect(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int family = FamilyArg(info, 1);
  sockaddr_storage ss;
  socklen_t len = AddressFromArgs(info, 2, family, &ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return Napi::Number::New(env, 0);
  int err = errno;
  if (err == EINTR) {
    // The connection goes on in the kernel (PEP 475): wait for it, then read its outcome.
    pollfd p{fd, POLLOUT, 0};
    WaitRetrying(-1, [&](int ms) { return poll(&p, 1, ms); });
    int soerr = 0;
    socklen_t optlen = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &optlen) < 0) soerr = errno;
    err = soerr;
  }
  return Napi::Number::New(env, -err);
}

Napi::Value Listen(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int backlog = static_cast<int>(OptionalIntArg(info, 1, "backlog", 0, INT32_MAX, SOMAXCONN));
  if (listen(fd, backlog) < 0) ThrowSystemError(env, errno, "listen");
  return env.Undefined();
}

// One accept4 with CLOEXEC (and NONBLOCK when asked), retried on EINTR. Returns fd or -errno.
int AcceptOne(int fd, bool nonblock, sockaddr_storage* ss, socklen_t* len) {
  for (;;) {
#ifdef NS_HAVE_ACCEPT4
    int c = accept4(fd, reinterpret_cast<sockaddr*>(ss), len, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
#else
    int c = accept(fd, reinterpret_cast<sockaddr*>(ss), len);
#endif
    if (c < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (int err = FinishNewSocket(c, nonblock)) {
      CloseFd(c);
      return -err;
    }
    return c;
  }
}

// accept(fd, nonblock = true): the new fd or -errno.
Napi::Value Accept(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  bool nonblock = OptionalBoolArg(info, 1, "nonblock", true);
  int c = AcceptOne(fd, nonblock, nullptr, nullptr);
  if (c >= 0) TrackFd(DataOf(info), c);
  return CountOrErrno(env, c);
}

// acceptAddress(fd, nonblock = true): [fd, address] or -errno.
Napi::Value AcceptAddress(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  bool nonblock = OptionalBoolArg(info, 1, "nonblock", true);
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int c = AcceptOne(fd, nonblock, &ss, &len);
  if (c < 0) return CountOrErrno(env, c);
  TrackFd(DataOf(info), c);
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, CountOrErrno(env, c));
  pair.Set(1u, AddressToJs(env, ss, len));
  return pair;
}

// acceptInto(fd, out, nonblock = true): the new fd or -errno; the peer's address goes into out as
// [family, length, sockaddr bytes...], which lib/sockio.ts reads (IPv4 in JavaScript, the rest
// through decodeAddress). Building the [host, port] array here would cost four element stores
// through Node-API, about 2,000 instructions per connection.
Napi::Value AcceptInto(const CallArgs& info) {
  int fd = FdArg(info, 0);
  Int32View out = SockaddrOutArg(info, 1);  // checked before the accept: a bad array loses nothing
  bool nonblock = OptionalBoolArg(info, 2, "nonblock", true);
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  int c = AcceptOne(fd, nonblock, &ss, &len);
  if (c >= 0) {
    TrackFd(DataOf(info), c);
    WriteSockaddr(out, ss, len);
  }
  return CountOrErrno(info.Env(), c);
}

// decodeAddress(out): the address acceptInto or getpeernameInto wrote into out, as getpeername()
// returns it.
Napi::Value DecodeAddress(const CallArgs& info) {
  Int32View out = SockaddrOutArg(info, 0);
  sockaddr_storage ss;
  memcpy(&ss, out.data + 2, sizeof ss);
  int32_t len = out.data[1];
  if (len < 0 || static_cast<size_t>(len) > sizeof ss || out.data[0] != ss.ss_family)
    ThrowCodeError(info.Env(), "ERR_INVALID_ARG_VALUE",
                   "The \"out\" array does not hold an address written by acceptInto() or getpeernameInto()",
                   ErrorKind::TypeError);
  return AddressToJs(info.Env(), ss, static_cast<socklen_t>(len));
}

// acceptBatch(fd, out, nonblock = true): drains the backlog into out (Int32Array) in one call.
// Returns how many fds were written; when none could be accepted, -errno (-EAGAIN when empty).
Napi::Value AcceptBatch(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  Int32View out = Int32ArrayArg(info, 1, "out");
  bool nonblock = OptionalBoolArg(info, 2, "nonblock", true);
  size_t count = 0;
  int lastError = 0;
  while (count < out.length) {
    int c = AcceptOne(fd, nonblock, nullptr, nullptr);
    if (c < 0) {
      lastError = c;
      break;
    }
    TrackFd(DataOf(info), c);
    out.data[count++] = c;
  }
  if (count == 0 && lastError < 0) return Napi::Number::New(env, lastError);
  return Napi::Number::New(env, static_cast<double>(count));
}

// recv(2) into the window of `whole` that the offset and length arguments (indices 2 and 3) pick,
// with the flags argument (index 4): the count (0 at end of stream) or -errno.
Napi::Value RecvWindow(const CallArgs& info, int fd, ByteView whole) {
  ByteView view = SliceArgs(info, 2, whole);
  int flags = static_cast<int>(OptionalIntArg(info, 4, "flags", 0, INT32_MAX, 0));
  for (;;) {
    ssize_t n = recv(fd, view.data, view.length, flags);
    if (n >= 0) return CountOrErrno(info.Env(), n);
    if (errno != EINTR) return CountOrErrno(info.Env(), -errno);
  }
}

// recv(fd, buffer, offset?, length?, flags?): bytes read (0 at end of stream) or -errno.
Napi::Value Recv(const CallArgs& info) {
  int fd = FdArg(info, 0);
  return RecvWindow(info, fd, BufferArg(info, 1, "buffer"));
}

// recvArrayBuffer(fd, arrayBuffer, offset?, length?, flags?): as recv, into an ArrayBuffer
// itself. Its bytes are found with one cheap call where a view costs several: lib/sockio.ts reads
// every small recv this way into its receive slab's ArrayBuffer.
Napi::Value RecvArrayBuffer(const CallArgs& info) {
  int fd = FdArg(info, 0);
  return RecvWindow(info, fd, ArrayBufferArg(info, 1, "arrayBuffer"));
}

// send(fd, buffer, offset?, length?, flags?): bytes written or -errno. Never raises SIGPIPE.
Napi::Value Send(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  ByteView view = SliceArgs(info, 2, BufferArg(info, 1, "buffer"));
  int flags = static_cast<int>(OptionalIntArg(info, 4, "flags", 0, INT32_MAX, 0));
  for (;;) {
    ssize_t n = send(fd, view.data, view.length, flags | MSG_NOSIGNAL);
    if (n >= 0) return CountOrErrno(env, n);
    if (errno != EINTR) return CountOrErrno(env, -errno);
  }
}

// recvfrom(2) retried on EINTR: the count, or -errno; the sender goes into *ss and *len (length 0
// when the kernel gives none).
ssize_t RecvFromRetrying(int fd, ByteView view, int flags, sockaddr_storage* ss, socklen_t* len) {
  for (;;) {
    memset(ss, 0, sizeof *ss);
    *len = sizeof *ss;
    ssize_t n = recvfrom(fd, view.data, view.length, flags, reinterpret_cast<sockaddr*>(ss), len);
    if (n >= 0 || errno != EINTR) return n >= 0 ? n : -errno;
  }
}

// recvfrom(fd, buffer, offset?, length?, flags?): [bytes, address] or -errno. The address is
// null when the kernel gives none (a connected stream) or its family is not one we know.
Napi::Value RecvFrom(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  ByteView view = SliceArgs(info, 2, BufferArg(info, 1, "buffer"));
  int flags = static_cast<int>(OptionalIntArg(info, 4, "flags", 0, INT32_MAX, 0));
  sockaddr_storage ss;
  socklen_t len = 0;
  ssize_t n = RecvFromRetrying(fd, view, flags, &ss, &len);
  if (n < 0) return CountOrErrno(env, n);
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::Number::New(env, static_cast<double>(n)));
  pair.Set(1u, len == 0 ? env.Null() : AddressToJs(env, ss, len));
  return pair;
}

// recvfromAddressInto(fd, buffer, offset?, length?, flags?, out): as recvfrom, the count (or
// -errno) returned and the sender's address written into out as acceptInto writes it (length 0
// when the kernel gives none). `buffer` may also be an ArrayBuffer, whose bytes cost one cheap
// call (lib/sockio.ts reads into its receive slab's). Building recvfrom's [count, [host, port]]
// pair costs four element stores through Node-API, about 2,000 instructions per datagram.
Napi::Value RecvFromAddressInto(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  void* raw = nullptr;
  size_t rawLength = 0;
  ByteView whole = info.Length() > 1 && napi_get_arraybuffer_info(env, info[1], &raw, &rawLength) == napi_ok
                       ? ByteView{static_cast<uint8_t*>(raw), raw == nullptr ? 0 : rawLength}
                       : BufferArg(info, 1, "buffer");
  ByteView view = SliceArgs(info, 2, whole);
  int flags = static_cast<int>(OptionalIntArg(info, 4, "flags", 0, INT32_MAX, 0));
  Int32View out = SockaddrOutArg(info, 5);
  sockaddr_storage ss;
  socklen_t len = 0;
  ssize_t n = RecvFromRetrying(fd, view, flags, &ss, &len);
  if (n >= 0) WriteSockaddr(out, ss, len);
  return CountOrErrno(env, n);
}

// sendto(fd, buffer, offset, length, flags, family, hostOrPath, port?, flowinfo?, scopeId?):
// bytes written or -errno. Never raises SIGPIPE. Host names are resolved (blocking), as Python's.
Napi::Value SendTo(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  ByteView view = SliceArgs(info, 2, BufferArg(info, 1, "buffer"));
  int flags = static_cast<int>(OptionalIntArg(info, 4, "flags", 0, INT32_MAX, 0));
  int family = FamilyArg(info, 5);
  sockaddr_storage ss;
  socklen_t len = AddressFromArgs(info, 6, family, &ss);
  for (;;) {
    ssize_t n = sendto(fd, view.data, view.length, flags | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len);
    if (n >= 0) return CountOrErrno(env, n);
    if (errno != EINTR) return CountOrErrno(env, -errno);
  }
}

// writev(fd, buffers): a gathered write through sendmsg (so MSG_NOSIGNAL applies). Returns the
// bytes written or -errno. At most IOV_MAX (1024) buffers per call.
Napi::Value Writev(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  if (info.Length() < 2 || !info[1].IsArray())
    ThrowCodeError(env, "ERR_INVALID_ARG_TYPE",
                   "The \"buffers\" argument must be an Array of ArrayBufferViews. Received " +
                       DescribeValue(info.Length() < 2 ? env.Undefined() : info[1]),
                   ErrorKind::TypeError);
  Napi::Array list = info[1].As<Napi::Array>();
  uint32_t count = list.Length();
  if (count > 1024)
    ThrowCodeError(env, "ERR_OUT_OF_RANGE", "at most 1024 buffers per writev call", ErrorKind::RangeError);
  iovec stackIov[64];
  std::vector<iovec> heapIov;
  iovec* iov = stackIov;
  if (count > 64) {
    heapIov.resize(count);
    iov = heapIov.data();
  }
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsTypedArray() && !item.IsDataView())
      ThrowCodeError(env, "ERR_INVALID_ARG_TYPE",
                     "Every element of \"buffers\" must be an ArrayBufferView. Received " + DescribeValue(item) +
                         " at index " + std::to_string(i),
                     ErrorKind::TypeError);
    napi_value raw = item;
    // Reuse BufferArg's checks through a one-element view of the value.
    void* data = nullptr;
    size_t length = 0;
    bool isTyped = false;
    napi_is_typedarray(env, raw, &isTyped);
    if (isTyped) {
      napi_typedarray_type type;
      size_t elements = 0;
      napi_value ab;
      size_t off = 0;
      napi_get_typedarray_info(env, raw, &type, &elements, &data, &ab, &off);
      size_t size = (type == napi_int16_array || type == napi_uint16_array)                                       ? 2
                    : (type == napi_int32_array || type == napi_uint32_array || type == napi_float32_array)       ? 4
                    : (type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array) ? 8
                                                                                                                  : 1;
      length = elements * size;
    } else {
      napi_value ab;
      size_t off = 0;
      napi_get_dataview_info(env, raw, &length, &data, &ab, &off);
    }
    if (data == nullptr) length = 0;
    iov[i].iov_base = data;
    iov[i].iov_len = length;
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  for (;;) {
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return CountOrErrno(env, n);
    if (errno != EINTR) return CountOrErrno(env, -errno);
  }
}

Napi::Value Shutdown(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int how = static_cast<int>(IntArg(info, 1, "how", 0, 2));
  if (shutdown(fd, how) < 0) ThrowSystemError(env, errno, "shutdown");
  return env.Undefined();
}

// close(fd): throws EBADF for an fd that is not open. EINTR counts as closed (not retried).
Napi::Value Close(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  AddonData* data = DataOf(info);
  UntrackFd(data, fd);
  StopWatchersOnFd(data, fd);
  ForgetFdInKqueues(fd);  // libkqueue cannot see the close (backend_kqueue.cc)
  NoteFdClosedInEpolls(fd);
  CancelRingOpsOnFd(data, fd);
  if (int err = CloseFd(fd)) ThrowSystemError(env, err, "close");
  return env.Undefined();
}

Napi::Value SetSockOpt(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int level = static_cast<int>(IntArg(info, 1, "level", 0, INT32_MAX));
  int name = static_cast<int>(IntArg(info, 2, "option", 0, INT32_MAX));
  int value;
  if (info.Length() > 3 && info[3].IsBoolean()) {
    value = info[3].As<Napi::Boolean>().Value() ? 1 : 0;
  } else {
    value = static_cast<int>(IntArg(info, 3, "value", INT32_MIN, INT32_MAX));
  }
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) ThrowSystemError(env, errno, "setsockopt");
  return env.Undefined();
}

Napi::Value GetSockOpt(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int level = static_cast<int>(IntArg(info, 1, "level", 0, INT32_MAX));
  int name = static_cast<int>(IntArg(info, 2, "option", 0, INT32_MAX));
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) < 0) ThrowSystemError(env, errno, "getsockopt");
  return Napi::Number::New(env, value);
}

Napi::Value GetSockName(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) ThrowSystemError(env, errno, "getsockname");
  return AddressToJs(env, ss, len);
}

Napi::Value GetPeerName(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) ThrowSystemError(env, errno, "getpeername");
  return AddressToJs(env, ss, len);
}

// getpeernameInto(fd, out): 0 or -errno (-ENOTCONN with no peer); the address goes into out as
// acceptInto writes it.
Napi::Value GetPeerNameInto(const CallArgs& info) {
  int fd = FdArg(info, 0);
  Int32View out = SockaddrOutArg(info, 1);
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return CountOrErrno(info.Env(), -errno);
  WriteSockaddr(out, ss, len);
  return CountOrErrno(info.Env(), 0);
}

// setNonBlocking(fd, on): one ioctl(FIONBIO), where the fcntl pair F_GETFL + F_SETFL takes two
// syscalls (CPython's setblocking uses the ioctl too).
Napi::Value SetNonBlocking(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int on = BoolArg(info, 1, "nonblock") ? 1 : 0;
  if (ioctl(fd, FIONBIO, &on) < 0) ThrowSystemError(env, errno, "ioctl");
  return env.Undefined();
}

Napi::Value GetNonBlocking(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) ThrowSystemError(env, errno, "fcntl");
  return Napi::Boolean::New(env, (flags & O_NONBLOCK) != 0);
}

// socketInfo(fd): [family, type, proto, nonblocking] of an open socket fd, what CPython's socket()
// finds out about an fd it wraps without being told. SO_TYPE comes first so that an fd that is not
// a socket (a pipe, a file) fails as ENOTSOCK from getsockopt on every platform, and a closed one
// as EBADF. The family is SO_DOMAIN where the kernel has it (Linux, FreeBSD), else getsockname's
// sa_family (macOS: an unbound AF_UNIX socket may report 0 there, as it does to CPython); the
// protocol is SO_PROTOCOL where it exists (Linux: 6 for TCP, 17 for UDP), else 0.
Napi::Value SocketInfo(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) ThrowSystemError(env, errno, "getsockopt");
  int family = 0;
#ifdef SO_DOMAIN
  len = sizeof family;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) ThrowSystemError(env, errno, "getsockopt");
#else
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t sslen = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sslen) < 0) ThrowSystemError(env, errno, "getsockname");
  family = ss.ss_family;
#endif
  int proto = 0;
#ifdef SO_PROTOCOL
  len = sizeof proto;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0) ThrowSystemError(env, errno, "getsockopt");
#endif
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) ThrowSystemError(env, errno, "fcntl");
  Napi::Array a = Napi::Array::New(env, 4);
  a.Set(0u, Napi::Number::New(env, family));
  a.Set(1u, Napi::Number::New(env, type));
  a.Set(2u, Napi::Number::New(env, proto));
  a.Set(3u, Napi::Boolean::New(env, (flags & O_NONBLOCK) != 0));
  return a;
}

// dup(fd): a new fd for the same open socket (the blocking mode is shared: it belongs to the open
// file description), CLOEXEC from birth and tracked; throws a system error (syscall 'dup').
Napi::Value Dup(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
#ifdef F_DUPFD_CLOEXEC
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) ThrowSystemError(env, errno, "dup");
#else
  int copy = dup(fd);
  if (copy < 0) ThrowSystemError(env, errno, "dup");
  if (fcntl(copy, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    CloseFd(copy);
    ThrowSystemError(env, err, "fcntl");
  }
#endif
  TrackFd(DataOf(info), copy);
  return Napi::Number::New(env, copy);
}

// A host or port argument of getaddrinfo: null/undefined (nullptr), or a string without NUL.
// A port may also be an integer 0-65535, passed on as its decimal text.
bool NameArg(const CallArgs& info, size_t index, const char* name, bool port, std::string* out) {
  Napi::Env env = info.Env();
  Napi::Value v = index < info.Length() ? info[index] : env.Undefined();
  if (v.IsNull() || v.IsUndefined()) return false;
  if (v.IsString()) {
    *out = v.As<Napi::String>().Utf8Value();
    if (out->find('\0') != std::string::npos)
      ThrowCodeError(env, "ERR_INVALID_ARG_VALUE",
                     std::string("The \"") + name + "\" argument must not contain NUL bytes", ErrorKind::TypeError);
    return true;
  }
  if (port && v.IsNumber()) {
    *out = std::to_string(IntArg(info, index, name, 0, 65535));
    return true;
  }
  ThrowCodeError(env, "ERR_INVALID_ARG_TYPE",
                 std::string("The \"") + name + "\" argument must be " +
                     (port ? "a number, a string or null" : "of type string or null") + ". Received " +
                     DescribeValue(v),
                 ErrorKind::TypeError);
}

// getaddrinfo(host, port, family = 0, type = 0, proto = 0, flags = 0): Python's socket.getaddrinfo,
// blocking. [[family, type, proto, canonname, address], ...] in the resolver's order; canonname is
// '' unless AI_CANONNAME asked for it (on the first entry); address as getsockname returns it (null
// for a family this module does not know). Every argument is checked before the resolver runs.
// Failures throw Node's dns error shape (ThrowResolveError).
Napi::Value GetAddrInfo(const CallArgs& info) {
  Napi::Env env = info.Env();
  std::string host;
  std::string port;
  bool hasHost = NameArg(info, 0, "host", false, &host);
  bool hasPort = NameArg(info, 1, "port", true, &port);
  addrinfo hints{};
  hints.ai_family = static_cast<int>(OptionalIntArg(info, 2, "family", 0, INT32_MAX, AF_UNSPEC));
  hints.ai_socktype = static_cast<int>(OptionalIntArg(info, 3, "type", 0, INT32_MAX, 0));
  hints.ai_protocol = static_cast<int>(OptionalIntArg(info, 4, "proto", 0, INT32_MAX, 0));
  hints.ai_flags = static_cast<int>(OptionalIntArg(info, 5, "flags", 0, INT32_MAX, 0));
  addrinfo* res = nullptr;
  int rc = getaddrinfo(hasHost ? host.c_str() : nullptr, hasPort ? port.c_str() : nullptr, &hints, &res);
  if (rc != 0) ThrowResolveError(env, rc, errno, hasHost ? host.c_str() : nullptr);
  // Freed on every path out, a throw from building the result included.
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(res, freeaddrinfo);
  Napi::Array list = Napi::Array::New(env);
  uint32_t i = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len = std::min<socklen_t>(ai->ai_addrlen, sizeof ss);
    if (ai->ai_addr != nullptr) memcpy(&ss, ai->ai_addr, len);
    Napi::Array entry = Napi::Array::New(env, 5);
    entry.Set(0u, Napi::Number::New(env, ai->ai_family));
    entry.Set(1u, Napi::Number::New(env, ai->ai_socktype));
    entry.Set(2u, Napi::Number::New(env, ai->ai_protocol));
    entry.Set(3u, Napi::String::New(env, ai->ai_canonname != nullptr ? ai->ai_canonname : ""));
    entry.Set(4u, ai->ai_addr != nullptr ? AddressToJs(env, ss, len) : env.Null());
    list.Set(i++, entry);
  }
  return list;
}

// The portable half of sendfile: pread at `offset` (the file's position is neither used nor
// moved), then one send with MSG_NOSIGNAL. Bytes read but not taken by send are read again by the
// next call, which starts at offset + sent.
int64_t PreadSend(int out, int in, int64_t offset, size_t count) {
  std::vector<uint8_t> buffer(std::min<size_t>(count, 64 * 1024));
  ssize_t got;
  do {
    got = pread(in, buffer.data(), buffer.size(), static_cast<off_t>(offset));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return got < 0 ? -errno : 0;
  for (;;) {
    ssize_t n = send(out, buffer.data(), static_cast<size_t>(got), MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

// sendfile(sockFd, fileFd, offset, count): sends up to `count` bytes of the file from `offset` and
// returns how many went out, 0 at the end of the file, or -errno (-EAGAIN on a full non-blocking
// socket). The file's own position is neither used nor moved. Linux: sendfile(2), at most
// 0x7ffff000 bytes a call (the kernel's cap); it raises no SIGPIPE in Node, which ignores that
// signal, and a closed peer gives -EPIPE. Where sendfile(2) refuses the file (EINVAL, ENOSYS: not
// a file it can map) and on other systems (macOS and the BSDs have a sendfile of another shape):
// pread + send, at most 64 KiB a call, so a file must support pread (ESPIPE for a pipe).
Napi::Value SendFile(const CallArgs& info) {
  Napi::Env env = info.Env();
  int out = FdArg(info, 0);
  int in = FdArg(info, 1, "fileFd");
  int64_t offset = IntArg(info, 2, "offset", 0, 9007199254740991LL);
  int64_t count = IntArg(info, 3, "count", 0, INT32_MAX);
  if (count == 0) return Napi::Number::New(env, 0);
#ifdef __linux__
  off_t position = static_cast<off_t>(offset);
  size_t chunk = static_cast<size_t>(std::min<int64_t>(count, 0x7ffff000));
  for (;;) {
    ssize_t n = sendfile(out, in, &position, chunk);
    if (n >= 0) return CountOrErrno(env, n);
    if (errno == EINTR) continue;
    if (errno != EINVAL && errno != ENOSYS) return CountOrErrno(env, -errno);
    break;
  }
#endif
  return Napi::Number::New(env, static_cast<double>(PreadSend(out, in, offset, static_cast<size_t>(count))));
}

// isOpen(fd): whether fd names an open file description (fcntl F_GETFD).
Napi::Value IsOpen(const CallArgs& info) {
  int fd = FdArg(info, 0);
  return Napi::Boolean::New(info.Env(), fcntl(fd, F_GETFD) >= 0);
}

// waitFd(fd, events, timeoutMs): poll one fd; returns revents (0 on timeout) or -errno.
Napi::Value WaitFd(const CallArgs& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  short events = static_cast<short>(IntArg(info, 1, "events", 0, 0x7fff));
  int timeoutMs = TimeoutArg(info, 2);
  pollfd p{fd, events, 0};
  int n = WaitRetrying(timeoutMs, [&](int ms) { return poll(&p, 1, ms); });
  return Napi::Number::New(env, n > 0 ? p.revents : n);
}

}  // namespace

void InitSockets(Napi::Env env, Napi::Object exports) {
  struct {
    const char* name;
    napi_callback fn;
  } functions[] = {
      {"socket", PlainCallback<Socket, 4>},
      {"socketpair", PlainCallback<SocketPair, 4>},
      {"pipe", PlainCallback<Pipe, 1>},
      {"bind", PlainCallback<Bind, 6>},
      {"connect", PlainCallback<Connect, 6>},
      {"listen", PlainCallback<Listen, 2>},
      {"accept", PlainCallback<Accept, 2>},
      {"acceptAddress", PlainCallback<AcceptAddress, 2>},
      {"acceptBatch", PlainCallback<AcceptBatch, 3>},
      {"acceptInto", PlainCallback<AcceptInto, 3>},
      {"decodeAddress", PlainCallback<DecodeAddress, 1>},
      {"recv", PlainCallback<Recv, 5>},
      {"recvArrayBuffer", PlainCallback<RecvArrayBuffer, 5>},
      {"send", PlainCallback<Send, 5>},
      {"recvfrom", PlainCallback<RecvFrom, 5>},
      {"recvfromAddressInto", PlainCallback<RecvFromAddressInto, 6>},
      {"sendto", PlainCallback<SendTo, 10>},
      {"writev", PlainCallback<Writev, 2>},
      {"shutdown", PlainCallback<Shutdown, 2>},
      {"close", PlainCallback<Close, 1>},
      {"setsockopt", PlainCallback<SetSockOpt, 4>},
      {"getsockopt", PlainCallback<GetSockOpt, 3>},
      {"getsockname", PlainCallback<GetSockName, 1>},
      {"getpeername", PlainCallback<GetPeerName, 1>},
      {"getpeernameInto", PlainCallback<GetPeerNameInto, 2>},
      {"setNonBlocking", PlainCallback<SetNonBlocking, 2>},
      {"getNonBlocking", PlainCallback<GetNonBlocking, 1>},
      {"isOpen", PlainCallback<IsOpen, 1>},
      {"socketInfo", PlainCallback<SocketInfo, 1>},
      {"dup", PlainCallback<Dup, 1>},
      {"getaddrinfo", PlainCallback<GetAddrInfo, 6>},
      {"sendfile", PlainCallback<SendFile, 4>},
      {"waitFd", PlainCallback<WaitFd, 3>},
  };
  AddonData* data = Data(env);
  // Plain Node-API functions (see CallArgs in args.h), each with the AddonData as its data and the
  // count of arguments it reads (the signatures above; recv's window and flags are 2..4, an
  // address takes four from its index).
  for (auto& f : functions) {
    napi_value fn;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, data, &fn));
    exports.Set(f.name, Napi::Value(env, fn));
  }
  exports.Set("sockaddrOutWords", Napi::Number::New(env, static_cast<double>(kSockaddrOutWords)));
}

}  // namespace ns
