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

// A non-negative int fd (0 .. INT32_MAX).
int FdArg(const Napi::CallbackInfo& info, size_t index, const char* name = "fd");

// An integer Number within [min, max]; NaN, fractions and infinities are out of range.
int64_t IntArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max);
// As IntArg, but undefined gives fallback.
int64_t OptionalIntArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max,
                       int64_t fallback);

// A timeout in milliseconds: any negative integer means forever (-1), capped at INT32_MAX.
int TimeoutArg(const Napi::CallbackInfo& info, size_t index, const char* name = "timeoutMs");

bool BoolArg(const Napi::CallbackInfo& info, size_t index, const char* name);
// As BoolArg, but a missing or undefined argument gives fallback.
bool OptionalBoolArg(const Napi::CallbackInfo& info, size_t index, const char* name, bool fallback);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// Any ArrayBufferView (Buffer, TypedArray, DataView). A detached buffer has length 0.
ByteView BufferArg(const Napi::CallbackInfo& info, size_t index, const char* name);
// An ArrayBuffer (not a view, not a SharedArrayBuffer). A detached one has length 0.
ByteView ArrayBufferArg(const Napi::CallbackInfo& info, size_t index, const char* name);
// An Int32Array or Uint32Array (element view as int32).
Int32View Int32ArrayArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// Checks (offset, length) at indices [index, index+1] against a view of `size` bytes;
// undefined offset is 0, undefined length is "to the end". Returns the sub-view.
ByteView SliceArgs(const Napi::CallbackInfo& info, size_t index, ByteView whole);

// The name of a value's type as Node's messages print it.
std::string DescribeValue(const Napi::Value& value);

}  // namespace ns
