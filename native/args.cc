// args.cc — argument checks (see args.h).
#include "args.h"

#include <climits>
#include <cmath>

#include "errors.h"

namespace ns {

std::string DescribeValue(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean:
      return std::string("type boolean (") + (value.As<Napi::Boolean>().Value() ? "true" : "false") + ")";
    case napi_number: {
      double d = value.As<Napi::Number>().DoubleValue();
      std::string s = std::isnan(d)   ? "NaN"
                      : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity")
                                      : Napi::Value(value).ToString().Utf8Value();
      return "type number (" + s + ")";
    }
    case napi_string: {
      std::string s = value.As<Napi::String>().Utf8Value();
      if (s.size() > 28) s = s.substr(0, 25) + "...";
      return "type string ('" + s + "')";
    }
    case napi_symbol: return "type symbol";
    case napi_function: return "function";
    case napi_bigint: return "type bigint";
    case napi_object:
      if (value.IsArray()) return "an instance of Array";
      if (value.IsTypedArray() || value.IsDataView() || value.IsBuffer()) return "an instance of ArrayBufferView";
      return "an instance of Object";
    default: return "an unknown value";
  }
}

template <class Info>
[[noreturn]] static void ThrowType(const Info& info, size_t index, const char* name, const char* expected) {
  Napi::Value v = index < info.Length() ? info[index] : info.Env().Undefined();
  ThrowCodeError(info.Env(), "ERR_INVALID_ARG_TYPE",
                 std::string("The \"") + name + "\" argument must be " + expected + ". Received " + DescribeValue(v),
                 ErrorKind::TypeError);
}

[[noreturn]] static void ThrowRange(Napi::Env env, const char* name, const std::string& bounds,
                                    const std::string& received) {
  ThrowCodeError(
      env, "ERR_OUT_OF_RANGE",
      std::string("The value of \"") + name + "\" is out of range. It must be " + bounds + ". Received " + received,
      ErrorKind::RangeError);
}

static std::string NumberText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// One napi_get_value_double both checks the type and reads the value (the int32 fast path: no
// napi_typeof first); only a failure pays for describing the value.
template <class Info>
static bool ReadNumber(const Info& info, size_t index, double* out) {
  return index < info.Length() && napi_get_value_double(info.Env(), info[index], out) == napi_ok;
}

// The out-of-range throw, apart from CheckedInteger so that the check itself stays a few
// instructions with no frame to set up (it runs for every fd, offset and length).
template <class Info>
[[noreturn]] [[gnu::noinline]] [[gnu::cold]] static void ThrowIntegerRange(const Info& info, const char* name, double d,
                                                                           int64_t min, int64_t max) {
  ThrowRange(info.Env(), name, "an integer >= " + std::to_string(min) + " and <= " + std::to_string(max),
             NumberText(d));
}

template <class Info>
static inline int64_t CheckedInteger(const Info& info, const char* name, double d, int64_t min, int64_t max) {
  // Comparisons first (NaN fails them, and the cast below is defined only for a double inside
  // int64's range: 0x1p63 is INT64_MAX + 1 rounded); then a truncating cast that loses nothing is
  // an integer. No floor or isfinite call.
  if (d >= static_cast<double>(min) && d <= static_cast<double>(max) && d < 0x1p63) {
    int64_t i = static_cast<int64_t>(d);
    if (static_cast<double>(i) == d) return i;
  }
  ThrowIntegerRange(info, name, d, min, max);
}

template <class Info>
int64_t IntArg(const Info& info, size_t index, const char* name, int64_t min, int64_t max) {
  double d;
  if (!ReadNumber(info, index, &d)) ThrowType(info, index, name, "of type number");
  return CheckedInteger(info, name, d, min, max);
}

template <class Info>
int64_t OptionalIntArg(const Info& info, size_t index, const char* name, int64_t min, int64_t max, int64_t fallback) {
  double d;
  if (ReadNumber(info, index, &d)) return CheckedInteger(info, name, d, min, max);
  if (index >= info.Length() || info[index].IsUndefined()) return fallback;
  ThrowType(info, index, name, "of type number");
}

