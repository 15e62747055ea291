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

struct PlanPatch {
    ExpertMask masks;                          // slots no edited expert occupies
    std::shared_ptr<const ModelPatch> patch;   // rows, biases, weights
};

// `dtype`: the export's --dtype (the patch rounds computed weights to what it will store).
PlanPatch patch_for_plan(const Model& model, const EditPlan& plan, ExportDType dtype);

}  // namespace sy
