#pragma once
// Per-expert calibration scores of one model (`switchyard score`, editing.md §0 table and §8
// item 1): everything the pruning and merging methods read, from one pass over calibration
// data. Stored as an HDF5 result file (docs/hdf5-schema.md "Score files") that h5py reads
// without Switchyard. Plain data; no HDF5 headers here.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sy {

struct Model;

inline constexpr int64_t scores_format_version = 1;

// One MoE layer. E = experts, D = domains, H = hidden size. "Routed tokens" of expert e are
// the (token, slot) pairs whose top-k contains e.
struct LayerExpertScores {
    int layer = 0;                          // model-layer index
    int64_t experts = 0;                    // E
    std::vector<int64_t> count;             // [E] selections (token, slot pairs)
    std::vector<double> frequency;          // [E] count / (k * tokens): freq_e (MC-SMoE, HC-SMoE)
    std::vector<double> gate_mass;          // [E] sum of final gate weights g_e over routed tokens
    std::vector<double> mean_prob;          // [E] mean router probability over all tokens (ESFT-Gate, UOE)
    std::vector<double> ean;                // [E] mean ||f_e(x)||_2 over routed tokens (EAN; NaN if never routed)
    std::vector<double> reap;               // [E] mean g_e(x) ||f_e(x)||_2 over routed tokens (REAP, Lasby et al.)
    std::vector<int64_t> domain_count;      // [D, E] selections per domain
    std::vector<double> router_logit_gram;  // [E, E] sum over tokens of z_i z_j (MC-SMoE's router-logit similarity)
    std::vector<double> output_mean;        // [E, H] mean f_e(x) over the output sample (HC-SMoE); empty without one
};

struct ExpertScores {
    std::string model_path;          // absolute model folder
    std::string model_fingerprint;   // model_fingerprint(): config + safetensors headers
    std::string model_type;
    std::string command_line;
    std::string created;             // ISO 8601 UTC
    std::string tool_version;
    std::vector<std::string> data_files;   // absolute calibration files, in reading order
    std::string data_sha256;         // SHA-256 over the calibration files' bytes, in order
    std::string masked_experts;      // "L:E,..." masked during scoring ("" for none)
    int64_t top_k = 0;
    int64_t hidden_size = 0;
    int64_t tokens = 0;              // calibration tokens
    int64_t output_tokens = 0;       // tokens behind output_mean (0: not computed)
    std::vector<std::string> domains;      // [D] ("(none)" for records without a domain)
    std::vector<int64_t> domain_tokens;    // [D]
    std::vector<LayerExpertScores> layers; // one per MoE layer, in model order

    // Throws UsageError naming the layer when the scores have none for it.
    const LayerExpertScores& layer(int model_layer) const;
};

// Writes `scores` to `out` (temporary name + rename; refuses an existing file unless
// `overwrite`). Throws UsageError / IoError.
void write_expert_scores(const ExpertScores& scores, const std::filesystem::path& out, bool overwrite);
// Throws UsageError when the file is not a Switchyard score file (or a newer format).
ExpertScores read_expert_scores(const std::filesystem::path& path);
// Throws UsageError when `scores` were not computed from `model` (fingerprint and layer shapes).
void check_scores_match(const ExpertScores& scores, const Model& model, const std::filesystem::path& scores_path);

}  // namespace sy