template <class Info>
bool OptionalBoolArg(const Info& info, size_t index, const char* name, bool fallback) {
  bool value;
  if (index < info.Length() && napi_get_value_bool(info.Env(), info[index], &value) == napi_ok) return value;
  if (index >= info.Length() || info[index].IsUndefined()) return fallback;
  ThrowType(info, index, name, "of type boolean");
}

template <class Info>
int FdArg(const Info& info, size_t index, const char* name) {
  return static_cast<int>(IntArg(info, index, name, 0, INT_MAX));
}

template <class Info>
int TimeoutArg(const Info& info, size_t index, const char* name) {
  double d;
  if (!ReadNumber(info, index, &d)) ThrowType(info, index, name, "of type number");
  if (std::isnan(d)) ThrowRange(info.Env(), name, "a number (negative waits forever)", "NaN");
  if (d < 0) return -1;
  if (d >= static_cast<double>(INT_MAX)) return INT_MAX;
  return static_cast<int>(std::ceil(d));
}

template <class Info>
bool BoolArg(const Info& info, size_t index, const char* name) {
  bool value;
  if (index >= info.Length() || napi_get_value_bool(info.Env(), info[index], &value) != napi_ok)
    ThrowType(info, index, name, "of type boolean");
  return value;
}

template <class Info>
std::string StringArg(const Info& info, size_t index, const char* name) {
  if (index >= info.Length() || !info[index].IsString()) ThrowType(info, index, name, "of type string");
  return info[index].template As<Napi::String>().Utf8Value();
}

template <class Info>
Napi::Function FunctionArg(const Info& info, size_t index, const char* name) {
  if (index >= info.Length() || !info[index].IsFunction()) ThrowType(info, index, name, "of type function");
  return info[index].template As<Napi::Function>();
}

template <class Info>
ByteView BufferArg(const Info& info, size_t index, const char* name) {
  if (index >= info.Length()) ThrowType(info, index, name, "an instance of Buffer, TypedArray, or DataView");
  napi_env env = info.Env();
  napi_value v = info[index];
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type;
  size_t elements = 0;
  napi_value arraybuffer;
  size_t byteOffset = 0;
  // napi_get_buffer_info takes any ArrayBufferView in Node (node::Buffer::HasInstance) and gives
  // its byte length: one call, without napi_get_typedarray_info's walk through the element types.
  // Where it refuses (a runtime that takes Buffers and Uint8Arrays only), the typed-array and
  // DataView calls below answer; neither throws for a wrong value (napi_invalid_arg).
  if (napi_get_buffer_info(env, v, &data, &length) == napi_ok) {
    if (data == nullptr) length = 0;  // detached or zero-length
    return ByteView{static_cast<uint8_t*>(data), length};
  }
  if (napi_get_typedarray_info(env, v, &type, &elements, &data, &arraybuffer, &byteOffset) == napi_ok) {
    size_t elementSize = 1;
    switch (type) {
      case napi_int16_array:
      case napi_uint16_array: elementSize = 2; break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array: elementSize = 4; break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array: elementSize = 8; break;
      default: elementSize = 1;
    }
    length = elements * elementSize;
  } else {
    bool is = false;
    if (napi_is_dataview(env, v, &is) != napi_ok || !is ||
        napi_get_dataview_info(env, v, &length, &data, &arraybuffer, &byteOffset) != napi_ok)
      ThrowType(info, index, name, "an instance of Buffer, TypedArray, or DataView");
  }
  if (data == nullptr) length = 0;  // detached or zero-length
  return ByteView{static_cast<uint8_t*>(data), length};
}

