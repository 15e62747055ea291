#pragma once
// Where a run may write: never into the checkpoint it reads (README "Edits never touch the input
// folder"; the quality bar's "inputs are never modified" holds for every verb).
#include <filesystem>
#include <string>

namespace sy {

// Whether `path` is `folder` or lies inside it. Both are resolved as far as they exist
// (std::filesystem::weakly_canonical), so a symlink into the folder counts as inside it.
bool path_is_within(const std::filesystem::path& path, const std::filesystem::path& folder);

// Throws UsageError naming `flag` (e.g. "-o", "--save-recipe") when the output file or folder
// `output` is the model folder or lies inside it.
void check_output_outside_model(const std::filesystem::path& output, const std::filesystem::path& model_dir,
                                const std::string& flag);

}  // namespace sy
