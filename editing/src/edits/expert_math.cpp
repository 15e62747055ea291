#include "expert_math.h"

#include <cstring>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {

namespace {

// Elements of one part and whether its first axis is the intermediate (neuron) axis.
struct PartShape {
    int64_t rows = 0, cols = 0;   // row-major [rows, cols]
    bool neuron_rows = false;     // neuron n = row n (gate, up, their biases)
    bool neuron_cols = false;     // neuron n = column n (down)
};

PartShape shape_of(const ModelDescription& d, ExpertPart part) {
    const int64_t inter = d.expert_intermediate_size, hidden = d.hidden_size;
    switch (part) {
        case ExpertPart::gate:
        case ExpertPart::up: return {inter, hidden, true, false};
        case ExpertPart::down: return {hidden, inter, false, true};
        case ExpertPart::gate_bias:
        case ExpertPart::up_bias: return {inter, 1, true, false};
        case ExpertPart::down_bias: return {hidden, 1, false, false};
    }
    return {};
}

}  // namespace

std::vector<float> materialize_part(const Model& model, int layer, const PlannedExpert& expert, ExpertPart part) {
    const PartShape shape = shape_of(model.description, part);
    const int64_t rows = shape.rows, cols = shape.cols;
    std::vector<float> out(static_cast<std::size_t>(rows * cols), 0.f);
    for (const SourceTerm& term : expert.terms) {
        const std::vector<float> source = load_expert_part_f32(model, layer, term.expert, part);
        SY_CHECK(source.size() == out.size(), ShapeMismatch,
                 "layer " + std::to_string(layer) + " expert " + std::to_string(term.expert) + ": expected " +
                     std::to_string(out.size()) + " values, found " + std::to_string(source.size()));
        const auto w = static_cast<float>(term.weight);
        const std::vector<int32_t>& p = term.permutation;
        const bool permute_rows = shape.neuron_rows && !p.empty(), permute_cols = shape.neuron_cols && !p.empty();
        for (int64_t r = 0; r < rows; ++r) {
            const float* src = source.data() + (permute_rows ? p[static_cast<std::size_t>(r)] : r) * cols;
            float* dst = out.data() + r * cols;
            if (permute_cols)
                for (int64_t c = 0; c < cols; ++c) dst[c] += w * src[p[static_cast<std::size_t>(c)]];
            else
                for (int64_t c = 0; c < cols; ++c) dst[c] += w * src[c];
        }
    }
    return out;
}

ExpertTensorsF32 materialize_expert(const Model& model, int layer, const PlannedExpert& expert) {
    ExpertTensorsF32 out{materialize_part(model, layer, expert, ExpertPart::gate),
                         materialize_part(model, layer, expert, ExpertPart::up),
                         materialize_part(model, layer, expert, ExpertPart::down),
                         {}, {}, {}};
    if (expert_parts(model).size() > 3) {
        out.gate_bias = materialize_part(model, layer, expert, ExpertPart::gate_bias);
        out.up_bias = materialize_part(model, layer, expert, ExpertPart::up_bias);
        out.down_bias = materialize_part(model, layer, expert, ExpertPart::down_bias);
    }
    return out;
}

}  // namespace sy
