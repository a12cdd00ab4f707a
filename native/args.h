// args.h — checks for every argument that crosses from JavaScript into C++.
//
// Each helper either returns a value that is safe to hand to a syscall or throws an Error with
// Node's argument codes (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_INVALID_ARG_VALUE,
// ERR_BUFFER_OUT_OF_BOUNDS). Nothing here trusts a value's type, range or a buffer's length.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ns {

struct ByteView {
  uint8_t* data;
  size_t length;
};

struct Int32View {
  int32_t* data;
  size_t length;  // in elements
};

// The arguments of one call, read with a single napi_get_cb_info: what sockets.cc's functions
// (recv, send, accept... once or more per request) take instead of node-addon-api's CallbackInfo.
// Its wrapper asks Node-API for six arguments, `this` and the data on every call and finds the
// callback through a second data object: about 45 instructions more per call, measured under
// callgrind. Node-API copies each argument asked for (and fills the missing ones with undefined),
// so a function asks for just the count it reads. The checks below take either kind (Info is
// Napi::CallbackInfo or CallArgs).
class CallArgs {
 public:
  // The most arguments a function may ask for (sendto's ten).
  static constexpr size_t kMaxArgs = 10;

  // Reads the first `wanted` (at most kMaxArgs) arguments.
  CallArgs(napi_env env, napi_callback_info info, size_t wanted) : env_(env), wanted_(wanted) {
    size_t argc = wanted;
    // Fails only for a null env or info, which Node never passes.
    napi_get_cb_info(env, info, &argc, argv_, nullptr, &data_);
    length_ = argc;
  }
  CallArgs(const CallArgs&) = delete;
  CallArgs& operator=(const CallArgs&) = delete;

  // The count the caller passed (may exceed the count asked for).
  size_t Length() const { return length_; }
  // The argument at index; undefined past the caller's arguments or the count asked for.
  Napi::Value operator[](size_t index) const {
    return index < wanted_ ? Napi::Value(env_, argv_[index]) : Napi::Env(env_).Undefined();
  }
  Napi::Env Env() const { return Napi::Env(env_); }
  void* Data() const { return data_; }

 private:
  napi_env env_;
  size_t wanted_;
  size_t length_ = 0;
  void* data_ = nullptr;
  napi_value argv_[kMaxArgs];
};

// A plain Node-API callback around fn, which reads at most `arity` arguments: reads them once and
// turns a C++ exception (every check below throws Napi::Error) into a pending JavaScript one.
template <Napi::Value (*fn)(const CallArgs&), size_t arity>
napi_value PlainCallback(napi_env env, napi_callback_info info) {
  static_assert(arity <= CallArgs::kMaxArgs, "CallArgs reads at most kMaxArgs arguments");
  try {
    CallArgs args(env, info, arity);
    return fn(args);
  } catch (const Napi::Error& error) {
    error.ThrowAsJavaScriptException();
    return nullptr;
  }
}

// A non-negative int fd (0 .. INT32_MAX).
template <class Info>
int FdArg(const Info& info, size_t index, const char* name = "fd");

// An integer Number within [min, max]; NaN, fractions and infinities are out of range.
template <class Info>
int64_t IntArg(const Info& info, size_t index, const char* name, int64_t min, int64_t max);
// As IntArg, but undefined gives fallback.
template <class Info>
int64_t OptionalIntArg(const Info& info, size_t index, const char* name, int64_t min, int64_t max, int64_t fallback);

// A timeout in milliseconds: any negative integer means forever (-1), capped at INT32_MAX.
template <class Info>
int TimeoutArg(const Info& info, size_t index, const char* name = "timeoutMs");

template <class Info>
bool BoolArg(const Info& info, size_t index, const char* name);
// As BoolArg, but a missing or undefined argument gives fallback.
template <class Info>
bool OptionalBoolArg(const Info& info, size_t index, const char* name, bool fallback);
template <class Info>
std::string StringArg(const Info& info, size_t index, const char* name);
template <class Info>
Napi::Function FunctionArg(const Info& info, size_t index, const char* name);

// Any ArrayBufferView (Buffer, TypedArray, DataView). A detached buffer has length 0.
template <class Info>
ByteView BufferArg(const Info& info, size_t index, const char* name);
// An ArrayBuffer (not a view, not a SharedArrayBuffer). A detached one has length 0.
template <class Info>
ByteView ArrayBufferArg(const Info& info, size_t index, const char* name);
// An Int32Array or Uint32Array (element view as int32).
template <class Info>
Int32View Int32ArrayArg(const Info& info, size_t index, const char* name);

// As Int32ArrayArg, or an ArrayBuffer seen as int32 words: one cheap Node-API call, where a typed
// array's data takes several (about 400 instructions).
template <class Info>
Int32View WordsArg(const Info& info, size_t index, const char* name);

// Checks (offset, length) at indices [index, index+1] against a view of `size` bytes;
// undefined offset is 0, undefined length is "to the end". Returns the sub-view.
template <class Info>
ByteView SliceArgs(const Info& info, size_t index, ByteView whole);

// The name of a value's type as Node's messages print it.
std::string DescribeValue(const Napi::Value& value);

}  // namespace ns
