#pragma once
// The Gloo process group (CPU collectives over TCP), when this LibTorch was built with it.
#include "rank_group_impl.h"

namespace sy {

bool gloo_available();
// Throws UsageError when this LibTorch has no Gloo.
c10::intrusive_ptr<C10dGroup> make_gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const ParallelOptions& options,
                                              std::chrono::milliseconds timeout);

}  // namespace sy
