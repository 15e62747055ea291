// Formulas after HF `modeling_rope_utils.py` (`_compute_yarn_parameters`, llama3, dynamic) as
// summarised in formats.md §10. Angles are computed in f32 like HF.
#include "forward/rope.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

constexpr double kPi = 3.14159265358979323846;

// theta^(2i/d) for i < d/2, in f32 like HF.
torch::Tensor position_freqs(double theta, int64_t dim) {
    const torch::Tensor exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
    return torch::pow(torch::tensor(theta, torch::kFloat32), exponents);
}

torch::Tensor base_inv_freq(double theta, int64_t dim) { return 1.0 / position_freqs(theta, dim); }

double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

double yarn_correction_dim(double rotations, int64_t dim, double theta, double original_max) {
    return static_cast<double>(dim) * std::log(original_max / (rotations * 2.0 * kPi)) / (2.0 * std::log(theta));
}

int64_t original_max_positions(const ModelDescription& model) {
    if (model.rope.original_max_position_embeddings) return *model.rope.original_max_position_embeddings;
    if (model.max_position_embeddings > 0) return model.max_position_embeddings;
    throw ConfigError(model.model_type + ": rope type " + model.rope.type + " needs original_max_position_embeddings");
}

RopeFrequencies yarn(const ModelDescription& model, int64_t dim) {
    const RopeConfig& rope = model.rope;
    const double original = static_cast<double>(original_max_positions(model));
    double low = yarn_correction_dim(rope.beta_fast, dim, rope.theta, original);
    double high = yarn_correction_dim(rope.beta_slow, dim, rope.theta, original);
    if (rope.truncate) low = std::floor(low), high = std::ceil(high);
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;
    const torch::Tensor ramp = ((torch::arange(dim / 2, torch::kFloat32) - low) / (high - low)).clamp(0.0, 1.0);
    const torch::Tensor keep = 1.0 - ramp;   // 1: keep the original (extrapolated) frequency
    const torch::Tensor pos_freqs = position_freqs(rope.theta, dim);
    const torch::Tensor extrapolated = 1.0 / pos_freqs;
    const torch::Tensor interpolated = 1.0 / (rope.factor * pos_freqs);
    double amplitude = yarn_mscale(rope.factor, 1.0);
    if (rope.attention_factor) amplitude = *rope.attention_factor;
    else if (rope.mscale && rope.mscale_all_dim && *rope.mscale != 0.0 && *rope.mscale_all_dim != 0.0)
        amplitude = yarn_mscale(rope.factor, *rope.mscale) / yarn_mscale(rope.factor, *rope.mscale_all_dim);
    return {interpolated * (1.0 - keep) + extrapolated * keep, amplitude};
}

torch::Tensor llama3(const ModelDescription& model, int64_t dim) {
    const RopeConfig& rope = model.rope;
    const double low_factor = rope.low_freq_factor.value_or(1.0), high_factor = rope.high_freq_factor.value_or(4.0);
    const double original = static_cast<double>(original_max_positions(model));
    const torch::Tensor inv_freq = base_inv_freq(rope.theta, dim);
    const torch::Tensor wavelen = 2.0 * kPi / inv_freq;
    torch::Tensor scaled = torch::where(wavelen > original / low_factor, inv_freq / rope.factor, inv_freq);
    const torch::Tensor smooth = (original / wavelen - low_factor) / (high_factor - low_factor);
    const torch::Tensor smoothed = (1.0 - smooth) * scaled / rope.factor + smooth * scaled;
    const torch::Tensor medium = (wavelen >= original / high_factor) & (wavelen <= original / low_factor);
    return torch::where(medium, smoothed, scaled);
}

torch::Tensor dynamic(const ModelDescription& model, int64_t dim, int64_t longest_sequence) {
    const double max_positions = static_cast<double>(original_max_positions(model));
    double theta = model.rope.theta;
    if (static_cast<double>(longest_sequence) > max_positions) {
        const double ratio = model.rope.factor * static_cast<double>(longest_sequence) / max_positions - (model.rope.factor - 1.0);
        theta *= std::pow(ratio, static_cast<double>(dim) / static_cast<double>(dim - 2));
    }
    return base_inv_freq(theta, dim);
}

}  // namespace

RopeFrequencies rope_frequencies(const ModelDescription& model, int64_t longest_sequence) {
    const int64_t dim = model.rope.rotary_dim;
    const std::string& type = model.rope.type;
    if (type == "default") return {base_inv_freq(model.rope.theta, dim), 1.0};
    if (type == "linear") return {base_inv_freq(model.rope.theta, dim) / model.rope.factor, 1.0};
    if (type == "dynamic") return {dynamic(model, dim, longest_sequence), 1.0};
    if (type == "yarn") return yarn(model, dim);
    if (type == "llama3") return {llama3(model, dim), 1.0};
    throw ConfigError(model.model_type + ": rope type \"" + type +
                      "\" is not supported (supported: default, linear, dynamic, yarn, llama3)");
}

double yarn_softmax_scale_factor(const RopeConfig& rope) {
    if (rope.type != "yarn" || !rope.mscale_all_dim || *rope.mscale_all_dim == 0.0) return 1.0;
    const double mscale = yarn_mscale(rope.factor, *rope.mscale_all_dim);
    return mscale * mscale;
}

RopeTables rope_tables(const RopeFrequencies& frequencies, const torch::Tensor& positions, torch::ScalarType dtype) {
    const torch::Tensor inv_freq = frequencies.inv_freq.to(positions.device());
    const torch::Tensor angles = positions.to(torch::kFloat32).unsqueeze(1) * inv_freq.unsqueeze(0);   // [N, d/2]
    const double amplitude = frequencies.attention_factor;
    return {(angles.cos() * amplitude).to(dtype).unsqueeze(1), (angles.sin() * amplitude).to(dtype).unsqueeze(1)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTables& tables, RopePairing pairing) {
    const int64_t half = x.size(-1) / 2;
    const torch::Tensor& c = tables.cos;
    const torch::Tensor& s = tables.sin;
    if (pairing == RopePairing::half_split) {
        const torch::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        return torch::cat({x1 * c - x2 * s, x2 * c + x1 * s}, -1);
    }
    // Interleaved pairs (2i, 2i+1), DeepSeek's complex multiplication (formats.md §2.3).
    const torch::Tensor pairs = x.reshape({x.size(0), x.size(1), half, 2});
    const torch::Tensor x0 = pairs.select(-1, 0), x1 = pairs.select(-1, 1);
    return torch::stack({x0 * c - x1 * s, x1 * c + x0 * s}, -1).reshape(x.sizes());
}

}  // namespace sy
