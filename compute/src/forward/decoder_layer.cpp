#include "forward/decoder_layer.h"

#include <torch/torch.h>

#include "forward/attention.h"
#include "forward/mlp.h"
#include "forward/rms_norm.h"

namespace sy {

using Role = TensorRole;

torch::Tensor decoder_layer(const ForwardContext& ctx, const LayerWeights& w, ExpertSource* experts,
                            const torch::Tensor& h, const MoeLayerHooks& hooks) {
    const double eps = ctx.model.rms_norm_eps;
    const torch::Tensor attended = h + attention(ctx, w, rms_norm(h, w.at(Role::attn_norm), eps));
    const torch::Tensor x = rms_norm(attended, w.at(Role::ffn_norm), eps);
    if (!ctx.model.is_moe_layer(w.layer))
        return attended + silu_mlp(x, w.at(Role::ffn_gate), w.at(Role::ffn_up), w.at(Role::ffn_down));
    const Routing routing = route(ctx.model, w, x, ctx.expert_mask(w.layer));
    const MoeOutput moe = moe_block(ctx.model, w, x, routing, *experts, hooks.want_norms);
    if (hooks.report) hooks.report(MoeLayerReport{routing, x, moe, *experts});
    return attended + moe.out;
}

}  // namespace sy
