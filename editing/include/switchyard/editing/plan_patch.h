#pragma once
// An EditPlan in the in-memory form the forward pass runs (model_patch.h): every edited expert
// sits at its home slot of the original layer, slots no expert occupies are masked, replaced
// router rows / correction-bias entries / expert weights are patched in, all rounded to the
// dtypes the export will store. Masking a slot is exactly what slicing its router row does
// (editing.md §2.7), so the patched model computes what the exported one will.
#include <memory>

#include "switchyard/compute/model_patch.h"
#include "switchyard/editing/edit_plan.h"
#include "switchyard/editing/export.h"

namespace sy {

struct TrainingResult;

struct PlanPatch {
    ExpertMask masks;                          // slots no edited expert occupies
    std::shared_ptr<const ModelPatch> patch;   // rows, biases, weights
};

// `dtype`: the export's --dtype (the patch rounds computed weights to what it will store).
PlanPatch patch_for_plan(const Model& model, const EditPlan& plan, ExportDType dtype);

// A stack whose structural entries (`plan`, on `model`) precede a training entry that trained
// `edited`, the model those entries leave as export_structural_prefix writes it (stored dtypes
// kept): the plan's patch with each trained router row and expert moved from its index in
// `edited` to its home slot in `model` (PlannedExpert::home), so the masked, patched original
// computes what `switchyard apply` of the whole stack writes. Rounding follows that path: the
// plan's computed weights to the stored dtype (the prefix export), then to what `dtype` converts
// it to (the final export); trained values once, as patch_for_trained rounds them. `edited` is
// read only here (the patch keeps no reference to it). Throws UsageError when `result` does
// not fit `edited` (patch_for_trained) or names an expert the plan does not have.
PlanPatch patch_for_plan_then_trained(const Model& model, const EditPlan& plan, const Model& edited,
                                      const TrainingResult& result, ExportDType dtype);

}  // namespace sy
