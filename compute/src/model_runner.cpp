// ModelRunner: embedding -> decoder layers (all tokens of the batch through layer l before l+1,
// so weights can stream under a memory bound) -> final norm -> lm_head. One forward implementation
// for every family of the table; routing is reported through RoutingObserver.
#include "switchyard/compute/model_runner.h"

#include <torch/torch.h>

#include "decoder_layer.h"
#include "device.h"
#include "lm_output.h"
#include "memory_plan.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"
#include "weight_schedule.h"

namespace sy {
namespace {

struct HostRouting {
    torch::Tensor logits, selection, ids, weights, hidden;   // CPU, contiguous
};

HostRouting to_host(const Routing& routing, const torch::Tensor& moe_input, bool with_hidden) {
    auto host = [](const torch::Tensor& t, torch::ScalarType type) { return t.to(torch::kCPU).to(type).contiguous(); };
    HostRouting out{host(routing.logits, torch::kFloat32), host(routing.selection, torch::kFloat32),
                    host(routing.ids, torch::kInt64), host(routing.weights, torch::kFloat32), {}};
    if (with_hidden) out.hidden = host(moe_input, torch::kFloat32);
    return out;
}

void notify(RoutingObserver& observer, const ModelDescription& model, int layer, const Routing& routing,
            const torch::Tensor& moe_input) {
    const HostRouting host = to_host(routing, moe_input, observer.wants_hidden_states());
    LayerRouting view;
    view.layer = layer;
    view.moe_index = model.moe_layer_index(layer);
    view.tokens = host.logits.size(0);
    view.experts = host.logits.size(1);
    view.top_k = host.ids.size(1);
    view.router_logits = host.logits.data_ptr<float>();
    view.selection_scores = host.selection.data_ptr<float>();
    view.topk_ids = host.ids.data_ptr<int64_t>();
    view.topk_weights = host.weights.data_ptr<float>();
    if (host.hidden.defined()) {
        view.hidden_states = host.hidden.data_ptr<float>();
        view.hidden_size = host.hidden.size(1);
    }
    observer.on_layer_routing(view);
}

void notify_layer_input(RoutingObserver& observer, int layer, const torch::Tensor& h) {
    const torch::Tensor host = h.to(torch::kCPU).to(torch::kFloat32).contiguous();
    observer.on_layer_input(layer, host.data_ptr<float>(), host.size(0), host.size(1));
}

}  // namespace

int64_t Batch::token_count() const {
    int64_t count = 0;
    for (const auto& sequence : sequences) count += static_cast<int64_t>(sequence.size());
    return count;
}

struct ModelRunner::Impl {
    Impl(const Model& model, const RunnerOptions& options);
    BatchOutput run(const Batch& batch, RoutingObserver* observer, bool want_logits, const CancelToken* cancel);
    torch::Tensor run_layers(const ForwardContext& ctx, torch::Tensor h, RoutingObserver* observer,
                             const CancelToken* cancel);

    const Model& model;
    RunnerOptions options;
    torch::Device device;
    torch::ScalarType dtype;
    MemoryPlan plan;
    WeightLoader loader;
    WeightSchedule schedule;
    torch::Tensor embedding;   // [V, H]
    LmHeadWeights head;
};

ModelRunner::Impl::Impl(const Model& m, const RunnerOptions& o)
    : model(m),
      options(o),
      device(parse_device(o.device)),
      dtype(torch_compute_dtype(o.dtype)),
      plan(plan_memory(m, o.dtype)),
      loader(m, o.dtype, device),
      schedule(loader, plan, o.max_memory_bytes) {
    rope_frequencies(m.description);   // unsupported rope types fail here, not mid-run
    embedding = loader.load(TensorRole::token_embedding);
    head.final_norm = loader.load(TensorRole::final_norm);
    head.lm_head = m.description.tie_word_embeddings ? embedding : loader.load(TensorRole::lm_head);
    head.eps = m.description.rms_norm_eps;
    for (TensorRole role : {TensorRole::token_embedding, TensorRole::final_norm}) loader.release(role);
    if (!m.description.tie_word_embeddings) loader.release(TensorRole::lm_head);
}

torch::Tensor ModelRunner::Impl::run_layers(const ForwardContext& ctx, torch::Tensor h, RoutingObserver* observer,
                                            const CancelToken* cancel) {
    const int layers = model.description.num_layers;
    for (int l = 0; l < layers; ++l) {
        if (cancel) cancel->throw_if_cancelled();
        const std::string context = "layer " + std::to_string(l);
        std::shared_ptr<const LayerWeights> weights =
            guard_torch(context + ": loading weights", [&] { return schedule.acquire(l, l + 1 < layers ? l + 1 : -1); });
        std::unique_ptr<ExpertSource> experts;
        if (schedule.experts_streamed(l)) experts = std::make_unique<StreamedExperts>(loader, l);
        else experts = std::make_unique<ResidentExperts>(*weights);
        if (observer && observer->wants_layer_inputs())
            guard_torch(context + ": layer input", [&] { notify_layer_input(*observer, l, h); });
        RoutingCallback on_routing;
        if (observer)
            on_routing = [&](const Routing& r, const torch::Tensor& x) { notify(*observer, model.description, l, r, x); };
        h = guard_torch(context, [&] { return decoder_layer(ctx, *weights, experts.get(), h, on_routing); });
        weights.reset();
        schedule.finish(l);
    }
    return h;
}

BatchOutput ModelRunner::Impl::run(const Batch& batch, RoutingObserver* observer, bool want_logits,
                                   const CancelToken* cancel) {
    torch::NoGradGuard no_grad;
    schedule.reset();
    const BatchLayout layout = guard_torch("batch layout", [&] {
        return make_batch_layout(batch, model.description.vocab_size, device);
    });
    BatchOutput out;
    out.vocab_size = model.description.vocab_size;
    if (layout.tokens == 0) return out;
    const RopeTables rope = guard_torch("rotary tables", [&] {
        return rope_tables(rope_frequencies(model.description, layout.longest), layout.positions, dtype);
    });
    const ForwardContext ctx{model.description, dtype, layout, rope};
    torch::Tensor h = guard_torch("token embedding", [&] { return embedding.index_select(0, layout.token_ids); });
    h = run_layers(ctx, h, observer, cancel);
    if (cancel) cancel->throw_if_cancelled();
    guard_torch("lm_head", [&] { lm_output(head, h, layout, want_logits, out); });
    return out;
}

ModelRunner::ModelRunner(const Model& model, const RunnerOptions& options)
    : m_impl(guard_torch("loading the model", [&] { return std::make_unique<Impl>(model, options); })) {}

ModelRunner::~ModelRunner() = default;

BatchOutput ModelRunner::run(const Batch& batch, RoutingObserver* observer, bool want_logits,
                             const CancelToken* cancel) {
    return m_impl->run(batch, observer, want_logits, cancel);
}

MemoryPlan ModelRunner::plan() const { return m_impl->plan; }

const RunnerOptions& ModelRunner::options() const { return m_impl->options; }

}  // namespace sy
