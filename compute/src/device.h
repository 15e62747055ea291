#pragma once
// Device strings of RunnerOptions ("cpu", "cuda", "cuda:N") -> torch::Device.
#include <torch/types.h>

#include <string>

namespace sy {

// Throws UsageError for strings other than cpu / cuda / cuda:N and for CUDA devices this
// machine does not have (the message lists what is available).
torch::Device parse_device(const std::string& text);

}  // namespace sy
