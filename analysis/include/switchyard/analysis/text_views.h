#pragma once
// Whole-matrix text views (the paper figures in docs/analysis.md): printed by
// `switchyard stats --show domains` and `switchyard affinity --heatmap`. Thread: any.
#include <string>

#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/stats.h"

namespace sy::analysis {

// Per MoE layer: domain x expert share of the domain's routing slots (rows sum to 100%), with
// the all-tokens row (Mixtral's domain-assignment figure).
std::string domain_expert_tables(const StatsResult& result);
// Per layer pair: the conditional matrix in percent with an ASCII shade per cell (ExFlow's
// affinity heat map).
std::string affinity_heatmaps(const AffinityResult& result);
// Only the "top tokens per expert" section of stats_summary (OpenMoE's specialisation table).
std::string top_tokens_summary(const StatsResult& result, const std::vector<std::string>& token_strings);

}  // namespace sy::analysis
