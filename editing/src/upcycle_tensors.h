#pragma once
// Makes the bytes of one planned output tensor (upcycle_plan.h) from the sources' mapped
// weights: copies byte for byte where nothing changes, converts, averages, slices the dense
// FFN into experts with Drop-Upcycling, draws routers. One tensor in memory at a time.
#include <vector>

#include "upcycle_plan.h"

namespace sy {

class UpcycleTensorMaker {
public:
    // `hidden_means` [domains][layers][H] and `expert_domain` [E] only for the hidden router.
    UpcycleTensorMaker(const std::vector<const Model*>& sources, const UpcyclePlan& plan,
                       const HiddenStateMeans* hidden_means, std::vector<int> expert_domain);

    // Little-endian bytes of t.decl (dtype, shape).
    std::vector<unsigned char> make(const PlannedTensor& t);

    // The dense FFN's neurons that `expert` of `layer` holds, in order: all of them for
    // granularity 1, else part `expert % G` of a seeded shuffle of copy `expert / G` (Qwen2
    // technical report §2.2.2 via editing.md §5.3), ascending within the part.
    std::vector<int64_t> expert_neurons(int layer, int expert) const;
    // Positions within the expert that Drop-Upcycling re-initialises: floor(R * I_e), seeded,
    // one set for gate, up and down (editing.md §5.2, as in the paper).
    std::vector<int64_t> dropped_positions(int layer, int expert) const;

private:
    std::vector<unsigned char> carry(const PlannedTensor& t);
    std::vector<unsigned char> expert_slice(const PlannedTensor& t);
    std::vector<unsigned char> router(const PlannedTensor& t);
    void release_ffn_of_other_layers(int layer);

    const std::vector<const Model*>& m_sources;
    const UpcyclePlan& m_plan;
    const UpcycleOptions& m_o;
    const HiddenStateMeans* m_hidden;
    std::vector<int> m_expert_domain;
    int m_ffn_layer = -1;   // layer whose FFN pages are kept mapped (all its experts read them)
};

}  // namespace sy
