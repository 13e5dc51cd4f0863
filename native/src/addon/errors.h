// Every failure inside the addon becomes a HarkError (a code, a message and the JS error class to use);
// entry points turn it into a JS error with a `code` property. Nothing escapes as a C++ exception.
#pragma once

#include <napi.h>

#include <exception>
#include <stdexcept>
#include <string>

namespace hark {

namespace code {
constexpr const char* kArg = "ERR_HARK_FAISS_ARG";                  // wrong type or out-of-range value
constexpr const char* kDim = "ERR_HARK_FAISS_DIM";                  // length not a multiple of dim
constexpr const char* kNotTrained = "ERR_HARK_FAISS_NOT_TRAINED";   // IVF used before train()
constexpr const char* kUnsupported = "ERR_HARK_FAISS_UNSUPPORTED";  // e.g. removeIds on HNSW
constexpr const char* kCorrupt = "ERR_HARK_FAISS_CORRUPT";          // buffer or file is not a FAISS index
constexpr const char* kIo = "ERR_HARK_FAISS_IO";                    // cannot open, read or write a file
constexpr const char* kBusy = "ERR_HARK_FAISS_BUSY";                // sync call while async work holds the index
constexpr const char* kDisposed = "ERR_HARK_FAISS_DISPOSED";        // used after dispose()
constexpr const char* kNoMem = "ERR_HARK_FAISS_NOMEM";              // allocation failed
constexpr const char* kInternal = "ERR_HARK_FAISS_INTERNAL";        // any other FAISS exception
}  // namespace code

enum class ErrorKind { Plain, Type, Range };

struct HarkError : std::runtime_error {
  HarkError(const char* code, const std::string& message, ErrorKind kind = ErrorKind::Plain)
      : std::runtime_error(message), code(code), kind(kind) {}
  const char* code;
  ErrorKind kind;
};

// The exception `e` (any type) as a HarkError; FAISS exceptions keep FAISS's own message without the
// source location. `context` prefixes the message ("cannot read index: ...") and `fallback` is the code
// used for FAISS and std exceptions.
HarkError Translate(std::exception_ptr e, const char* fallback = code::kInternal, const std::string& context = "");

// A JS error for `e`: TypeError, RangeError or Error, with `code` set.
Napi::Error ToJs(Napi::Env env, const HarkError& e);

// Runs `fn` and rethrows any C++ exception as a JS error with a code.
template <typename F>
auto Guard(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw ToJs(env, Translate(std::current_exception()));
  }
}

}  // namespace hark
