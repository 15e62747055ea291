#include "forward/batch_layout.h"

#include <torch/torch.h>

#include <map>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

void check_token(int32_t id, int64_t vocab_size, std::size_t sequence, std::size_t position) {
    if (id < 0 || id >= vocab_size)
        throw UsageError("token id " + std::to_string(id) + " (sequence " + std::to_string(sequence) + ", position " +
                         std::to_string(position) + ") is outside the vocabulary of " + std::to_string(vocab_size));
}

torch::Tensor to_device(const std::vector<int64_t>& values, torch::Device device) {
    return torch::tensor(values, torch::kInt64).to(device);
}

std::vector<BatchLayout::LengthGroup> length_groups(const BatchLayout& layout, torch::Device device) {
    std::map<int64_t, std::vector<int64_t>> rows_by_length;
    for (std::size_t s = 0; s < layout.lengths.size(); ++s)
        for (int64_t t = 0; t < layout.lengths[s]; ++t) rows_by_length[layout.lengths[s]].push_back(layout.offsets[s] + t);
    std::vector<BatchLayout::LengthGroup> groups;
    for (const auto& [length, rows] : rows_by_length)
        groups.push_back({length, to_device(rows, device).view({-1, length})});
    return groups;
}

}  // namespace

BatchLayout make_batch_layout(const Batch& batch, int64_t vocab_size, torch::Device device) {
    BatchLayout layout;
    std::vector<int64_t> ids, positions, targets;
    std::vector<uint8_t> has_target;
    for (std::size_t s = 0; s < batch.sequences.size(); ++s) {
        const std::vector<int32_t>& sequence = batch.sequences[s];
        layout.offsets.push_back(static_cast<int64_t>(ids.size()));
        layout.lengths.push_back(static_cast<int64_t>(sequence.size()));
        layout.longest = std::max<int64_t>(layout.longest, static_cast<int64_t>(sequence.size()));
        for (std::size_t t = 0; t < sequence.size(); ++t) {
            check_token(sequence[t], vocab_size, s, t);
            ids.push_back(sequence[t]);
            positions.push_back(static_cast<int64_t>(t));
            const bool last = t + 1 == sequence.size();
            targets.push_back(last ? 0 : sequence[t + 1]);
            has_target.push_back(last ? 0 : 1);
        }
    }
    layout.tokens = static_cast<int64_t>(ids.size());
    layout.token_ids = to_device(ids, device);
    layout.positions = to_device(positions, device);
    layout.targets = to_device(targets, device);
    layout.has_target = torch::tensor(std::vector<int64_t>(has_target.begin(), has_target.end()), torch::kInt64)
                            .to(torch::kBool)
                            .to(device);
    layout.groups = length_groups(layout, device);
    return layout;
}

}  // namespace sy
