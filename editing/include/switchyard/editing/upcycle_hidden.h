#pragma once
// The pieces of an upcycle that the CLI verbs (`upcycle`, `apply`) and the workbench share, so a
// recipe's upcycle entry does the same thing wherever it runs: the forward pass behind
// `--router hidden` (compute/layer_input_means.h: the mean hidden state entering each layer of
// the dense model, per domain of the prompts), and running a recipe's upcycle entry.
#include <cstdint>
#include <filesystem>
#include <string>

#include "switchyard/core/progress.h"
#include "switchyard/editing/recipe.h"
#include "switchyard/editing/upcycle.h"

namespace sy {

// `device` ("cpu", "cuda", "cuda:N") and `seq_len` as the run's flags; progress and cancel must
// outlive the returned function.
HiddenStateFn hidden_state_fn(std::string device, int64_t seq_len, Progress& progress, const CancelToken& cancel);

// What `switchyard apply` runs for a recipe whose one entry is an upcycle: the entry's options,
// stored in `dtype` (the recipe's export settings or the command line's), from `dense` into `output`.
UpcycleResult run_upcycle_entry(const std::filesystem::path& dense, const UpcycleEdit& entry, ExportDType dtype,
                                const EditOutput& output, const HiddenStateFn& hidden_states, Progress& progress,
                                const CancelToken& cancel);

// The recipe's upcycle entry when it holds one (recipes hold an upcycle alone), else nullptr.
const UpcycleEdit* upcycle_entry(const Recipe& recipe);

}  // namespace sy
