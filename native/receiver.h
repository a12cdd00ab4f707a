// receiver.h — checks the receiver (`this`) of a class's accessors before it is unwrapped.
//
// V8 checks the receiver of an InstanceMethod ("Illegal invocation"), but node-addon-api's
// InstanceAccessor unwraps whatever `this` it is given: Poller's `kind` getter called on a Watcher
// would read the Watcher as a Poller. Each class tags its instances when they are constructed
// (napi_type_tag_object), and its getters are plain functions that check the tag first and throw
// ERR_INVALID_THIS otherwise, like Node's own classes.
#pragma once

#include <napi.h>

#include <string>

#include "errors.h"

namespace ns {

// Tags a newly constructed instance (call first in the constructor).
inline void TagInstance(const Napi::CallbackInfo& info, const napi_type_tag* tag) {
  napi_type_tag_object(info.Env(), info.This(), tag);
}

// The instance behind `this`, or a TypeError with code ERR_INVALID_THIS.
template <typename T>
T* CheckedThis(const Napi::CallbackInfo& info, const napi_type_tag* tag, const char* className) {
  napi_env env = info.Env();
  napi_value self = info.This();
  napi_valuetype type = napi_undefined;
  bool tagged = false;
  void* instance = nullptr;
  if (napi_typeof(env, self, &type) == napi_ok && type == napi_object &&
      napi_check_object_type_tag(env, self, tag, &tagged) == napi_ok && tagged &&
      napi_unwrap(env, self, &instance) == napi_ok && instance != nullptr) {
    return static_cast<T*>(instance);
  }
  ThrowCodeError(info.Env(), "ERR_INVALID_THIS", std::string("Value of \"this\" must be of type ") + className,
                 ErrorKind::TypeError);
}

// Defines a getter on `ctor.prototype`, as a class accessor is (not enumerable).
template <Napi::PropertyDescriptor::GetterCallback Getter>
void DefinePrototypeGetter(const Napi::Function& ctor, const char* name) {
  Napi::Object prototype = ctor.Get("prototype").As<Napi::Object>();
  prototype.DefineProperty(Napi::PropertyDescriptor::Accessor<Getter>(name, napi_configurable));
}

}  // namespace ns
