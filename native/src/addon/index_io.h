// FAISS's own serialisation: index <-> bytes and index <-> file, with FAISS errors on reading reported
// as ERR_HARK_FAISS_CORRUPT and file-system errors as ERR_HARK_FAISS_IO.
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <memory>
#include <string>

namespace hark {

std::unique_ptr<faiss::Index> ReadBytes(const uint8_t* data, size_t size);
std::unique_ptr<faiss::Index> ReadFile(const std::string& path);
void WriteFile(const faiss::Index* index, const std::string& path);

// Module functions: fromBuffer(bytes), load(path), loadAsync(path).
Napi::Value FromBuffer(const Napi::CallbackInfo& info);
Napi::Value Load(const Napi::CallbackInfo& info);
Napi::Value LoadAsync(const Napi::CallbackInfo& info);

}  // namespace hark
