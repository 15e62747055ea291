#pragma once
// Mean hidden state entering each decoder layer over the tokens of each prompt domain, from the
// model's own forward pass: the router rows of mergekit-moe's `hidden` gate mode (editing.md
// §1.5), used by `switchyard upcycle --router hidden`. Works on dense and MoE models. No torch here.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/compute/trace_job.h"

namespace sy {

struct Model;

struct LayerInputMeansOptions {
    CorpusOptions corpus;                // the prompts: records {"text"|"input_ids", "domain"}
    RunnerOptions runner;
    std::vector<std::string> domains;    // the domains to pool, in output order; others are skipped
    // false: every token of a domain's records (a BOS at a record's first position excepted);
    // true: the last token of each record window (mergekit-moe's default `hidden`).
    bool last_token = false;
};

struct LayerInputMeans {
    std::vector<std::vector<std::vector<float>>> means;   // [domains][layers][H]
    std::vector<int64_t> tokens;                           // [domains] tokens pooled
};

// Throws UsageError naming the prompt files when a domain has no token, listing the domains the
// files hold; Cancelled when cancelled.
LayerInputMeans mean_layer_inputs(const Model& model, const LayerInputMeansOptions& options, Progress& progress,
                                  const CancelToken& cancel);

}  // namespace sy
