#pragma once
// `switchyard score`: one calibration pass through the forward pass recording, per MoE layer
// and expert, every statistic the pruning and merging methods read (editing.md §0 table, §8
// item 1): selections and frequency, gate mass, mean router probability, EAN and REAP (which
// need each routed expert's output norm, reported by the MoE block itself), per-domain
// selections, the router-logit Gram matrix (MC-SMoE similarity) and, optionally, HC-SMoE's mean
// output of every expert over a token sample. No torch here. Thread rules as trace_job.h.
#include <cstdint>
#include <string>

#include "switchyard/compute/trace_job.h"
#include "switchyard/core/expert_scores.h"
#include "switchyard/core/progress.h"

namespace sy {

struct Model;

struct ScoreOptions {
    CorpusOptions corpus;          // same dataset rules and defaults as trace
    RunnerOptions runner;          // runner.masked_experts are honoured and recorded
    int64_t output_tokens = 0;     // > 0: HC-SMoE mean outputs over this many sampled tokens
    std::string command_line;      // recorded in the file
};

// Throws UsageError for a dense model, bad options or data without tokens; Cancelled between
// batches (nothing is returned then). The output sample takes every s-th token, s =
// max(1, max_tokens / output_tokens) when --max-tokens is set, else the first output_tokens.
ExpertScores run_score(const Model& model, const ScoreOptions& options, Progress& progress, const CancelToken& cancel);

}  // namespace sy
