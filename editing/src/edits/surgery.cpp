// The edit verbs' common path (surgery.h): calibrate -> resolve -> plan -> preview / export.
#include "switchyard/editing/surgery.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "switchyard/compute/router_fit.h"
#include "switchyard/compute/score_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/staged_directory.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/plan_patch.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

Json scores_details(const CalibrationScores& s) {
    if (!s.scores) return nullptr;
    return {{"scores", s.file.empty() ? Json("computed from --data") : Json(fs::absolute(s.file).string())},
            {"calibration_tokens", s.scores->tokens},
            {"data_sha256", s.scores->data_sha256}};
}

// A score file written beside the output for the export to copy in, removed afterwards.
class TemporaryScores {
public:
    TemporaryScores(const ExpertScores& scores, const fs::path& output_dir) {
        m_path = fs::absolute(output_dir).parent_path() /
                 ("." + fs::absolute(output_dir).filename().string() + ".scores-" + std::to_string(::getpid()) + ".h5");
        write_expert_scores(scores, m_path, true);
    }
    ~TemporaryScores() {
        std::error_code ec;
        fs::remove(m_path, ec);
    }
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

void refuse_dense(const Model& model) {
    SY_CHECK(!model.description.moe_layers.empty(), UsageError,
             model.checkpoint.dir().string() + ": " + model.description.model_type +
                 " is a dense model (no MoE layers): there are no experts to edit");
}

}  // namespace

void check_export_target(const Model& model, const ExportOptions& options) {
    check_output_folder(model.checkpoint.dir(), options.output_dir);
    StagedDirectory::check_target(options.output_dir, options.force);   // what the export's staging would refuse
}

CalibrationScores calibrate(const Model& model, const Calibration& calibration, bool needed, int64_t output_tokens,
                            Progress& progress, const CancelToken& cancel) {
    refuse_dense(model);
    CalibrationScores out;
    if (!calibration.scores_file.empty()) {
        out.scores = read_expert_scores(calibration.scores_file);
        check_scores_match(*out.scores, model, calibration.scores_file);
        SY_CHECK(output_tokens == 0 || out.scores->output_tokens > 0, UsageError,
                 calibration.scores_file.string() + ": holds no expert output means (score with --outputs N, or give --data)");
        out.file = calibration.scores_file;
        return out;
    }
    if (calibration.runs_pass(needed)) {
        ScoreOptions options;
        options.corpus = calibration.corpus;
        options.runner = calibration.runner;
        options.output_tokens = output_tokens;
        options.command_line = calibration.command_line;
        out.scores = run_score(model, options, progress, cancel);
        return out;
    }
    SY_CHECK(!needed, UsageError, "this method needs calibration scores: give --data FILE (a calibration pass) or --scores SCORES.h5");
    return out;
}

Edit resolve_prune(const Model& model, const PruneRequest& request, const CalibrationScores& scores) {
    refuse_dense(model);
    PruneEdit edit;
    if (!request.choice) {
        check_layer_experts(model.description, request.experts, "--experts");
        edit.experts = request.experts;
        return edit;
    }
    const PruneChoice& c = *request.choice;
    edit.experts = choose_pruned_experts(model.description, scores.scores ? &*scores.scores : nullptr, c);
    edit.method = prune_method_name(c.method);
    Json details{{"ratio", c.ratio > 0 ? Json(c.ratio) : Json(nullptr)}, {"keep", c.keep > 0 ? Json(c.keep) : Json(nullptr)}};
    if (c.method == PruneMethod::random) details["seed"] = c.seed;
    else if (scores.scores) details.update(scores_details(scores));
    edit.details_json = details.dump();
    return edit;
}

MergeRouter default_merge_router(const Calibration& calibration) {
    // Measured on tiny-mixtral (docs/surgery.md "Router rows of collapsed groups"): the fitted
    // row gives the lower held-out NLL at 8->6 experts, the dominant member's at 8->4; fitted
    // stays the default for the moderate ratios most merges use. Without data it cannot be fitted.
    return calibration.has_data() ? MergeRouter::fitted : MergeRouter::dominant;
}

