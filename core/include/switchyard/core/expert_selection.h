#pragma once
// Experts named on the command line, in recipes and in the GUI: "L:E[,L:E...]" (model-layer
// index : expert index) and merge groups "L:a+b[+c][,L:...]". Layer indices are model-layer
// indices, as in /meta/moe_layers of a trace. Pure functions, any thread.
#include <map>
#include <string>
#include <vector>

namespace sy {

struct ModelDescription;

// Model-layer index -> expert indices (sorted, unique after parsing).
using ExpertsByLayer = std::map<int, std::vector<int>>;
// Model-layer index -> groups of expert indices (each group in the order given).
using ExpertGroupsByLayer = std::map<int, std::vector<std::vector<int>>>;

// Throws UsageError naming `flag` and the offending item ("--experts: \"3:x\" is not L:E").
// Duplicates are an error.
ExpertsByLayer parse_layer_experts(const std::string& text, const std::string& flag);
ExpertGroupsByLayer parse_expert_groups(const std::string& text, const std::string& flag);

std::string format_layer_experts(const ExpertsByLayer& experts);       // "3:1,3:5,7:0"
std::string format_expert_groups(const ExpertGroupsByLayer& groups);   // "3:1+5,7:0+2+4"

// Throws UsageError naming `flag` when a layer is not a MoE layer (the message lists the MoE
// layers) or an expert index is out of range.
void check_layer_experts(const ModelDescription& model, const ExpertsByLayer& experts, const std::string& flag);

}  // namespace sy
