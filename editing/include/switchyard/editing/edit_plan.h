#pragma once
// What a list of edits does to each MoE layer, resolved against the model: for every expert of
// the edited model, which original experts (with weights and neuron permutations) make up its
// weights, where its router row and correction-bias entry come from, and which original slot
// it occupies. One plan drives both the streamed export (edit_export.h) and the in-memory
// preview (edit_preview.h), so what the preview shows is what the export writes.
// Plain data; planning reads expert weights only to align merged experts.
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/core/progress.h"
#include "switchyard/editing/recipe.h"

namespace sy {

struct Model;
struct ModelDescription;

// One original expert's contribution: weight * P(expert), P permuting intermediate neurons
// (neuron n of the result is neuron permutation[n] of the source; empty = identity).
struct SourceTerm {
    int expert = 0;
    double weight = 1.0;
    std::vector<int32_t> permutation;
};

struct PlannedExpert {
    std::vector<SourceTerm> terms;   // weights sum to 1
    int home = 0;                    // original slot it occupies (its position among survivors)
    int router_source = 0;           // original router row copied, or -1: router_row holds it
    std::vector<float> router_row;   // [H] when router_source < 0
    int bias_source = 0;             // original e_score_correction_bias entry, or -1: bias_value
    float bias_value = 0;
    std::vector<int> origin;         // original experts folded into this one (provenance)

    bool is_copy() const;            // one term, weight 1, no permutation
    int copy_source() const;         // terms[0].expert; only when is_copy()
};

struct LayerPlan {
    int layer = 0;                        // model-layer index
    int64_t original_experts = 0;         // E before the edits
    std::vector<PlannedExpert> experts;   // the edited layer's experts, in order (ascending home)

    bool unchanged() const;               // every expert a copy of itself, rows and biases kept
};

struct EditPlan {
    std::vector<LayerPlan> layers;        // one per MoE layer, in model order
    std::vector<std::string> notes;       // what the user should know (e.g. a mask became a prune)

    const LayerPlan& layer(int model_layer) const;   // throws UsageError for a dense layer
    int64_t expert_count() const;                    // E of the edited model (uniform, checked)
};

// Every expert a copy of itself.
EditPlan identity_plan(const ModelDescription& model);

// Applies `edits` in order on top of `plan`. Expert indices of each edit refer to the model as
// the earlier edits left it. Merges with align read the members' weights (f32, CPU) and solve
// one neuron assignment per non-dominant member (Hungarian method, O(I^3)); progress and cancel
// are polled per member. Throws UsageError for a bad edit (unknown layer or expert, overlapping
// groups, groups breaking the family's router groups, fewer than top_k experts left, layers
// ending with different expert counts) before anything is written.
EditPlan plan_edits(const Model& model, const std::vector<Edit>& edits, Progress& progress, const CancelToken& cancel);
EditPlan apply_edit(const Model& model, EditPlan plan, const Edit& edit, Progress& progress, const CancelToken& cancel);

// Checks what a checkpoint config can express: equal expert counts in every MoE layer, at least
// top_k selectable experts, equal router-group sizes for group-limited routers. UsageError.
void check_plan_exportable(const ModelDescription& model, const EditPlan& plan);

}  // namespace sy
