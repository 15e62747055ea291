#pragma once
// A Batch as the forward pass sees it: all tokens concatenated (sequence by sequence) so
// per-token work (projections, norms, experts) runs on the whole batch at once, plus the
// bookkeeping attention needs to stay within each sequence.
#include <torch/types.h>

#include <vector>

#include "switchyard/compute/model_runner.h"

namespace sy {

struct BatchLayout {
    int64_t tokens = 0;                  // N
    int64_t longest = 0;                 // longest sequence length
    std::vector<int64_t> offsets;        // first row of each sequence
    std::vector<int64_t> lengths;
    torch::Tensor token_ids;             // [N] int64, device
    torch::Tensor positions;             // [N] int64, device: position inside its sequence
    torch::Tensor targets;               // [N] int64, device: next token (0 at sequence ends)
    torch::Tensor has_target;            // [N] bool, device: false at each sequence's last token

    // Sequences of equal length attend together in one batched matmul.
    struct LengthGroup {
        int64_t length = 0;              // T
        torch::Tensor rows;              // [count, T] int64, device: rows of each sequence
    };
    std::vector<LengthGroup> groups;
};

// Throws UsageError for a token id outside [0, vocab_size).
BatchLayout make_batch_layout(const Batch& batch, int64_t vocab_size, torch::Device device);

}  // namespace sy
