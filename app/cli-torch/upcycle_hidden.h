#pragma once
// The forward pass behind `upcycle --router hidden` (compute/layer_input_means.h), shared by the
// upcycle and apply verbs: the mean hidden state entering each layer of the dense model, per
// domain of the prompts.
#include <string>

#include "switchyard/core/progress.h"
#include "switchyard/editing/upcycle.h"

namespace sy::cli {

// `device` and `seq_len` as the run's flags; progress and cancel must outlive the returned function.
HiddenStateFn hidden_state_fn(std::string device, int64_t seq_len, Progress& progress, const CancelToken& cancel);

}  // namespace sy::cli
