#pragma once
// Evaluations of a TrainableModel without autograd: per-domain NLL and expert selection rates
// of an EvalSet, mean held-out NLL, and each window's mean token log-probability (NPO's
// reference). Batches of whole windows, at most `batch_tokens` tokens each. Compute thread.
#include <string>
#include <utility>
#include <vector>

#include "switchyard/compute/training.h"
#include "training/trainable_model.h"
#include "training/training_data.h"

namespace sy {

EvalReport evaluate_set(TrainableModel& model, const std::string& name, const WindowSet& windows,
                        const std::vector<std::pair<int, int>>& experts, int64_t batch_tokens, const CancelToken& cancel);

// NaN when `indices` is empty.
double mean_nll(TrainableModel& model, const WindowSet& windows, const std::vector<int64_t>& indices,
                int64_t batch_tokens, const CancelToken& cancel);

// [windows.windows.size()] mean log-probability of each window's targets (0 for windows not in
// `indices`).
std::vector<float> window_mean_logp(TrainableModel& model, const WindowSet& windows,
                                    const std::vector<int64_t>& indices, int64_t batch_tokens,
                                    const CancelToken& cancel);

std::string eval_reports_json(const std::vector<EvalReport>& reports);
std::vector<EvalReport> eval_reports_from_json(const std::string& json);

}  // namespace sy
