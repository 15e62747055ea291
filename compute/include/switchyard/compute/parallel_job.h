#pragma once
// What a parallel job's ranks must agree on, and where the experts live under expert
// parallelism. No torch here.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/compute/trace_job.h"

namespace sy {

struct Model;
class RankGroup;

// A readable fingerprint of everything that decides a job's result: verb, model fingerprint,
// data files (names and sizes), dataset options, dtype, masks, expert parallelism and placement.
// Every rank computes its own; join_rank_group refuses ranks that differ, naming both.
std::string parallel_job_signature(const Model& model, const std::string& verb, const CorpusOptions& corpus,
                                   const RunnerOptions& runner);

// [Lm][E_l] rank of each expert for `ranks` ranks: expert e of a layer with E experts goes to
// rank floor(e * ranks / E), `switchyard place`'s contiguous placement when ranks divides E.
std::vector<std::vector<int>> contiguous_expert_ranks(const Model& model, int ranks);

// The placement a `switchyard place -o PLACE.h5` file holds (/place/placement, primary copies),
// checked against the model (MoE layers, experts per layer) and the number of ranks. Throws
// UsageError naming the file and what differs.
std::vector<std::vector<int>> read_expert_placement(const std::filesystem::path& path, const Model& model, int ranks);

// What expert parallelism moved between ranks: per MoE layer, how many (token, expert) pairs
// each rank sent each other rank to be run there. Every pair travels twice: its hidden state
// to the expert's rank (dispatch) and the expert's output back (combine), row_bytes each way.
struct ExpertTraffic {
    int ranks = 1;
    int64_t row_bytes = 0;                       // one hidden state in the compute dtype: H x element size
    int64_t tokens = 0;                          // tokens through the forward pass
    std::vector<int> moe_layers;                 // [Lm] model-layer indices
    std::vector<std::vector<int64_t>> pairs;     // [Lm][ranks * ranks]: [a * ranks + b] pairs a sent to b (a == b: stayed)
    std::vector<std::vector<int>> expert_ranks;  // [Lm][E_l] the placement used
    // [Lm][ranks * ranks]: [a * ranks + b] tokens whose first-choice expert was on rank a in the
    // previous MoE layer and on rank b in this one (entry 0 stays zero): what `switchyard place`
    // predicts as cross_gpu_fraction (convention first), measured.
    std::vector<std::vector<int64_t>> transitions;

    int64_t cross_pairs(std::size_t layer) const;   // pairs that left their rank
    int64_t all_pairs(std::size_t layer) const;
    double transition_cross_fraction() const;   // off-diagonal share of all transitions
};

// Sums every rank's counts (collective: every rank calls it once, after the job).
void sum_expert_traffic(RankGroup& ranks, ExpertTraffic& traffic);
// {"ranks", "tokens", "row_bytes", "placement", "layers": [{"layer", "pairs" [a][b],
//  "dispatch_bytes" [a][b], "combine_bytes" [a][b], "cross_rank_fraction", "received_pairs" [b],
//  "received_max_over_mean", "first_choice_transitions" [a][b]}], "cross_rank_fraction",
//  "cross_rank_bytes_per_token", "first_choice_cross_fraction"}
std::string expert_traffic_json(const ExpertTraffic& traffic);
// A few lines for the terminal: per layer the share of pairs that crossed ranks, the bytes per
// token that moved and the busiest rank's load against the mean.
std::string expert_traffic_summary(const ExpertTraffic& traffic);

}  // namespace sy
