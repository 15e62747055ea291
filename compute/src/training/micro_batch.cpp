// Forward and backward of one micro-batch (micro_batch.h). Activation checkpointing per decoder
// layer is written out here (LibTorch has no torch.utils.checkpoint): the forward keeps each
// trained layer's input only; backward walks the layers top-down, re-runs one layer with
// autograd from its saved input, and backpropagates the gradient of its output (plus that
// layer's routing terms) to its input. Memory: the layer inputs [N, H] of the trained layers,
// plus one layer's autograd graph at a time (docs/training.md "Memory").
#include "training/micro_batch.h"

#include <torch/torch.h>

#include <algorithm>

#include "forward/decoder_layer.h"
#include "forward/forward_context.h"
#include "forward/rms_norm.h"
#include "forward/rope.h"
#include "forward/token_embedding.h"
#include "torch_errors.h"

namespace sy {
namespace {

// Where the routing of a pass goes: the terms' values (detached doubles, for the log) and/or
// their weighted sum with autograd (for backward), and the experts' slot counts (`load`, set in
// the forward pass only, so a checkpointed layer's re-run does not count twice).
struct TermSink {
    const ModelDescription* model = nullptr;
    const RoutingObjective* objective = nullptr;
    std::vector<double>* values = nullptr;
    torch::Tensor* weighted = nullptr;
    std::vector<torch::Tensor>* load = nullptr;
    // Per model layer: the load-balancing term's f_e, set by the forward pass (with the ranks'
    // all-reduce) and reused by a checkpointed layer's re-run.
    std::vector<torch::Tensor>* slot_shares = nullptr;

