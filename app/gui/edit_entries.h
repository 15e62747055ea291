#pragma once
// What the window needs to know about each kind of recipe entry (recipe.h's Edit: prune,
// merge, mask, and the training entries unlearn and tune), in one place: how to describe it, and how to move its expert indices between the two numberings
// in play. The views (and the selection) number experts as in the OPEN model; a recipe entry
// numbers them as the model is after the entries before it (docs/recipes.md). Pure functions of
// the model and the entries; no weights are read. Main thread or any.
#include <QString>
#include <vector>

#include "switchyard/editing/edit_plan.h"
#include "switchyard/editing/recipe.h"

namespace sy {
struct Model;
struct UpcycleOptions;
}  // namespace sy

namespace sy::gui {

// The plan of `edits` for index bookkeeping: merges are planned without neuron alignment (which
// changes weights, never indices), and unlike plan_edits the result need not be exportable yet
// (pruning layer 0 before layer 1 is a valid intermediate stack). Throws sy::UsageError naming
// the entry's problem (unknown expert, overlapping groups, fewer than top_k left).
EditPlan index_plan(const Model& model, const std::vector<Edit>& edits);

// `edit` with experts numbered as in the open model -> as the recipe numbers them after the
// entries whose plan is `before`. Throws sy::UsageError when an expert no longer exists
// ("layer 0 expert 3 was removed by an earlier entry") or a merge group collapses to one expert.
Edit to_recipe_indices(const Edit& edit, const EditPlan& before);
// The reverse: a recipe entry's experts as the open model numbers them (each edited expert by
// the original slot it occupies).
Edit to_model_indices(const Edit& entry, const EditPlan& before);

// One line for the edit stack, experts as the open model numbers them:
// "prune  layer 0: experts 1, 5; layer 1: experts 0, 7"; a training entry, whose experts are
// numbered as the entries before it leave the model, shows them at their slots of the open
// model when `before` (index_plan of those entries) is given:
// "tune  experts 0:1, 2:5, 12 steps at lr 0.001 (seed 4); train data.jsonl".
QString describe_edit(const Edit& edit_in_model_indices, const EditPlan* before = nullptr);
QString describe_upcycle(const UpcycleOptions& options);

}  // namespace sy::gui
