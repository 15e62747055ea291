#pragma once
// Which experts a method prunes or merges, from calibration scores (expert_scores.h):
//   prune  reap | frequency | ean | random  (editing.md §2.2, §2.3): per layer drop the n
//          lowest-saliency experts, n = floor(E * ratio) (REAP's compression ratio) or E - keep,
//          the same n in every layer; group-limited routers (n_group > 1) lose n / n_group per group.
//   merge  hc-smoe (editing.md §1.2): average-linkage clustering of the experts' mean outputs
//          (Euclidean) down to `keep` clusters per layer; m-smoe (editing.md §1.1): the `keep` most
//          frequent experts are dominant, every other one joins the dominant with the most similar
//          router-logit column (cosine). Groups are aligned to and routed by their most frequent member.
// Pure functions of the scores; any thread.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "switchyard/core/expert_scores.h"
#include "switchyard/core/expert_selection.h"
#include "switchyard/editing/recipe.h"

namespace sy {

struct ModelDescription;

enum class PruneMethod { reap, frequency, ean, random };
PruneMethod parse_prune_method(const std::string& text);   // UsageError
std::string prune_method_name(PruneMethod method);

struct PruneChoice {
    PruneMethod method = PruneMethod::reap;
    double ratio = 0;        // fraction removed per layer, in (0, 1); or
    int64_t keep = 0;        // experts kept per layer
    uint64_t seed = 0;       // random only
};

// The count checks of choose_pruned_experts alone, before any calibration pass (UsageError).
void check_prune_choice(const ModelDescription& model, const PruneChoice& choice);

// Experts removed per MoE layer. `scores` may be null for random. Throws UsageError for a ratio
// outside (0, 1), a count that removes nothing or leaves fewer than top_k, or groups it cannot keep equal.
ExpertsByLayer choose_pruned_experts(const ModelDescription& model, const ExpertScores* scores, const PruneChoice& choice);

// Saliency of every expert of one layer under `method` (higher = more important); never-routed
// experts get -inf for REAP/EAN.
std::vector<double> saliency(const LayerExpertScores& scores, PruneMethod method);

enum class MergeMethod { hc_smoe, m_smoe };
MergeMethod parse_merge_method(const std::string& text);   // UsageError
std::string merge_method_name(MergeMethod method);

enum class MergeWeights { frequency, uniform };
MergeWeights parse_merge_weights(const std::string& text);   // UsageError

// The count checks of choose_merge_groups alone, before any calibration pass (UsageError).
void check_merge_keep(const ModelDescription& model, int64_t keep);

// Groups (of two or more experts) per MoE layer leaving `keep` experts per layer. hc-smoe needs
// output means in the scores (`score --outputs N`). UsageError otherwise.
std::map<int, std::vector<MergeGroup>> choose_merge_groups(const ModelDescription& model, const ExpertScores& scores,
                                                           MergeMethod method, int64_t keep, MergeWeights weights);

// Fills dominant (most frequent member; ties: first listed) and weights (frequency or uniform)
// of user-given groups. Without scores: dominant = first listed, uniform weights.
std::vector<MergeGroup> weigh_groups(const std::vector<std::vector<int>>& groups, const LayerExpertScores* scores,
                                     MergeWeights weights);

}  // namespace sy
