// errors.cc — errno → Node-shaped Error objects, and the argument-error helpers.
#include "errors.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <uv.h>

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

static const char* EaiName(int eai) {
  switch (eai) {
    case EAI_AGAIN: return "EAI_AGAIN";
    case EAI_BADFLAGS: return "EAI_BADFLAGS";
    case EAI_FAIL: return "EAI_FAIL";
    case EAI_FAMILY: return "EAI_FAMILY";
    case EAI_MEMORY: return "EAI_MEMORY";
    case EAI_NONAME: return "EAI_NONAME";
    case EAI_SERVICE: return "EAI_SERVICE";
    case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
#ifdef EAI_NODATA
#if EAI_NODATA != EAI_NONAME
    case EAI_NODATA: return "EAI_NODATA";
#endif
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
#endif
    default: return "EAI_UNKNOWN";
  }
}

void ThrowResolveError(Napi::Env env, int eai, const std::string& host) {
  const char* name = EaiName(eai);
  std::string message = std::string(name) + ": " + gai_strerror(eai) + ", getaddrinfo '" + host + "'";
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("errno", Napi::Number::New(env, eai));
  obj.Set("code", Napi::String::New(env, name));
  obj.Set("syscall", Napi::String::New(env, "getaddrinfo"));
  obj.Set("hostname", Napi::String::New(env, host));
  throw error;
}

}  // namespace ns
