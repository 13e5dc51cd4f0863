// Argument checks at the addon boundary. Each throws a HarkError naming the value and the fix; the
// messages match the TypeScript fallback's (src/fallback/checks.ts) so both backends fail alike.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace hark {

// "a number", "an Array", "a Float64Array", ... for error messages.
std::string Describe(const Napi::Value& v);

// An integer in [min, max]; TypeError when not a number, RangeError otherwise.
int64_t GetInt(const Napi::Value& v, const char* name, int64_t min, int64_t max);

// A Float32Array whose length is a multiple of `dim`; `rows` receives length / dim.
Napi::Float32Array GetMatrix(const Napi::Value& v, const char* name, int64_t dim, int64_t* rows);

// A BigInt64Array of ids.
// An Int32Array argument.
Napi::Int32Array GetInt32s(const Napi::Value& v, const char* name);

Napi::BigInt64Array GetIds(const Napi::Value& v, const char* name);

// A Uint8Array (Buffer included).
Napi::Uint8Array GetBytes(const Napi::Value& v, const char* name);

// A non-empty string.
std::string GetString(const Napi::Value& v, const char* name);

}  // namespace hark
