// Per-environment state (one per Node worker thread that loads the addon).
#pragma once

#include <napi.h>

namespace hark {

struct AddonData {
  Napi::FunctionReference indexClass;
  static AddonData& Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }
};

}  // namespace hark
