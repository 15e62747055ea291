#include "forward/lm_output.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "forward/rms_norm.h"

namespace sy {
namespace {

constexpr int64_t kLogitsChunkBytes = int64_t(256) << 20;

void copy_to_host(const torch::Tensor& values, float* destination) {
    const torch::Tensor host = values.to(torch::kCPU).to(torch::kFloat32).contiguous();
    std::memcpy(destination, host.data_ptr<float>(), static_cast<std::size_t>(host.numel()) * sizeof(float));
}

}  // namespace

void lm_output(const LmHeadWeights& w, const torch::Tensor& h, const BatchLayout& batch, bool want_logits,
               BatchOutput& out) {
    const int64_t n = batch.tokens, vocab = w.lm_head.size(0);
    out.vocab_size = vocab;
    out.nll.assign(static_cast<std::size_t>(n), std::numeric_limits<float>::quiet_NaN());
    if (want_logits) out.logits.assign(static_cast<std::size_t>(n * vocab), 0.0f);
    const torch::Tensor normed = rms_norm(h, w.final_norm, w.eps);
    const int64_t chunk = std::max<int64_t>(1, kLogitsChunkBytes / (vocab * 4));
    for (int64_t first = 0; first < n; first += chunk) {
        const int64_t rows = std::min(chunk, n - first);
        const torch::Tensor logits = torch::matmul(normed.narrow(0, first, rows), w.lm_head.t()).to(torch::kFloat32);
        const torch::Tensor targets = batch.targets.narrow(0, first, rows).unsqueeze(1);
        torch::Tensor nll = -torch::log_softmax(logits, -1).gather(1, targets).squeeze(1);
        nll = nll.masked_fill(batch.has_target.narrow(0, first, rows).logical_not(), std::numeric_limits<double>::quiet_NaN());
        copy_to_host(nll, out.nll.data() + first);
        if (want_logits) copy_to_host(logits, out.logits.data() + first * vocab);
    }
}

}  // namespace sy
