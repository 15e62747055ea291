// Ports of transformers' torch_chunk_gated_delta_rule / torch_recurrent_gated_delta_rule
// (models/qwen3_next/modeling_qwen3_next.py), with use_qk_l2norm_in_kernel=True.
#include "switchyard/compute/gated_delta_rule.h"

#include <torch/torch.h>

#include <cmath>

namespace sy {
namespace {

torch::Tensor l2norm(const torch::Tensor& x) { return x * torch::rsqrt((x * x).sum(-1, /*keepdim=*/true) + 1e-6); }

struct Prepared {
    torch::Tensor q, k, v, g, beta;   // f32; q, k normalised, q scaled
};

Prepared prepare(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& g,
                 const torch::Tensor& beta) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
    return {l2norm(q.to(torch::kFloat32)) * scale, l2norm(k.to(torch::kFloat32)), v.to(torch::kFloat32),
            g.to(torch::kFloat32), beta.to(torch::kFloat32)};
}

torch::Tensor pad_time(const torch::Tensor& x, int64_t pad) {   // dim 2 of [B, H, T, ...]
    if (pad == 0) return x;
    std::vector<int64_t> shape = x.sizes().vec();
    shape[2] = pad;
    return torch::cat({x, torch::zeros(shape, x.options())}, 2);
}

// [B, H, T(, d)] -> [B, H, T / c, c(, d)]
torch::Tensor chunks(const torch::Tensor& x, int64_t c) {
    std::vector<int64_t> shape = {x.size(0), x.size(1), x.size(2) / c, c};
    if (x.dim() == 4) shape.push_back(x.size(3));
    return x.reshape(shape);
}

// Within-chunk solve: the unit lower-triangular (I + A)^-1 of the delta rule, built row by
// row as transformers does. attn [B, H, n, c, c], strictly lower triangular on entry.
torch::Tensor solve_chunks(torch::Tensor attn) {
    const int64_t c = attn.size(-1);
    for (int64_t i = 1; i < c; ++i) {
        const torch::Tensor row = attn.select(-2, i).narrow(-1, 0, i).clone();            // [..., i]
        const torch::Tensor sub = attn.narrow(-2, 0, i).narrow(-1, 0, i).clone();          // [..., i, i]
        attn.select(-2, i).narrow(-1, 0, i).copy_(row + (row.unsqueeze(-1) * sub).sum(-2));
    }
    return attn + torch::eye(c, attn.options());
}

}  // namespace

torch::Tensor chunk_gated_delta_rule(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in,
                                     const torch::Tensor& g_in, const torch::Tensor& beta_in, int64_t c) {
    Prepared p = prepare(q_in, k_in, v_in, g_in, beta_in);
    const int64_t b = p.k.size(0), h = p.k.size(1), t = p.k.size(2), dk = p.k.size(3), dv = p.v.size(3);
    const int64_t pad = (c - t % c) % c;
    const torch::Tensor q = chunks(pad_time(p.q, pad), c), k = chunks(pad_time(p.k, pad), c);
    const torch::Tensor beta = pad_time(p.beta, pad).unsqueeze(-1);
    const torch::Tensor v_beta = chunks(pad_time(p.v, pad) * beta, c), k_beta = chunks(pad_time(p.k, pad) * beta, c);
    const torch::Tensor g = chunks(pad_time(p.g, pad), c).cumsum(-1);                  // [B, H, n, c]
    const auto bool_options = torch::TensorOptions().dtype(torch::kBool).device(q.device());
    const torch::Tensor upper = torch::ones({c, c}, bool_options).triu(0);
    const torch::Tensor decay = (g.unsqueeze(-1) - g.unsqueeze(-2)).tril().exp().tril();   // [B, H, n, c, c]
    const torch::Tensor attn = solve_chunks(-(torch::matmul(k_beta, k.transpose(-1, -2)) * decay).masked_fill(upper, 0));
    const torch::Tensor value = torch::matmul(attn, v_beta);
    const torch::Tensor k_cumdecay = torch::matmul(attn, k_beta * g.exp().unsqueeze(-1));
    const torch::Tensor strictly_upper = torch::ones({c, c}, bool_options).triu(1);
    torch::Tensor state = torch::zeros({b, h, dk, dv}, value.options());
    torch::Tensor out = torch::empty_like(value);
    for (int64_t i = 0; i < q.size(2); ++i) {
        const torch::Tensor q_i = q.select(2, i), k_i = k.select(2, i), g_i = g.select(2, i);
        const torch::Tensor local =
            (torch::matmul(q_i, k_i.transpose(-1, -2)) * decay.select(2, i)).masked_fill(strictly_upper, 0);
        const torch::Tensor v_new = value.select(2, i) - torch::matmul(k_cumdecay.select(2, i), state);
        out.select(2, i).copy_(torch::matmul(q_i * g_i.exp().unsqueeze(-1), state) + torch::matmul(local, v_new));
        const torch::Tensor g_last = g_i.narrow(-1, c - 1, 1);                           // [B, H, 1]
        state = state * g_last.exp().unsqueeze(-1) +
                torch::matmul((k_i * (g_last - g_i).exp().unsqueeze(-1)).transpose(-1, -2), v_new);
    }
    return out.reshape({b, h, -1, dv}).narrow(2, 0, t);
}

torch::Tensor recurrent_gated_delta_rule(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in,
                                         const torch::Tensor& g_in, const torch::Tensor& beta_in) {
    const Prepared p = prepare(q_in, k_in, v_in, g_in, beta_in);
    const int64_t b = p.k.size(0), h = p.k.size(1), t = p.k.size(2), dk = p.k.size(3), dv = p.v.size(3);
    torch::Tensor state = torch::zeros({b, h, dk, dv}, p.v.options());
    torch::Tensor out = torch::empty({b, h, t, dv}, p.v.options());
    for (int64_t i = 0; i < t; ++i) {
        const torch::Tensor k_t = p.k.select(2, i).unsqueeze(-1);                        // [B, H, dk, 1]
        state = state * p.g.select(2, i).exp().unsqueeze(-1).unsqueeze(-1);
        const torch::Tensor remembered = (state * k_t).sum(-2);                         // [B, H, dv]
        const torch::Tensor delta = (p.v.select(2, i) - remembered) * p.beta.select(2, i).unsqueeze(-1);
        state = state + k_t * delta.unsqueeze(-2);
        out.select(2, i).copy_((state * p.q.select(2, i).unsqueeze(-1)).sum(-2));
    }
    return out;
}

}  // namespace sy
