#pragma once
// switchyard-edit.json: what an edit wrote, from what, how. Schema (format_version 1):
//   {"format": "switchyard-edit", "format_version": 1, "tool_version": "switchyard <ver>",
//    "created": "<ISO 8601 UTC>", "command_line": "...",
//    "source": {"path": "<abs dir>", "config_sha256": "<hex of config.json bytes>"},
//    "sources": [further inputs, same shape], "edits": [{"op": ..., every parameter resolved}],
//    "expert_map": null}
// Every writer of the record (upcycle here, prune / merge / mask / apply in edit_export.cpp) starts
// from edit_record_head, so the shared fields are written once. Layout: docs/recipes.md.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sy {

inline constexpr const char* k_edit_provenance_file = "switchyard-edit.json";

// format, format_version, tool_version, created, command_line, source {path, config_sha256} and
// sources [...] for `inputs` (the edited model first, then any further sources). Throws IoError.
nlohmann::ordered_json edit_record_head(const std::vector<std::filesystem::path>& inputs, const std::string& command_line);

// `inputs`: the edited model first, then any further sources. Throws IoError.
void write_edit_provenance(const std::filesystem::path& out_dir, const std::vector<std::filesystem::path>& inputs,
                           const std::string& command_line, const nlohmann::ordered_json& edits,
                           const nlohmann::json& expert_map = nullptr);

}  // namespace sy
