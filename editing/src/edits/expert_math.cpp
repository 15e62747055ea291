#include "expert_math.h"

#include <cstring>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {

std::vector<float> materialize_part(const Model& model, int layer, const PlannedExpert& expert, ExpertPart part) {
    const ModelDescription& d = model.description;
    const int64_t inter = d.expert_intermediate_size, hidden = d.hidden_size;
    std::vector<float> out(static_cast<std::size_t>(inter * hidden), 0.f);
    for (const SourceTerm& term : expert.terms) {
        const std::vector<float> source = load_expert_part_f32(model, layer, term.expert, part);
        SY_CHECK(source.size() == out.size(), ShapeMismatch,
                 "layer " + std::to_string(layer) + " expert " + std::to_string(term.expert) + ": expected " +
                     std::to_string(out.size()) + " values, found " + std::to_string(source.size()));
        const auto w = static_cast<float>(term.weight);
        const std::vector<int32_t>& p = term.permutation;
        if (part != ExpertPart::down) {   // neuron n = row n of [I, H]
            for (int64_t n = 0; n < inter; ++n) {
                const float* src = source.data() + (p.empty() ? n : p[static_cast<std::size_t>(n)]) * hidden;
                float* dst = out.data() + n * hidden;
                for (int64_t c = 0; c < hidden; ++c) dst[c] += w * src[c];
            }
        } else {                          // neuron n = column n of [H, I]
            for (int64_t r = 0; r < hidden; ++r) {
                const float* src = source.data() + r * inter;
                float* dst = out.data() + r * inter;
                if (p.empty())
                    for (int64_t n = 0; n < inter; ++n) dst[n] += w * src[n];
                else
                    for (int64_t n = 0; n < inter; ++n) dst[n] += w * src[p[static_cast<std::size_t>(n)]];
            }
        }
    }
    return out;
}

ExpertTensorsF32 materialize_expert(const Model& model, int layer, const PlannedExpert& expert) {
    return {materialize_part(model, layer, expert, ExpertPart::gate), materialize_part(model, layer, expert, ExpertPart::up),
            materialize_part(model, layer, expert, ExpertPart::down)};
}

}  // namespace sy
