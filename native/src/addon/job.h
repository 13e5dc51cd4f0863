// One asynchronous call: `work` runs on a libuv pool thread and touches no JS value; `done` builds the
// promise's value on the JS thread. The JS values the work reads or writes (typed arrays, the index
// object) are held by references until the promise settles.
#pragma once

#include <napi.h>

#include <functional>
#include <initializer_list>
#include <vector>

#include "errors.h"
#include "threads.h"

namespace hark {

class Job : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Kept = std::vector<Napi::ObjectReference>;
  // Receives the kept-alive values in the order they were given to Start (handles from the original call
  // are gone by then).
  using Done = std::function<Napi::Value(Napi::Env, const Kept&)>;

  // Queues the job and returns its promise.
  static Napi::Promise Start(Napi::Env env, Work work, Done done, std::initializer_list<Napi::Value> keepAlive) {
    auto* job = new Job(env, std::move(work), std::move(done), keepAlive);
    Napi::Promise promise = job->deferred_.Promise();
    job->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      ApplyThreads();
      work_();
    } catch (...) {
      failed_ = true;
      error_ = Translate(std::current_exception());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (failed_) {
      deferred_.Reject(ToJs(env, error_).Value());
      return;
    }
    try {
      deferred_.Resolve(done_(env, keep_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(ToJs(env, Translate(std::current_exception())).Value());
    }
  }

 private:
  Job(Napi::Env env, Work work, Done done, std::initializer_list<Napi::Value> keepAlive)
      : Napi::AsyncWorker(env, "hark:faiss"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        done_(std::move(done)),
        error_(code::kInternal, "") {
    for (const Napi::Value& v : keepAlive) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  Kept keep_;
  bool failed_ = false;
  HarkError error_;
};

}  // namespace hark
