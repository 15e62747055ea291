#pragma once
// Upcycling a dense checkpoint (Llama, Mistral, Qwen2, ...) into a Mixture-of-Experts checkpoint
// of an MoE family of the table (shared/docs/editing.md §5): every expert starts as a copy of
// the dense FFN (sparse upcycling, §5.1), optionally with part of it re-initialised
// (Drop-Upcycling, §5.2), split into fine-grained experts (Qwen-style, §5.3), or taken from
// several fine-tunes of one base (Branch-Train-MiX / mergekit-moe, §1.5, §5.4). Streams tensor
// by tensor: peak memory is a few tensors, whatever the model's size.
//
// plan_upcycle is pure (headers and config only); upcycle writes the output folder. Thread
// rules: one thread; `progress` is called on it; `cancel` may be set from any thread.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "switchyard/core/progress.h"
#include "switchyard/editing/export.h"

namespace sy {

struct Model;

enum class UpcycleRouter {
    random,   // N(0, router_std^2), seeded (Drop-Upcycling's default scale, editing.md §5.2)
    zero,     // all logits equal: every expert equally likely; ties broken by the top-k kernel
    hidden,   // mergekit-moe: each expert's row = the L2-normalised mean hidden state of its prompts
};

// Attention, norms and embeddings when there are several sources.
enum class NonExpertSource { average, first };

// How the prompts of one expert are pooled at each layer (mergekit-moe: `hidden` = last token,
// `hidden_avg` = mean; editing.md §1.5).
enum class HiddenPool { mean, last };

// The parameters of one upcycle, as a recipe entry {"op": "upcycle", ...} holds them (to_json /
// from_json below). The dense model itself is the recipe's input, not a parameter.
struct UpcycleOptions {
    std::string family;                          // target model_type; "" = first MoE family that fits
    int64_t experts = 0;                         // E routed experts per layer
    int64_t top_k = 0;                           // k
    UpcycleRouter router = UpcycleRouter::random;
    double router_std = 0.02;                    // for `random`
    std::filesystem::path prompts;               // for `hidden`: .jsonl records {"text"|"input_ids", "domain"}
    std::vector<std::string> prompt_domains;     // expert e's prompts = records whose domain is
                                                 //   prompt_domains[e] (E entries) or that of its source
                                                 //   (one per source); empty: "0", "1", ... per expert
    HiddenPool hidden_pool = HiddenPool::mean;
    double drop_rate = 0;                        // R in [0, 1]: Drop-Upcycling
    uint64_t seed = 0;                           // every random draw derives from it
    bool shared_expert = false;                  // always-on expert made from a copy of the FFN
    int64_t granularity = 1;                     // G: each expert holds I/G of the FFN's neurons
    std::vector<std::filesystem::path> sources;  // further fine-tunes of the same base (BTX)
    NonExpertSource non_experts = NonExpertSource::average;
    ExportDType dtype = ExportDType::keep;
    bool renormalize = true;                     // write norm_topk_prob = true where the family has the key
};

// Recipe form. from_json rejects unknown keys and wrong types with UsageError naming the key;
// to_json writes every parameter (resolved values, seed included).
void to_json(nlohmann::json& j, const UpcycleOptions& options);
void from_json(const nlohmann::json& j, UpcycleOptions& options);

UpcycleRouter parse_upcycle_router(const std::string& text);   // "random" | "zero" | "hidden"
NonExpertSource parse_non_expert_source(const std::string& text);   // "average" | "first"
HiddenPool parse_hidden_pool(const std::string& text);   // "mean" | "last"

// What the exported model computes at initialisation, compared with the dense model.
struct UpcycleExactness {
    bool exact = false;
    std::string output;   // e.g. "y = FFN(x): ..." or "y = (sum of the k gates) * FFN(x), ..."
};

// Mean hidden state entering each decoder layer for each prompt domain: [domains][layers][H].
// Provided by the caller (upcycle_hidden.h has the forward pass the CLI and the workbench use),
// so plan and export stay testable without one.
using HiddenStateMeans = std::vector<std::vector<std::vector<float>>>;
using HiddenStateFn = std::function<HiddenStateMeans(const Model& dense, const std::filesystem::path& prompts,
                                                     const std::vector<std::string>& domains, HiddenPool pool)>;

struct EditOutput {
    std::filesystem::path dir;
    uint64_t shard_size_bytes = 5'000'000'000;   // transformers' default "5GB"
    bool force = false;                          // replace a non-empty dir
    std::string command_line;                    // recorded in provenance
};

struct UpcycleResult {
    UpcycleOptions resolved;                     // family filled in, shared_expert forced where needed
    UpcycleExactness exactness;
    std::vector<std::string> notes;              // decisions the user should know about
    std::vector<std::string> files;
    std::size_t tensor_count = 0;
    uint64_t total_bytes = 0;
};

// Checks everything that can be checked without tensor data and resolves the options; throws
// UsageError / ConfigError / ShapeMismatch naming the file, tensor, expected and found values.
// `sources` = the dense model first, then options.sources opened.
UpcycleResult check_upcycle(const std::vector<const Model*>& sources, const UpcycleOptions& options);

// Opens `dense` and options.sources, checks, computes the hidden router if asked (through
// `hidden_states`, required for UpcycleRouter::hidden), then writes `output` (staged, renamed
// when complete, never over an input). Nothing is created when a check fails.
UpcycleResult upcycle(const std::filesystem::path& dense, const UpcycleOptions& options, const EditOutput& output,
                      const HiddenStateFn& hidden_states, Progress& progress, const CancelToken& cancel);

}  // namespace sy
