#pragma once
// What prune / merge / apply print: the edit summary (experts removed or merged per layer, bytes
// saved), the calibration data's domain coverage and, with a preview, per-layer MoE-block error
// and per-domain NLL before and after.
#include <string>

#include "switchyard/editing/surgery.h"

namespace sy::cli {

std::string edit_report(const std::string& verb, const EditJobResult& result, const CalibrationScores& scores);

}  // namespace sy::cli
