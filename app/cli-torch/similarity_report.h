#pragma once
// Output of `switchyard similarity`: a readable table per matrix, or one JSON object.
#include <nlohmann/json.hpp>
#include <string>

#include "switchyard/compute/expert_similarity.h"

namespace sy::cli {

// {"layer", "moe_index", "experts", "intermediate_size", "hidden_size", "shared_experts",
//  "tokens", "router", "weights_unaligned", "weights_aligned", "outputs"}: matrices as [E][E]
// arrays of numbers (null where a cosine is undefined), null when not computed (--no-align).
nlohmann::json similarity_json(const ExpertSimilarity& result);

// Header line, the four matrices and the closest expert pairs; ends with '\n'.
std::string similarity_table(const ExpertSimilarity& result);

}  // namespace sy::cli
