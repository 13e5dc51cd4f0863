#include "errors.h"

#include <faiss/impl/FaissException.h>

#include <new>

namespace hark {

namespace {

// "Error in void faiss::X::f() at /build/faiss/X.cpp:42: not implemented" -> "not implemented".
std::string StripLocation(const std::string& msg) {
  if (msg.rfind("Error in ", 0) != 0) return msg;
  size_t at = msg.find(" at ");
  if (at == std::string::npos) return msg;
  for (size_t colon = msg.find(':', at); colon != std::string::npos; colon = msg.find(':', colon + 1)) {
    size_t digits = colon + 1;
    while (digits < msg.size() && msg[digits] >= '0' && msg[digits] <= '9') digits++;
    if (digits > colon + 1 && msg.compare(digits, 2, ": ") == 0) return msg.substr(digits + 2);
  }
  return msg;
}

}  // namespace

HarkError Translate(std::exception_ptr e, const char* fallback, const std::string& context) {
  const std::string prefix = context.empty() ? "faiss: " : context + ": ";
  try {
    std::rethrow_exception(e);
  } catch (const HarkError& err) {
    return err;
  } catch (const faiss::FaissException& err) {
    return HarkError(fallback, prefix + StripLocation(err.msg));
  } catch (const std::bad_alloc&) {
    if (fallback == code::kCorrupt) return HarkError(fallback, prefix + "a size field asks for more memory than exists");
    return HarkError(code::kNoMem, prefix + "out of memory");
  } catch (const std::exception& err) {
    return HarkError(fallback, prefix + err.what());
  } catch (...) {
    return HarkError(fallback, prefix + "unknown C++ exception");
  }
}

Napi::Error ToJs(Napi::Env env, const HarkError& e) {
  Napi::Error err = e.kind == ErrorKind::Type    ? Napi::TypeError::New(env, e.what())
                    : e.kind == ErrorKind::Range ? Napi::RangeError::New(env, e.what())
                                                 : Napi::Error::New(env, e.what());
  err.Set("code", Napi::String::New(env, e.code));
  return err;
}

}  // namespace hark