Edit resolve_merge(const Model& model, const MergeRequest& request, const CalibrationScores& scores,
                   const Calibration& calibration, Progress& progress, const CancelToken& cancel) {
    refuse_dense(model);
    const ModelDescription& d = model.description;
    MergeEdit edit;
    edit.align = request.align;
    edit.layout = request.layout;
    edit.router = request.router.value_or(default_merge_router(calibration));
    const ExpertScores* s = scores.scores ? &*scores.scores : nullptr;
    const MergeWeights weights = request.weights.value_or(s ? MergeWeights::frequency : MergeWeights::uniform);
    SY_CHECK(weights == MergeWeights::uniform || s, UsageError,
             "--weights frequency needs calibration scores: give --data FILE or --scores SCORES.h5");
    if (request.method) {
        SY_CHECK(s, UsageError, "--method " + merge_method_name(*request.method) + " needs --data FILE or --scores SCORES.h5");
        edit.groups = choose_merge_groups(d, *s, *request.method, request.keep, weights);
        edit.method = merge_method_name(*request.method);
    } else {
        ExpertsByLayer listed;
        for (const auto& [layer, groups] : request.groups)
            for (const auto& g : groups) listed[layer].insert(listed[layer].end(), g.begin(), g.end());
        check_layer_experts(d, listed, "--groups");
        for (const auto& [layer, groups] : request.groups)
            edit.groups[layer] = weigh_groups(groups, s ? &s->layer(layer) : nullptr, weights);
    }
    Json details{{"keep", request.method ? Json(request.keep) : Json(nullptr)},
                 {"weights", weights == MergeWeights::frequency ? "frequency" : "uniform"}};
    if (scores.scores) details.update(scores_details(scores));
    edit.details_json = details.dump();
    if (edit.router == MergeRouter::fitted && edit.layout == MergeLayout::collapse) {
        SY_CHECK(calibration.has_data(), UsageError,
                 "--router fitted fits each merged expert's router row on calibration hidden states: give --data FILE");
        std::map<int, std::vector<std::vector<int>>> members;
        for (const auto& [layer, groups] : edit.groups)
            for (const MergeGroup& g : groups) members[layer].push_back(g.members);
        EvalOptions fit;
        fit.corpus = calibration.corpus;
        fit.runner = calibration.runner;
        edit.router_rows = fit_group_router_rows(model, fit, members, progress, cancel);
    }
    return edit;
}

EditJobResult run_edit_job(const Model& model, const Recipe& recipe, EditRecord record, const EditJobOptions& options,
                           const CalibrationScores& scores, Progress& progress, const CancelToken& cancel) {
    const ExportOptions& out = options.export_options;
    if (!options.save_recipe.empty())
        check_recipe_destination(options.save_recipe, model.checkpoint.dir(), options.dry_run ? fs::path() : out.output_dir, out.force);
    // Written last: after the export (or the dry run's preview) succeeded, so a failed run leaves
    // no recipe of an edit that was never made.
    const auto save_recipe = [&] {
        if (options.save_recipe.empty()) return;
        Recipe saved = recipe;
        if (saved.source_path.empty()) {
            saved.source_path = fs::absolute(model.checkpoint.dir()).lexically_normal().string();
            saved.source_fingerprint = model_fingerprint(model);
        }
        write_recipe(saved, options.save_recipe);
    };
    EditJobResult result;
    result.plan = plan_edits(model, recipe.edits, progress, cancel);
    result.summary = summarize_edit(model, result.plan, out);
    if (!options.preview.corpus.data.empty()) {
        const PlanPatch patch = patch_for_plan(model, result.plan, out.dtype);
        result.preview = run_edit_preview(model, patch.masks, patch.patch, options.preview, progress, cancel);
    }
    if (options.dry_run) {
        save_recipe();
        return result;
    }
    record.edits = recipe.edits;
    std::optional<TemporaryScores> temporary;
    if (scores.scores) {
        record.calibration_files = scores.scores->data_files;
        record.calibration_sha256 = scores.scores->data_sha256;
        record.calibration_tokens = scores.scores->tokens;
        if (scores.file.empty()) temporary.emplace(*scores.scores, out.output_dir);
        record.scores_file = scores.file.empty() ? temporary->path() : scores.file;
    }
    result.exported = export_edited(model, result.plan, out, record, progress, cancel);
    save_recipe();
    return result;
}

}  // namespace sy