    bool active() const { return load || (objective && !objective->terms.empty() && (values || weighted)); }
    void add(int layer, const Routing& routing) const {
        const std::size_t l = static_cast<std::size_t>(layer);
        const bool balance = objective && objective->has(RoutingLoss::Kind::load_balance);
        const bool new_shares = balance && !(*slot_shares)[l].defined();
        const torch::Tensor counts = load || new_shares ? expert_slot_counts(routing) : torch::Tensor();
        if (load) (*load)[l] = (*load)[l].defined() ? (*load)[l] + counts : counts;
        if (new_shares) (*slot_shares)[l] = balance_slot_shares(counts, routing.ids.numel(), objective->reducer);
        if (!objective) return;
        const torch::Tensor shares = balance ? (*slot_shares)[l] : torch::Tensor();
        for (std::size_t i = 0; i < objective->terms.size(); ++i) {
            const RoutingLoss& term = objective->terms[i];
            if (term.kind == RoutingLoss::Kind::anchor && term.layer != layer) continue;
            const torch::Tensor value =
                routing_term(*model, term, routing, objective->token_normaliser, objective->token_share, shares);
            if (values) (*values)[i] += value.detach().to(torch::kFloat64).item<double>();
            if (weighted && value.requires_grad())
                *weighted = weighted->defined() ? *weighted + term.weight * value : term.weight * value;
        }
    }
};

torch::Tensor run_layer(TrainableModel& model, const ForwardContext& ctx, int l, const torch::Tensor& h,
                        bool differentiable, const TermSink& sink) {
    const std::string context = "layer " + std::to_string(l);
    return guard_torch(context, [&] {
        const LayerWeights w = model.layer(l, differentiable);
        ResidentExperts experts(w);
        MoeLayerHooks hooks;
        if (sink.active()) hooks.report = [&](const MoeLayerReport& r) { sink.add(l, r.routing); };
        return decoder_layer(ctx, w, &experts, h, hooks);
    });
}

// backward() of the tensors that carry gradients (an expert no token chose this micro-batch
// leaves its layer's output without any).
void backward_defined(const std::vector<torch::Tensor>& outputs, const std::vector<torch::Tensor>& grads) {
    std::vector<torch::Tensor> o, g;
    for (std::size_t i = 0; i < outputs.size(); ++i)
        if (outputs[i].defined() && outputs[i].requires_grad()) o.push_back(outputs[i]), g.push_back(grads[i]);
    if (!o.empty()) torch::autograd::backward(o, g);
}

struct Prepared {
    BatchLayout layout;
    RopeTables rope;
};

Prepared prepare(TrainableModel& model, const Batch& batch) {
    return guard_torch("batch layout", [&] {
        Prepared p;
        p.layout = make_batch_layout(batch, model.description().vocab_size, model.device());
        p.rope = rope_tables(rope_frequencies(model.description(), p.layout.longest), p.layout.positions, model.dtype());
        return p;
    });
}

// The LM head on the final hidden states, differentiated chunk by chunk; returns d loss / d h.
torch::Tensor head_backward(TrainableModel& model, const torch::Tensor& h, const BatchLayout& layout,
                            const TokenObjective& token, double& value) {
    const LmHeadWeights& head = model.head();
    const torch::Tensor hd = h.detach().requires_grad_(true);
    const int64_t n = layout.tokens, chunk = logits_chunk_rows(head.lm_head.size(0));
    TokenWeights weights;
    if (token.loss == TokenLoss::npo) {   // weights depend on every window's whole NLL: one pass first
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> parts;
        for (int64_t first = 0; first < n; first += chunk) {
            const int64_t rows = std::min(chunk, n - first);
            parts.push_back(token_nll(lm_logits(head, rms_norm(hd.narrow(0, first, rows), head.final_norm, head.eps)),
                                      layout.targets.narrow(0, first, rows)));
        }
        weights = token_weights(token, layout, torch::cat(parts));
        value = weights.value;
    } else {
        weights = token_weights(token, layout, {});
        value = 0;
    }
    for (int64_t first = 0; first < n; first += chunk) {
        const int64_t rows = std::min(chunk, n - first);
        const torch::Tensor normed = rms_norm(hd.narrow(0, first, rows), head.final_norm, head.eps);
        const torch::Tensor nll = token_nll(lm_logits(head, normed), layout.targets.narrow(0, first, rows));
        (nll * weights.weights.narrow(0, first, rows)).sum().backward();
        if (token.loss != TokenLoss::npo) value += cross_entropy_value(token, nll, layout.has_target.narrow(0, first, rows));
    }
    return hd.grad();
}

}  // namespace

bool RoutingObjective::has(RoutingLoss::Kind kind) const {
    return std::any_of(terms.begin(), terms.end(), [&](const RoutingLoss& t) { return t.kind == kind; });
}

MicroBatchResult train_micro_batch(TrainableModel& model, const Batch& batch, const TokenObjective& token,
                                   const RoutingObjective& routing, bool checkpointing, const CancelToken& cancel) {
    const ModelDescription& d = model.description();
    const Prepared p = prepare(model, batch);
    const ForwardContext ctx{d, model.dtype(), p.layout, p.rope, &model.masks()};
    MicroBatchResult result;
    result.tokens = p.layout.tokens;
    result.routing_values.assign(routing.terms.size(), 0.0);
    result.expert_load.resize(static_cast<std::size_t>(d.num_layers));
    const int first = model.first_trained_layer(), layers = d.num_layers;
    std::vector<torch::Tensor> slot_shares(static_cast<std::size_t>(d.num_layers));
    const TermSink record{&d, &routing, &result.routing_values, nullptr, &result.expert_load, &slot_shares};
    torch::Tensor h;
    {
        torch::NoGradGuard no_grad;
        h = guard_torch("token embedding", [&] { return embed_tokens(model.embedding(), p.layout.token_ids, model.dtype()); });
        for (int l = 0; l < first; ++l) {
            cancel.throw_if_cancelled();
            h = run_layer(model, ctx, l, h, false, record);
        }
    }
    std::vector<torch::Tensor> inputs;   // checkpointing: input of each trained layer
    torch::Tensor aux;                   // no checkpointing: weighted routing terms with autograd
    for (int l = first; l < layers; ++l) {
        cancel.throw_if_cancelled();
        if (checkpointing) {
            torch::NoGradGuard no_grad;
            inputs.push_back(h);
            h = run_layer(model, ctx, l, h, true, record);
        } else {
            h = run_layer(model, ctx, l, h, true, TermSink{&d, &routing, &result.routing_values, &aux, &result.expert_load, &slot_shares});
        }
    }
    cancel.throw_if_cancelled();
    torch::Tensor grad = guard_torch("lm_head", [&] { return head_backward(model, h, p.layout, token, result.token_value); });
    if (!checkpointing) {
        guard_torch("backward", [&] {
            backward_defined({h, aux}, {grad, aux.defined() ? torch::ones_like(aux) : torch::Tensor()});
        });
        return result;
    }
    for (int l = layers - 1; l >= first; --l) {
        cancel.throw_if_cancelled();
        const torch::Tensor x = inputs[static_cast<std::size_t>(l - first)].detach().requires_grad_(l > first);
        torch::Tensor layer_aux;
        const torch::Tensor y = run_layer(model, ctx, l, x, true, TermSink{&d, &routing, nullptr, &layer_aux, nullptr, &slot_shares});
        guard_torch("layer " + std::to_string(l) + ": backward", [&] {
            backward_defined({y, layer_aux}, {grad, layer_aux.defined() ? torch::ones_like(layer_aux) : torch::Tensor()});
        });
        if (l > first) grad = x.grad().defined() ? x.grad() : torch::zeros_like(x);
        inputs[static_cast<std::size_t>(l - first)] = torch::Tensor();   // freed as backward passes it
    }
    return result;
}

std::vector<float> forward_nll(TrainableModel& model, const Batch& batch,
                               const std::function<void(int, const Routing&)>& on_routing, const CancelToken& cancel) {
    torch::NoGradGuard no_grad;
    const ModelDescription& d = model.description();
    const Prepared p = prepare(model, batch);
    const ForwardContext ctx{d, model.dtype(), p.layout, p.rope, &model.masks()};
    torch::Tensor h = guard_torch("token embedding", [&] { return embed_tokens(model.embedding(), p.layout.token_ids, model.dtype()); });
    for (int l = 0; l < d.num_layers; ++l) {
        cancel.throw_if_cancelled();
        const std::string context = "layer " + std::to_string(l);
        h = guard_torch(context, [&] {
            const LayerWeights w = model.layer(l, false);
            ResidentExperts experts(w);
            MoeLayerHooks hooks;
            if (on_routing) hooks.report = [&](const MoeLayerReport& r) { on_routing(l, r.routing); };
            return decoder_layer(ctx, w, &experts, h, hooks);
        });
    }
    BatchOutput out;
    guard_torch("lm_head", [&] { lm_output(model.head(), h, p.layout, false, out); });
    return out.nll;
}

}  // namespace sy
