#include "index_io.h"

#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "rows.h"
#include "index_wrap.h"
#include "job.h"

namespace hark {

namespace {

// Reads straight from a JS buffer, without the copy VectorIOReader would make.
struct SpanReader : faiss::IOReader {
  SpanReader(const uint8_t* data, size_t size) : data(data), size(size) {}
  size_t operator()(void* ptr, size_t itemSize, size_t nitems) override {
    if (itemSize == 0 || nitems == 0) return 0;
    size_t n = std::min(nitems, (size - pos) / itemSize);
    std::memcpy(ptr, data + pos, n * itemSize);
    pos += n * itemSize;
    return n;
  }
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

struct File {
  File(const std::string& path, const char* mode) : f(std::fopen(path.c_str(), mode)) {
    if (!f)
      throw HarkError(code::kIo, std::string("cannot open '") + path + "' for " + (mode[0] == 'r' ? "reading" : "writing") +
                                     ": " + std::strerror(errno));
  }
  ~File() {
    if (f) std::fclose(f);
  }
  FILE* f;
};

// A FAISS read failure as ERR_HARK_FAISS_CORRUPT; FAISS's "'ret == (n)' failed: read error" means the
// input ended early.
HarkError ReadError(std::exception_ptr e, const std::string& what) {
  HarkError err = Translate(e, code::kCorrupt, what + " is not a FAISS index or is damaged");
  if (err.code == code::kCorrupt && std::string(err.what()).find("read error") != std::string::npos)
    return HarkError(code::kCorrupt, what + " is not a FAISS index or is damaged: truncated: ended before the index was complete");
  return err;
}

}  // namespace

std::unique_ptr<faiss::Index> ReadBytes(const uint8_t* data, size_t size) {
  SpanReader reader(data, size);
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(&reader));
  } catch (...) {
    throw ReadError(std::current_exception(), "buffer");
  }
  if (reader.pos != size)
    throw HarkError(code::kCorrupt, "buffer is not a FAISS index or is damaged: " + std::to_string(size - reader.pos) +
                                        " bytes left after the index");
  CheckRead(index.get(), "buffer");
  return index;
}

std::unique_ptr<faiss::Index> ReadFile(const std::string& path) {
  File file(path, "rb");
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(file.f));
  } catch (...) {
    throw ReadError(std::current_exception(), "'" + path + "'");
  }
  if (std::fgetc(file.f) != EOF)
    throw HarkError(code::kCorrupt, "'" + path + "' is not a FAISS index or is damaged: bytes left after the index");
  CheckRead(index.get(), "'" + path + "'");
  return index;
}

void WriteFile(const faiss::Index* index, const std::string& path) {
  File file(path, "wb");
  try {
    faiss::write_index(index, file.f);
  } catch (...) {
    throw Translate(std::current_exception(), code::kIo, "cannot write '" + path + "'");
  }
  FILE* f = file.f;
  file.f = nullptr;
  if (std::fclose(f) != 0) throw HarkError(code::kIo, "cannot write '" + path + "': " + std::strerror(errno));
}

Napi::Value IndexWrap::ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto lock = ReadNow();
    auto writer = std::make_unique<faiss::VectorIOWriter>();
    faiss::write_index(Live(), writer.get());
    std::vector<uint8_t>* bytes = new std::vector<uint8_t>(std::move(writer->data));
    return Napi::Buffer<uint8_t>::New(env, bytes->data(), bytes->size(),
                                      [](Napi::Env, uint8_t*, std::vector<uint8_t>* owned) { delete owned; }, bytes);
  });
}

void IndexWrap::Save(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [&] {
    std::string path = GetString(info[0], "path");
    auto lock = ReadNow();
    WriteFile(Live(), path);
  });
}

Napi::Value IndexWrap::SaveAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string path = GetString(info[0], "path");
    return Job::Start(
        env,
        [this, path] {
          std::shared_lock<std::shared_mutex> lock(mutex_);
          WriteFile(Live(), path);
        },
        [](Napi::Env env, const Job::Kept&) { return env.Undefined(); }, {Value()});
  });
}

Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Uint8Array bytes = GetBytes(info[0], "buffer");
    return IndexWrap::Wrap(env, ReadBytes(bytes.Data(), bytes.ByteLength()));
  });
}

Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return IndexWrap::Wrap(env, ReadFile(GetString(info[0], "path"))); });
}

Napi::Value LoadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string path = GetString(info[0], "path");
    auto loaded = std::make_shared<std::unique_ptr<faiss::Index>>();
    return Job::Start(
        env, [path, loaded] { *loaded = ReadFile(path); },
        [loaded](Napi::Env env, const Job::Kept&) -> Napi::Value { return IndexWrap::Wrap(env, std::move(*loaded)); },
        {});
  });
}

}  // namespace hark
