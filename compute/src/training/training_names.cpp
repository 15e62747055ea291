// Names and the learning-rate schedule of training.h.
#include <cmath>

#include "switchyard/compute/training.h"
#include "switchyard/core/errors.h"

namespace sy {

std::string token_loss_name(TokenLoss loss) {
    switch (loss) {
    case TokenLoss::cross_entropy: return "ce";
    case TokenLoss::negated_cross_entropy: return "ga";
    case TokenLoss::npo: return "npo";
    }
    return "?";
}

std::string routing_loss_name(const RoutingLoss& loss) {
    if (loss.kind == RoutingLoss::Kind::load_balance) return "load_balance";
    return "anchor L" + std::to_string(loss.layer) + ":E" + std::to_string(loss.expert);
}

LrSchedule parse_lr_schedule(const std::string& text) {
    if (text == "constant") return LrSchedule::constant;
    if (text == "linear") return LrSchedule::linear;
    if (text == "cosine") return LrSchedule::cosine;
    throw UsageError("unknown learning-rate schedule \"" + text + "\" (constant, linear or cosine)");
}

std::string lr_schedule_name(LrSchedule schedule) {
    switch (schedule) {
    case LrSchedule::constant: return "constant";
    case LrSchedule::linear: return "linear";
    case LrSchedule::cosine: return "cosine";
    }
    return "?";
}

// Warm-up rises linearly to the peak over warmup_steps (step w reaches it); the decay then runs
// from the peak at the first step after warm-up towards lr * min_lr_ratio, as transformers'
// get_cosine_schedule_with_warmup / get_linear_schedule_with_warmup do with current_step =
// step - 1 (so the first decay step uses the full rate).
double learning_rate_at(const OptimizerOptions& o, int64_t step, int64_t steps) {
    const int64_t total = o.schedule_steps > 0 ? o.schedule_steps : steps;
    if (o.warmup_steps > 0 && step <= o.warmup_steps) return o.lr * double(step) / double(o.warmup_steps);
    if (o.schedule == LrSchedule::constant) return o.lr;
    const double span = double(std::max<int64_t>(1, total - o.warmup_steps));
    const double progress = std::min(1.0, std::max(0.0, double(step - 1 - o.warmup_steps) / span));
    const double shape = o.schedule == LrSchedule::linear ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
    return o.lr * (o.min_lr_ratio + (1.0 - o.min_lr_ratio) * shape);
}

}  // namespace sy
