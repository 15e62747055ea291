#pragma once
// The pure half of upcycling (style.md 4.3, plan/apply split): checks the sources and options,
// resolves the target family, writes the target config.json and lists every output tensor with
// the recipe that makes it. No tensor data is read here.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "switchyard/core/family.h"
#include "switchyard/core/model_config.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/editing/upcycle.h"

namespace sy {

struct TensorInfo;

enum class TensorRecipe {
    carry,          // same tensor in the sources: copied from the first, or averaged over all
    expert_slice,   // rows (gate, up) or columns (down) of one source's dense FFN, Drop-Upcycling applied
    router,         // new router rows [E, H]
    zeros,          // biases the target family always has, the shared-expert gate, score bias
};

struct PlannedTensor {
    TensorDecl decl;                     // output name, dtype, shape
    TensorRecipe recipe = TensorRecipe::carry;
    std::string source_name;             // carry / expert_slice: the tensor's name in the sources
    TensorRole ffn_role = TensorRole::ffn_gate;   // expert_slice: ffn_gate, ffn_up or ffn_down
    int source = 0;                      // carry (first) / expert_slice: index into the sources
    bool average = false;                // carry: mean over all sources
    int layer = -1;
    int expert = -1;
};

struct UpcyclePlan {
    UpcycleResult summary;               // resolved options, exactness, notes (no files yet)
    const FamilySpec* family = nullptr;  // target
    nlohmann::ordered_json config;       // target config.json
    ModelDescription target;             // `config` read back by core's reader
    int64_t dense_width = 0;             // I of the dense FFN
    int64_t expert_width = 0;            // I / G
    std::vector<PlannedTensor> tensors;  // sorted by name
};

// Which source an expert's FFN comes from: contiguous blocks, experts [s*E/S, (s+1)*E/S) from
// source s (copies of the FFN are made per source; with --granularity a copy spans G experts).
int source_of_expert(int64_t expert, int64_t experts, std::size_t source_count);

// The dense MLP width shared by the sources, from the family's dense width key.
int64_t dense_ffn_width(const ModelDescription& dense);

// Throws on the first problem: options, sources (dense, agreeing), target family (MoE, attention
// it can express). Returns the resolved options and the notes.
UpcycleResult check_sources_and_options(const std::vector<const Model*>& sources, const UpcycleOptions& options);

// The target config.json: the first source's keys plus the family's MoE keys.
nlohmann::ordered_json upcycle_config(const Model& dense, const FamilySpec& target, const UpcycleOptions& resolved);

UpcycleExactness upcycle_exactness(const FamilySpec& target, const UpcycleOptions& resolved, std::size_t source_count);

// The recipe entry of `options`, keys in the order of the CLI's flags ({"op": "upcycle", ...}).
nlohmann::ordered_json upcycle_options_json(const UpcycleOptions& options);

UpcyclePlan plan_upcycle(const std::vector<const Model*>& sources, const UpcycleOptions& options);

}  // namespace sy
