#include "forward/lm_output.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "forward/rms_norm.h"

namespace sy {
namespace {

constexpr int64_t kLogitsChunkBytes = int64_t(256) << 20;

// Rows of logits whose f32 copy, logsumexp and gather run together on the CPU, so the three
// passes over them run from a core's cache instead of memory: 2 MiB of f32 logits, 16 rows of a
// 32,000-word vocabulary (1,024 x 32,000 BF16 logits on two threads: 44-50 ms in 8-16-row pieces
// against 107 ms at once, the same bits; lm_output of 8,192 qwen3 tokens 1.08-1.19 s against
// 1.53-1.70 s). On a GPU pieces would only add launches: one piece per chunk.
int64_t nll_piece_rows(int64_t vocab, const torch::Device& device, int64_t chunk_rows) {
    return device.is_cpu() ? std::max<int64_t>(1, (int64_t(2) << 20) / (vocab * 4)) : chunk_rows;
}

torch::Tensor lm_product(const LmHeadWeights& w, const torch::Tensor& normed) {
    return torch::matmul(normed, w.lm_head.t());   // [n, V] in the compute dtype
}

void copy_to_host(const torch::Tensor& values, float* destination) {
    const torch::Tensor host = values.to(torch::kCPU).to(torch::kFloat32).contiguous();
    std::memcpy(destination, host.data_ptr<float>(), static_cast<std::size_t>(host.numel()) * sizeof(float));
}

}  // namespace

int64_t logits_chunk_rows(int64_t vocab) { return std::max<int64_t>(1, kLogitsChunkBytes / (vocab * 4)); }

torch::Tensor lm_logits(const LmHeadWeights& w, const torch::Tensor& normed) {
    return lm_product(w, normed).to(torch::kFloat32);
}

// -log softmax(z)[t] = logsumexp(z) - z[t]: one reduction per row instead of writing every word's
// log-probability and gathering one (LibTorch 1.13 on two threads, 4,096 x 32,000 f32 logits in
// 16-row pieces: 72-77 ms against 121-124 ms; the same values to a few f32 steps).
torch::Tensor token_nll(const torch::Tensor& logits, const torch::Tensor& targets) {
    return torch::logsumexp(logits, -1) - logits.gather(1, targets.unsqueeze(1)).squeeze(1);
}

void lm_output(const LmHeadWeights& w, const torch::Tensor& h, const BatchLayout& batch, bool want_logits,
               BatchOutput& out) {
    const int64_t n = batch.tokens, vocab = w.lm_head.size(0);
    out.vocab_size = vocab;
    out.nll.resize(static_cast<std::size_t>(n));   // every value is written once, at the end
    if (want_logits) out.logits.assign(static_cast<std::size_t>(n * vocab), 0.0f);
    const torch::Tensor normed = rms_norm(h, w.final_norm, w.eps);
    const int64_t chunk = logits_chunk_rows(vocab), piece = nll_piece_rows(vocab, h.device(), chunk);
    const torch::Tensor nll = torch::empty({n}, h.options().dtype(torch::kFloat32));
    for (int64_t first = 0; first < n; first += chunk) {
        // the lm_head GEMM over the whole chunk (large M), the rest piece by piece
        const torch::Tensor product = lm_product(w, normed.narrow(0, first, std::min(chunk, n - first)));
        for (int64_t row = 0; row < product.size(0); row += piece) {
            const int64_t rows = std::min(piece, product.size(0) - row), at = first + row;
            const torch::Tensor logits = product.narrow(0, row, rows).to(torch::kFloat32);
            nll.narrow(0, at, rows).copy_(token_nll(logits, batch.targets.narrow(0, at, rows)));
            if (want_logits) copy_to_host(logits, out.logits.data() + at * vocab);
        }
    }
    copy_to_host(nll.masked_fill(batch.has_target.logical_not(), std::numeric_limits<double>::quiet_NaN()), out.nll.data());
}

}  // namespace sy
