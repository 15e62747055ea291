#pragma once
// Writes an edited model: the plain streamed export (export.h) in which the tensors of edited
// MoE layers are renamed copies (kept experts: byte-identical, FP8 stays FP8 with its scales),
// gathered rows (routers, correction biases) or computed weights (merged experts), plus the
// config's expert count and the provenance record `switchyard-edit.json` (docs/recipes.md).
// Peak memory: the largest edited tensor and its sources, not the model.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "switchyard/editing/edit_plan.h"
#include "switchyard/editing/export.h"

namespace sy {

inline constexpr int64_t edit_record_format_version = 1;

// What `switchyard-edit.json` records beside the plan.
struct EditRecord {
    std::string command_line;
    std::vector<Edit> edits;                          // as in the recipe
    std::filesystem::path scores_file;                // copied as switchyard-scores.h5; empty: none
    std::vector<std::string> calibration_files;       // absolute; empty: no calibration data
    std::string calibration_sha256;
    int64_t calibration_tokens = 0;
};

// Bytes and counts of an edit, from headers alone (dry runs).
struct EditSummary {
    int64_t experts_before = 0, experts_after = 0;   // per MoE layer
    uint64_t bytes_before = 0, bytes_after = 0;      // output tensors, at the export dtype
    struct Layer {
        int layer = 0;
        std::vector<int> removed;                          // original experts not kept as themselves
        std::vector<std::vector<int>> merged;              // groups of original experts folded together
        std::vector<int> masked;                           // experts whose bias now masks them
    };
    std::vector<Layer> layers;                       // edited layers only
};

ExportPlan plan_edited_export(const Model& model, const EditPlan& plan, const ExportOptions& options,
                              const EditRecord& record);
EditSummary summarize_edit(const Model& model, const EditPlan& plan, const ExportOptions& options);

// Throws UsageError for a bad output folder (before anything is written), Cancelled between
// tensors (the output folder then never appears).
ExportResult export_edited(const Model& model, const EditPlan& plan, const ExportOptions& options,
                           const EditRecord& record, Progress& progress, const CancelToken& cancel);

}  // namespace sy
