#pragma once
// What prune / merge / apply print: the edit summary (experts removed or merged per layer, bytes
// saved), the calibration data's domain coverage and, with a preview, per-layer MoE-block error
// and per-domain NLL before and after.
#include <string>

#include "progress_stderr.h"
#include "switchyard/editing/surgery.h"

namespace sy::cli {

std::string edit_report(const std::string& verb, const EditJobResult& result, const CalibrationScores& scores);

// The common end of prune / merge / apply: run_edit_job, then the report on stdout and, when a
// model was written, where. Returns the verb's exit status (0); errors propagate as exceptions.
int run_edit_and_report(const std::string& verb, const Model& model, const Recipe& recipe, const EditRecord& record,
                        const EditJobOptions& job, const CalibrationScores& scores, StderrProgress& progress,
                        const CancelToken& cancel);

}  // namespace sy::cli
