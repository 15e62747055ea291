#pragma once
// The BPE merge loop (formats.md §12.3): repeatedly merge the adjacent pair with the lowest rank,
// leftmost on ties, until no adjacent pair has a merge. O(n log n) per word with a binary heap
// over a linked list of symbols, so a 100 KB pre-token stays fast.
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace sy::tok {

struct MergeTarget {
    int32_t rank;    // index in model.merges
    int32_t new_id;  // vocab id of the concatenation
};

inline uint64_t merge_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

using MergeTable = std::unordered_map<uint64_t, MergeTarget>;

// Merges `symbols` (ids of the word's initial pieces) in place.
void merge_symbols(std::vector<int32_t>& symbols, const MergeTable& merges);

}  // namespace sy::tok
