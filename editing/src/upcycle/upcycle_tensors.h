#pragma once
// Makes the bytes of each planned output tensor (upcycle_plan.h) from the sources' mapped
// weights and streams them to the writer: unchanged tensors straight from the mapping, the rest
// (conversions, means, expert slices with Drop-Upcycling, routers) through one reused buffer of
// the largest tensor's size, so memory stays flat and fresh pages are not faulted per tensor.
#include <vector>

#include "output_files.h"
#include "upcycle_plan.h"

namespace sy {

class UpcycleTensorMaker {
public:
    // `hidden_means` [domains][layers][H] and `expert_domain` [E] only for the hidden router.
    UpcycleTensorMaker(const std::vector<const Model*>& sources, const UpcyclePlan& plan,
                       const HiddenStateMeans* hidden_means, std::vector<int> expert_domain);

    // Writes the little-endian bytes of t.decl (dtype, shape) to `out`.
    void write(const PlannedTensor& t, ShardedCheckpointWriter& out);

    // The dense FFN's neurons that `expert` of `layer` holds, in order: all of them for
    // granularity 1, else part `expert % G` of a seeded shuffle of copy `expert / G` (Qwen2
    // technical report §2.2.2 via editing.md §5.3), ascending within the part.
    std::vector<int64_t> expert_neurons(int layer, int expert) const;
    // Positions within the expert that Drop-Upcycling re-initialises: floor(R * I_e), seeded,
    // one set for gate, up and down (editing.md §5.2, as in the paper).
    std::vector<int64_t> dropped_positions(int layer, int expert) const;

private:
    void carry(const PlannedTensor& t, ShardedCheckpointWriter& out);
    void expert_slice(const PlannedTensor& t, unsigned char* out);
    const unsigned char* whole_copy(const PlannedTensor& t);   // the mapped FFN when the expert is all of it, unchanged
    void router(const PlannedTensor& t, unsigned char* out);
    unsigned char* buffer(std::size_t bytes);   // m_buffer grown to `bytes`; contents undefined
    void release_ffn_of_other_layers(int layer);

    const std::vector<const Model*>& m_sources;
    const UpcyclePlan& m_plan;
    const UpcycleOptions& m_o;
    const HiddenStateMeans* m_hidden;
    std::vector<int> m_expert_domain;
    std::vector<unsigned char> m_buffer;
    int m_ffn_layer = -1;   // layer whose FFN pages are kept mapped (all its experts read them)
};

}  // namespace sy
