// errors.cc — errno → Node-shaped Error objects, the argument-error helpers, and the exports
// lib/errors.ts builds its own system errors from (errorFromErrno, errnoInfo).
#include "errors.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <uv.h>

#include "args.h"
#include "exports.h"

namespace ns {

// uv_err_name/uv_strerror strdup a fresh "Unknown system error N" on every call for a code libuv
// lacks (a leak per call), so the lookup goes through the _r variant with a stack buffer.
static bool LibuvKnows(int err) {
  char buf[64];
  uv_err_name_r(-err, buf, sizeof buf);
  return strncmp(buf, "Unknown", 7) != 0;
}

// POSIX errnos libuv has no UV_* code for (uv_err_name calls them "Unknown system error").
// EINPROGRESS matters most: a non-blocking connect reports it (Python's BlockingIOError).
static const char* ErrnoNameNotInLibuv(int err) {
  switch (err) {
    case EINPROGRESS: return "EINPROGRESS";
    case ECHILD: return "ECHILD";
    case EDEADLK: return "EDEADLK";
    case EDOM: return "EDOM";
    case EIDRM: return "EIDRM";
    case ENOEXEC: return "ENOEXEC";
    case ENOLCK: return "ENOLCK";
    case ENOMSG: return "ENOMSG";
    case EDQUOT: return "EDQUOT";
    case ESTALE: return "ESTALE";
    default: return nullptr;
  }
}

const char* ErrnoName(int err) {
  // libuv's error codes are negated errno values on every Unix, so its table names them for us.
  if (LibuvKnows(err)) return uv_err_name(-err);
  const char* extra = ErrnoNameNotInLibuv(err);
  return extra != nullptr ? extra : "UNKNOWN";
}

std::string ErrnoDescription(int err) { return LibuvKnows(err) ? uv_strerror(-err) : strerror(err); }

Napi::Error SystemError(Napi::Env env, int err, const char* syscall) {
  const char* name = ErrnoName(err);
  std::string message = std::string(name) + ": " + ErrnoDescription(err) + ", " + syscall;
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("errno", Napi::Number::New(env, -err));
  obj.Set("code", Napi::String::New(env, name));
  obj.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

void ThrowSystemError(Napi::Env env, int err, const char* syscall) { throw SystemError(env, err, syscall); }

Napi::Error CodeError(Napi::Env env, const char* code, const std::string& message, ErrorKind kind) {
  Napi::Error error = kind == ErrorKind::TypeError    ? Napi::TypeError::New(env, message)
                      : kind == ErrorKind::RangeError ? Napi::RangeError::New(env, message)
                                                      : Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

void ThrowCodeError(Napi::Env env, const char* code, const std::string& message, ErrorKind kind) {
  throw CodeError(env, code, message, kind);
}

// A getaddrinfo(3) status as libuv numbers it (UV_EAI_*), which is what Node's dns errors carry in
// `errno`: glibc's own EAI_* values are small negatives (EAI_NONAME = -2) that collide with errno
// values. EAI_SYSTEM stands for the errno it came with, as in libuv.
static int UvEai(int eai, int sysErrno) {
  switch (eai) {
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return UV_EAI_ADDRFAMILY;
#endif
    case EAI_AGAIN: return UV_EAI_AGAIN;
    case EAI_BADFLAGS: return UV_EAI_BADFLAGS;
#ifdef EAI_BADHINTS
    case EAI_BADHINTS: return UV_EAI_BADHINTS;
#endif
#ifdef EAI_CANCELED
    case EAI_CANCELED: return UV_EAI_CANCELED;
#endif
    case EAI_FAIL: return UV_EAI_FAIL;
    case EAI_FAMILY: return UV_EAI_FAMILY;
    case EAI_MEMORY: return UV_EAI_MEMORY;
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
    case EAI_NODATA: return UV_EAI_NODATA;
#endif
    case EAI_NONAME: return UV_EAI_NONAME;
#ifdef EAI_OVERFLOW
    case EAI_OVERFLOW: return UV_EAI_OVERFLOW;
#endif
#ifdef EAI_PROTOCOL
    case EAI_PROTOCOL: return UV_EAI_PROTOCOL;
#endif
    case EAI_SERVICE: return UV_EAI_SERVICE;
    case EAI_SOCKTYPE: return UV_EAI_SOCKTYPE;
#ifdef EAI_SYSTEM
    case EAI_SYSTEM:
      if (sysErrno != 0) return -sysErrno;
      return UV_EAI_FAIL;
#endif
    default: return UV_EAI_FAIL;
  }
}

void ThrowResolveError(Napi::Env env, int eai, int sysErrno, const char* host) {
  int uvErr = UvEai(eai, sysErrno);
  // Node's DNSException: ENOTFOUND stands for both "no such name" and "no data for it".
  // UV_EAI_* codes lie at -3000 and below, all named by libuv; above them is an EAI_SYSTEM errno.
  std::string code = uvErr == UV_EAI_NONAME || uvErr == UV_EAI_NODATA ? "ENOTFOUND"
                     : uvErr > UV_EAI_ADDRFAMILY                      ? ErrnoName(-uvErr)
                                                                      : uv_err_name(uvErr);
  bool named = host != nullptr && host[0] != '\0';
  std::string message = "getaddrinfo " + code + (named ? std::string(" ") + host : std::string());
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("errno", Napi::Number::New(env, uvErr));
  obj.Set("code", Napi::String::New(env, code));
  obj.Set("syscall", Napi::String::New(env, "getaddrinfo"));
  if (named) obj.Set("hostname", Napi::String::New(env, host));
  throw error;
}

namespace {

// errorFromErrno(errno, syscall): the Error Node would build for that failed system call; errno
// of either sign.
Napi::Value ErrorFromErrno(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t err = IntArg(info, 0, "errno", -4095, 4095);
  std::string syscall = StringArg(info, 1, "syscall");
  return SystemError(env, static_cast<int>(err < 0 ? -err : err), syscall.c_str()).Value();
}

// errnoInfo(errno): [code, description] ("EAGAIN", "resource temporarily unavailable"), errno of
// either sign. lib/errors.ts builds its system errors from it, once per errno.
Napi::Value ErrnoInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t err = IntArg(info, 0, "errno", -4095, 4095);
  int positive = static_cast<int>(err < 0 ? -err : err);
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::String::New(env, ErrnoName(positive)));
  pair.Set(1u, Napi::String::New(env, ErrnoDescription(positive)));
  return pair;
}

}  // namespace

void InitErrors(Napi::Env env, Napi::Object exports) {
  exports.Set("errorFromErrno", Napi::Function::New(env, ErrorFromErrno, "errorFromErrno"));
  exports.Set("errnoInfo", Napi::Function::New(env, ErrnoInfo, "errnoInfo"));
}

}  // namespace ns
