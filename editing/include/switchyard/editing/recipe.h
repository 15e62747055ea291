#pragma once
// Edit recipes: a versioned JSON list of expert edits that one streamed export applies
// (`switchyard apply RECIPE.json -o OUT`; `prune`/`merge --save-recipe FILE` write one, the
// workbench builds and saves the same files). Layout: docs/recipes.md. Each entry refers to
// expert indices of the model as it is after the entries before it. Entries carry resolved
// values (expert lists, merge weights, fitted router rows), so applying a recipe needs no
// calibration data and gives the same bytes every time. Plain data; any thread.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "switchyard/core/expert_selection.h"

namespace sy {

// Version 2 added the training entries (unlearn, tune); a recipe without them is written as
// version 1, which older readers still read.
inline constexpr int64_t recipe_format_version = 2;

// Remove experts (REAP / frequency / EAN / random / listed): primitive P1 of editing.md §0.
struct PruneEdit {
    ExpertsByLayer experts;     // removed, per model layer
    std::string method = "experts";   // how they were chosen: experts, reap, frequency, ean, random
    std::string details_json = "{}";  // the choice's parameters (ratio, seed, scores file), provenance only
};

// How a merged group is written (editing.md §1.6).
enum class MergeLayout {
    collapse,    // one expert per group: E - (merged - groups) experts, config updated
    duplicate,   // E slots, every member holds the merged weights (the papers' aliased model)
};

// Where a collapsed group's router row comes from (measured in docs/surgery.md).
enum class MergeRouter {
    dominant,   // the dominant member's row (HC-SMoE's prune_experts)
    fitted,     // least-squares row reproducing the group's log-sum-exp logit on calibration data
};

struct MergeGroup {
    std::vector<int> members;      // experts merged together
    int dominant = -1;             // alignment target and router row source; one of members
    std::vector<double> weights;   // one per member, >= 0, normalised to sum 1 when applied
};

// Weighted average of each group's experts after aligning every member's intermediate neurons
// to the dominant member (SwiGLU weight matching, editing.md §1.1, §1.3): primitives P4 + P2
// (+ P1 for collapse).
struct MergeEdit {
    std::map<int, std::vector<MergeGroup>> groups;   // model layer -> groups
    bool align = true;
    MergeLayout layout = MergeLayout::collapse;
    MergeRouter router = MergeRouter::dominant;
    // router == fitted: layer -> one row [H] per group (same order as groups).
    std::map<int, std::vector<std::vector<float>>> router_rows;
    std::string method = "groups";    // groups, hc-smoe, m-smoe
    std::string details_json = "{}";
};

// Inference-time masks made permanent: experts never selected again. Families whose router has
// a selection-only bias (e_score_correction_bias) keep the expert and set its bias to
// mask_bias_value (exact, editing.md §2.7); the others remove the expert (slicing a router row
// is exactly a -inf mask there).
struct MaskEdit {
    ExpertsByLayer experts;
};

inline constexpr float mask_bias_value = -1.0e9f;

// Dense -> MoE upcycling (upcycle.h): the resolved UpcycleOptions as a JSON object. It makes a new
// model rather than editing experts, so a recipe holding it holds nothing else.
struct UpcycleEdit {
    std::string options_json = "{}";
};

// Expert surgery by training (expert_training.h): `unlearn` (UOE / SEUF) and `tune` (ESFT) as
// they ran, as one JSON object: what trained, the data files with their sha256, the streams and
// losses, the seed, and the learning rate and step count the run used (after its learning-rate
// probe and early stopping), so that applying the entry trains the same steps again and writes
// the same bytes (on the CPU). Layout: docs/recipes.md. At most one, the last entry of a recipe:
// the entries before it are exported first and the training runs on their result.
struct UnlearnEdit {
    std::string resolved_json = "{}";
};
struct TuneEdit {
    std::string resolved_json = "{}";
};

using Edit = std::variant<PruneEdit, MergeEdit, MaskEdit, UpcycleEdit, UnlearnEdit, TuneEdit>;

// The resolved JSON of an unlearn / tune entry; nullptr for the other entries.
const std::string* training_entry_json(const Edit& edit);

struct RecipeExport {
    std::string dtype = "keep";       // keep, bf16, f16, f32
    std::string shard_size = "5GB";
};

struct Recipe {
    std::vector<Edit> edits;
    RecipeExport export_settings;
    std::string source_path;          // the model the indices refer to ("" when not recorded)
    std::string source_fingerprint;   // its model_fingerprint()
};

std::string edit_op_name(const Edit& edit);   // "prune", "merge", "mask", "upcycle", "unlearn", "tune"

// JSON text of the recipe (format "switchyard-recipe", format_version), and back. Parsing throws
// UsageError naming `origin` and the entry ("recipe.json: edits[1]: unknown op \"split\"").
std::string recipe_to_json(const Recipe& recipe);
Recipe parse_recipe(const std::string& text, const std::string& origin);
// One entry as a JSON object (the recipe's and switchyard-edit.json's "edits" entries).
std::string edit_to_json(const Edit& edit);

Recipe read_recipe(const std::filesystem::path& path);                   // UsageError / IoError
void write_recipe(const Recipe& recipe, const std::filesystem::path& path);   // temp + rename

// Checked before any work, so that a long run cannot end by destroying a file (UsageError): the
// recipe `path` of --save-recipe must not lie in the model folder (a run only reads it) nor in
// the output folder (the export writes that folder whole: its switchyard-edit.json records the
// edit), must not be a folder, must not exist unless `force`, and its folder must exist.
// `output_dir` may be empty (a dry run).
void check_recipe_destination(const std::filesystem::path& path, const std::filesystem::path& model_dir,
                              const std::filesystem::path& output_dir, bool force);

}  // namespace sy
