#pragma once
// Shared helpers for the ModelRunner tests: where each fixture model and its goldens live, the
// golden batch, and an observer that keeps every MoE layer's routing.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "goldens.h"
#include "switchyard/compute/model_runner.h"
#include "switchyard/core/model.h"
#include "test_paths.h"

namespace sy::test {

// tiny-mixtral is bundled with the examples; its goldens live beside the other fixtures.
inline std::filesystem::path fixture_model_dir(const std::string& name) {
    if (name == "tiny-mixtral") return examples_dir() / "tiny-mixtral";
    return data_dir() / "models" / name;
}

inline std::filesystem::path fixture_goldens(const std::string& name) {
    if (name == "tiny-mixtral") return data_dir() / "models" / "tiny-mixtral-goldens" / "goldens.safetensors";
    return data_dir() / "models" / name / "goldens.safetensors";
}

inline const std::vector<std::string>& fixture_names() {
    static const std::vector<std::string> names = {
        "tiny-mixtral", "tiny-llama", "tiny-qwen2-moe", "tiny-qwen3-moe", "tiny-qwen3-moe-fused",
        "tiny-olmoe", "tiny-deepseek-v3", "tiny-deepseek-v3-fp8", "tiny-glm4-moe", "tiny-minimax-m2",
        "tiny-gpt-oss", "tiny-gpt-oss-bf16", "tiny-qwen3-next"};
    return names;
}

// gtest parameter name of a fixture: "tiny-qwen3-moe" -> "tiny_qwen3_moe".
inline std::string fixture_test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (char& c : name)
        if (c == '-') c = '_';
    return name;
}

// input_ids [B, T] -> one sequence per row.
inline Batch golden_batch(const Goldens& goldens) {
    const GoldenTensor& ids = goldens.at("input_ids");
    const int64_t rows = ids.shape[0], cols = ids.shape[1];
    Batch batch;
    for (int64_t b = 0; b < rows; ++b)
        batch.sequences.emplace_back(ids.i64.begin() + b * cols, ids.i64.begin() + (b + 1) * cols);
    return batch;
}

struct RecordedLayer {
    int layer = 0, moe_index = 0;
    int64_t tokens = 0, experts = 0, top_k = 0, hidden_size = 0;
    std::vector<float> logits, selection, weights, hidden;
    std::vector<int64_t> ids;
};

class RecordingObserver : public RoutingObserver {
public:
    explicit RecordingObserver(bool hidden = false) : m_hidden(hidden) {}
    void on_layer_routing(const LayerRouting& r) override {
        RecordedLayer out;
        out.layer = r.layer, out.moe_index = r.moe_index, out.tokens = r.tokens, out.experts = r.experts;
        out.top_k = r.top_k, out.hidden_size = r.hidden_size;
        out.logits.assign(r.router_logits, r.router_logits + r.tokens * r.experts);
        out.selection.assign(r.selection_scores, r.selection_scores + r.tokens * r.experts);
        out.ids.assign(r.topk_ids, r.topk_ids + r.tokens * r.top_k);
        out.weights.assign(r.topk_weights, r.topk_weights + r.tokens * r.top_k);
        if (r.hidden_states) out.hidden.assign(r.hidden_states, r.hidden_states + r.tokens * r.hidden_size);
        layers.push_back(std::move(out));
    }
    bool wants_hidden_states() const override { return m_hidden; }
    std::vector<RecordedLayer> layers;

private:
    bool m_hidden;
};

}  // namespace sy::test
