// errors.h — turning errno values and bad arguments into JavaScript errors shaped like Node's own.
//
// System errors carry `code` ('EBADF'), `errno` (negative, as Node's), `syscall` and the message
// "EBADF: bad file descriptor, epoll_ctl". Argument errors carry Node's `ERR_*` codes.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace ns {

// The symbolic name of an errno value ("EBADF", "EINPROGRESS"); "Unknown system error" for one
// neither libuv nor our short list of the errnos libuv lacks knows.
const char* ErrnoName(int err);
// Its description as Node words it ("bad file descriptor"): libuv's text, else strerror's.
std::string ErrnoDescription(int err);

// Builds the Error Node would build for a failed system call (err is a positive errno).
Napi::Error SystemError(Napi::Env env, int err, const char* syscall);
[[noreturn]] void ThrowSystemError(Napi::Env env, int err, const char* syscall);

// A hot-path call's result: a count, an fd or -errno, as a Number. Made as an int32 (a small
// integer V8 holds without allocating), and as a double only past int32's range.
inline Napi::Value CountOrErrno(Napi::Env env, int64_t n) {
  napi_value v;
  if (n >= INT32_MIN && n <= INT32_MAX) {
    napi_create_int32(env, static_cast<int32_t>(n), &v);
  } else {
    napi_create_double(env, static_cast<double>(n), &v);
  }
  return Napi::Value(env, v);
}

// Builds an Error with a string code; kind selects TypeError or RangeError.
enum class ErrorKind { Error, TypeError, RangeError };
Napi::Error CodeError(Napi::Env env, const char* code, const std::string& message, ErrorKind kind = ErrorKind::Error);
[[noreturn]] void ThrowCodeError(Napi::Env env, const char* code, const std::string& message,
                                 ErrorKind kind = ErrorKind::Error);

// A getaddrinfo(3) failure shaped like Node's dns errors: message "getaddrinfo ENOTFOUND host",
// code 'ENOTFOUND' (EAI_NONAME, EAI_NODATA) or libuv's name ('EAI_AGAIN', 'EAI_SERVICE'...; for
// EAI_SYSTEM the errno's name), errno the UV_EAI_* number (for EAI_SYSTEM: -errno), syscall
// 'getaddrinfo', and hostname when host is a non-empty name (host may be null).
[[noreturn]] void ThrowResolveError(Napi::Env env, int eai, int sysErrno, const char* host);

}  // namespace ns
