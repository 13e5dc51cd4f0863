#include "args.h"

#include <cmath>

#include "errors.h"

namespace hark {

namespace {

const char* TypedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "an Int8Array";
    case napi_uint8_array: return "a Uint8Array";
    case napi_uint8_clamped_array: return "a Uint8ClampedArray";
    case napi_int16_array: return "an Int16Array";
    case napi_uint16_array: return "a Uint16Array";
    case napi_int32_array: return "an Int32Array";
    case napi_uint32_array: return "a Uint32Array";
    case napi_float32_array: return "a Float32Array";
    case napi_float64_array: return "a Float64Array";
    case napi_bigint64_array: return "a BigInt64Array";
    case napi_biguint64_array: return "a BigUint64Array";
  }
  return "a typed array";
}

bool IsTyped(const Napi::Value& v, napi_typedarray_type t) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == t;
}

}  // namespace

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsArray()) return "an Array";
  if (v.IsTypedArray()) return TypedArrayName(v.As<Napi::TypedArray>().TypedArrayType());
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  if (v.IsFunction()) return "a function";
  return "an object";
}

int64_t GetInt(const Napi::Value& v, const char* name, int64_t min, int64_t max) {
  if (!v.IsNumber()) throw HarkError(code::kArg, std::string(name) + " must be a number, got " + Describe(v), ErrorKind::Type);
  double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x) || std::floor(x) != x || x < static_cast<double>(min) || x > static_cast<double>(max)) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", x);
    throw HarkError(code::kArg,
                    std::string(name) + " (" + text + ") must be an integer in [" + std::to_string(min) + ", " +
                        std::to_string(max) + "]",
                    ErrorKind::Range);
  }
  return static_cast<int64_t>(x);
}

Napi::Float32Array GetMatrix(const Napi::Value& v, const char* name, int64_t dim, int64_t* rows) {
  if (!IsTyped(v, napi_float32_array))
    throw HarkError(code::kArg, std::string(name) + " must be a Float32Array, got " + Describe(v), ErrorKind::Type);
  auto a = v.As<Napi::Float32Array>();
  int64_t length = static_cast<int64_t>(a.ElementLength());
  if (length % dim != 0)
    throw HarkError(code::kDim,
                    std::string(name) + " length (" + std::to_string(length) + ") is not a multiple of dim (" +
                        std::to_string(dim) + ")",
                    ErrorKind::Range);
  *rows = length / dim;
  return a;
}

Napi::Int32Array GetInt32s(const Napi::Value& v, const char* name) {
  if (!IsTyped(v, napi_int32_array))
    throw HarkError(code::kArg, std::string(name) + " must be an Int32Array, got " + Describe(v), ErrorKind::Type);
  return v.As<Napi::Int32Array>();
}

Napi::BigInt64Array GetIds(const Napi::Value& v, const char* name) {
  if (!IsTyped(v, napi_bigint64_array))
    throw HarkError(code::kArg, std::string(name) + " must be a BigInt64Array, got " + Describe(v), ErrorKind::Type);
  return v.As<Napi::BigInt64Array>();
}

Napi::Uint8Array GetBytes(const Napi::Value& v, const char* name) {
  if (!IsTyped(v, napi_uint8_array))
    throw HarkError(code::kArg, std::string(name) + " must be a Buffer or Uint8Array, got " + Describe(v), ErrorKind::Type);
  return v.As<Napi::Uint8Array>();
}

std::string GetString(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw HarkError(code::kArg, std::string(name) + " must be a string, got " + Describe(v), ErrorKind::Type);
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty()) throw HarkError(code::kArg, std::string(name) + " must not be empty", ErrorKind::Range);
  return s;
}

}  // namespace hark
