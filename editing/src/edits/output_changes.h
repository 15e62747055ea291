#pragma once
// What an edited export did to each tensor of its input, for the edit record's `tensors`
// (docs/recipes.md "Edit record"): computed by the edit, copied under a new name, converted
// (another dtype or layout), or removed. Derived from the final output list against the input
// checkpoint, so the record holds for every family and export option.
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/editing/export.h"

namespace sy {

struct Model;

struct TensorChanges {
    std::vector<std::string> computed;                          // output names the edit computed
    std::vector<std::pair<std::string, std::string>> renamed;   // (output name, input name): the same bytes
    // Output tensors holding one input tensor's values in another dtype or layout (--out-dtype,
    // fused experts written per expert, FP8 / MXFP4 dequantised): (output name, input name, dtype).
    std::vector<std::array<std::string, 3>> converted;
    std::set<std::string> removed;                              // input names the output lacks
};

// Every output tensor not in `computed` either copies its source tensor's bytes (listed as
// renamed when the name differs, else nothing) or is converted.
TensorChanges describe_output(const Model& model, const std::vector<ExportTensor>& written, std::vector<std::string> computed);

// The record's "tensors": `changed` (the entries of changes.computed, with their digests) and
// the "renamed", "converted" and "removed" lists of `changes`.
nlohmann::ordered_json tensors_record(nlohmann::ordered_json changed, const TensorChanges& changes);

// The head every record of an edit of `model` starts with (edit_provenance.h edit_record_head),
// its source also naming the model type and fingerprint.
nlohmann::ordered_json edited_record_head(const Model& model, const std::string& command_line);

// An edit of an edited model keeps the source's own record as "previous", so the chain back to
// the original checkpoint stays readable. Does nothing for an unedited source.
void add_previous_record(nlohmann::ordered_json& record, const std::filesystem::path& model_dir);

}  // namespace sy