template <class Info>
ByteView ArrayBufferArg(const Info& info, size_t index, const char* name) {
  void* data = nullptr;
  size_t length = 0;
  // One call: napi_get_arraybuffer_info refuses anything else (napi_invalid_arg) without throwing.
  if (index >= info.Length() || napi_get_arraybuffer_info(info.Env(), info[index], &data, &length) != napi_ok)
    ThrowType(info, index, name, "an instance of ArrayBuffer");
  if (data == nullptr) length = 0;  // detached
  return ByteView{static_cast<uint8_t*>(data), length};
}

template <class Info>
Int32View Int32ArrayArg(const Info& info, size_t index, const char* name) {
  if (index < info.Length() && info[index].IsTypedArray()) {
    napi_typedarray_type type;
    size_t elements = 0;
    void* data = nullptr;
    napi_value arraybuffer;
    size_t byteOffset = 0;
    if (napi_get_typedarray_info(info.Env(), info[index], &type, &elements, &data, &arraybuffer, &byteOffset) ==
            napi_ok &&
        (type == napi_int32_array || type == napi_uint32_array)) {
      if (data == nullptr) elements = 0;
      return Int32View{static_cast<int32_t*>(data), elements};
    }
  }
  ThrowType(info, index, name, "an instance of Int32Array or Uint32Array");
}

template <class Info>
Int32View WordsArg(const Info& info, size_t index, const char* name) {
  void* data = nullptr;
  size_t length = 0;
  if (index < info.Length() && napi_get_arraybuffer_info(info.Env(), info[index], &data, &length) == napi_ok)
    return Int32View{static_cast<int32_t*>(data), data == nullptr ? 0 : length / sizeof(int32_t)};
  if (index < info.Length() && info[index].IsTypedArray()) {
    napi_typedarray_type type;
    size_t elements = 0;
    if (napi_get_typedarray_info(info.Env(), info[index], &type, &elements, &data, nullptr, nullptr) == napi_ok &&
        (type == napi_int32_array || type == napi_uint32_array))
      return Int32View{static_cast<int32_t*>(data), data == nullptr ? 0 : elements};
  }
  ThrowType(info, index, name, "an instance of Int32Array, Uint32Array or ArrayBuffer");
}

template <class Info>
ByteView SliceArgs(const Info& info, size_t index, ByteView whole) {
  size_t offset = static_cast<size_t>(OptionalIntArg(info, index, "offset", 0, static_cast<int64_t>(whole.length), 0));
  size_t room = whole.length - offset;
  size_t length = static_cast<size_t>(
      OptionalIntArg(info, index + 1, "length", 0, static_cast<int64_t>(room), static_cast<int64_t>(room)));
  return ByteView{whole.data == nullptr ? nullptr : whole.data + offset, length};
}

// Both kinds of call read their arguments through these checks: node-addon-api's CallbackInfo
// and CallArgs (sockets.cc's functions, see args.h).
#define NS_INSTANTIATE_ARGS(Info)                                                               \
  template int64_t IntArg(const Info&, size_t, const char*, int64_t, int64_t);                  \
  template int64_t OptionalIntArg(const Info&, size_t, const char*, int64_t, int64_t, int64_t); \
  template bool OptionalBoolArg(const Info&, size_t, const char*, bool);                        \
  template int FdArg(const Info&, size_t, const char*);                                         \
  template int TimeoutArg(const Info&, size_t, const char*);                                    \
  template bool BoolArg(const Info&, size_t, const char*);                                      \
  template std::string StringArg(const Info&, size_t, const char*);                             \
  template Napi::Function FunctionArg(const Info&, size_t, const char*);                        \
  template ByteView BufferArg(const Info&, size_t, const char*);                                \
  template ByteView ArrayBufferArg(const Info&, size_t, const char*);                           \
  template Int32View Int32ArrayArg(const Info&, size_t, const char*);                           \
  template Int32View WordsArg(const Info&, size_t, const char*);                                \
  template ByteView SliceArgs(const Info&, size_t, ByteView);
NS_INSTANTIATE_ARGS(Napi::CallbackInfo)
NS_INSTANTIATE_ARGS(CallArgs)
#undef NS_INSTANTIATE_ARGS

}  // namespace ns
