// ModelRunner: embedding -> decoder layers (all tokens of the batch through layer l before l+1,
// so weights can stream) -> final norm -> lm_head. One forward implementation for every family
// of the table; routing is reported through RoutingObserver.
#include "switchyard/compute/model_runner.h"

#include <torch/torch.h>

#include <cstring>

#include "forward/decoder_layer.h"
#include "device.h"
#include "distributed/expert_exchange.h"
#include "forward/lm_output.h"
#include "forward/token_embedding.h"
#include "switchyard/compute/parallel_job.h"
#include "switchyard/compute/rank_group.h"
#include "weights/memory_plan.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"
#include "weights/weight_schedule.h"

namespace sy {
namespace {

torch::Tensor to_host(const torch::Tensor& t, torch::ScalarType type) { return t.to(torch::kCPU).to(type).contiguous(); }

// Runs experts of the reported layer for observers (ExpertProbe), through the same ExpertSource
// and expert_output the MoE block used.
class LayerProbe final : public ExpertProbe {
public:
    LayerProbe(const ModelDescription& model, ExpertSource& experts, torch::Device device, torch::ScalarType dtype)
        : m_model(model), m_experts(experts), m_device(device), m_dtype(dtype) {}
    void run(int expert, const float* x, int64_t n, float* y) override {
        guard_torch("expert " + std::to_string(expert) + ": probe", [&] {
            const int64_t hidden = m_hidden;
            const torch::Tensor in = torch::from_blob(const_cast<float*>(x), {n, hidden}, torch::kFloat32)
                                         .to(m_device).to(m_dtype);
            const torch::Tensor out = to_host(expert_output(m_model, m_experts, expert, in), torch::kFloat32);
            m_experts.release(expert);
            std::memcpy(y, out.data_ptr<float>(), sizeof(float) * static_cast<std::size_t>(n * hidden));
        });
    }
    int64_t m_hidden = 0;

private:
    const ModelDescription& m_model;
    ExpertSource& m_experts;
    torch::Device m_device;
    torch::ScalarType m_dtype;
};

void notify(RoutingObserver& observer, const ModelDescription& model, int layer, const MoeLayerReport& report,
            torch::Device device, torch::ScalarType dtype) {
    const Routing& routing = report.routing;
    const torch::Tensor logits = to_host(routing.logits, torch::kFloat32), probs = to_host(routing.probs, torch::kFloat32),
                        selection = to_host(routing.selection, torch::kFloat32),
                        ids = to_host(routing.ids, torch::kInt64), weights = to_host(routing.weights, torch::kFloat32);
    LayerRouting view;
    view.layer = layer;
    view.moe_index = model.moe_layer_index(layer);
    view.tokens = logits.size(0);
    view.experts = logits.size(1);
    view.top_k = ids.size(1);
    view.router_logits = logits.data_ptr<float>();
    view.router_probs = probs.data_ptr<float>();
    view.selection_scores = selection.data_ptr<float>();
    view.topk_ids = ids.data_ptr<int64_t>();
    view.topk_weights = weights.data_ptr<float>();
    view.hidden_size = report.moe_input.size(1);
    torch::Tensor hidden, norms, output;
    if (observer.wants_hidden_states()) {
        hidden = to_host(report.moe_input, torch::kFloat32);
        view.hidden_states = hidden.data_ptr<float>();
    }
    if (observer.wants_expert_norms()) {
        norms = to_host(report.output.norms, torch::kFloat32);
        view.expert_norms = norms.data_ptr<float>();
    }
    if (observer.wants_moe_output()) {
        output = to_host(report.output.out, torch::kFloat32);
        view.moe_output = output.data_ptr<float>();
    }
    LayerProbe probe(model, report.experts, device, dtype);
    probe.m_hidden = view.hidden_size;
    view.probe = &probe;
    observer.on_layer_routing(view);
}

void notify_layer_input(RoutingObserver& observer, int layer, const torch::Tensor& h) {
    const torch::Tensor host = h.to(torch::kCPU).to(torch::kFloat32).contiguous();
    observer.on_layer_input(layer, host.data_ptr<float>(), host.size(0), host.size(1));
}

}  // namespace

std::vector<torch::Tensor> expert_mask_tensors(const ModelDescription& d, const ExpertMask& mask, torch::Device device) {
    std::vector<torch::Tensor> masks(static_cast<std::size_t>(d.num_layers));
    for (const auto& [layer, experts] : mask) {
        torch::Tensor m = torch::zeros({d.experts_in_layer(layer)}, torch::kBool);
        for (int e : experts) m[e] = true;
        masks[static_cast<std::size_t>(layer)] = m.to(device);
    }
    return masks;
}


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
    std::unique_ptr<ExpertSource> experts_of(int layer, const LayerWeights& weights) const;
    std::vector<float> run_moe_block(int layer, const float* x, int64_t n);
    void serve_experts();

    const Model& model;
    RunnerOptions options;
    torch::Device device;
    torch::ScalarType dtype;
    MemoryPlan plan;
    WeightLoader loader;
    WeightSchedule schedule;
    std::vector<torch::Tensor> masks;   // per layer, see ForwardContext::masks
    torch::Tensor embedding;            // [V, H] in loaded_dtype (embed_tokens)
    LmHeadWeights head;
    std::unique_ptr<ExpertExchange> exchange;   // expert parallelism over several ranks, else null
};

namespace {

// Expert parallelism: this rank loads only its experts and the MoE blocks exchange tokens.
std::unique_ptr<ExpertExchange> make_exchange(const Model& m, const RunnerOptions& o, WeightLoader& loader,
                                              torch::ScalarType dtype) {
    if (!o.expert_parallel || !o.ranks || o.ranks->size() < 2) return nullptr;
    const ModelDescription& d = m.description;
    const std::vector<std::vector<int>> placement =
        o.expert_ranks.empty() ? contiguous_expert_ranks(m, o.ranks->size()) : o.expert_ranks;
    loader.set_held_experts(held_experts(d, placement, o.ranks->rank()));
    const int64_t row_bytes = d.hidden_size * static_cast<int64_t>(c10::elementSize(dtype));
    return std::make_unique<ExpertExchange>(*o.ranks, d, placement, o.traffic, row_bytes);
}

}  // namespace

ModelRunner::Impl::Impl(const Model& m, const RunnerOptions& o)
    : model(m),
      options(o),
      device(parse_device(o.device)),
      dtype(torch_compute_dtype(o.dtype)),
      plan(plan_memory(m, o.dtype)),
      loader(m, o.dtype, device),
      schedule(loader, plan, o.max_memory_bytes) {
    check_expert_mask(m.description, o.masked_experts, "--mask-experts");
    exchange = make_exchange(m, o, loader, dtype);   // before any weight is loaded
    masks = expert_mask_tensors(m.description, o.masked_experts, device);
    loader.set_patch(o.patch.get());
    rope_frequencies(m.description);   // unsupported rope types fail here, not mid-run
    if (m.description.num_layers > 0) schedule.prefetch(0);   // overlaps the embeddings below
    embedding = loader.load(TensorRole::token_embedding);
    head.final_norm = loader.load(TensorRole::final_norm);
    head.lm_head = m.description.tie_word_embeddings ? embedding : loader.load(TensorRole::lm_head);
    head.eps = m.description.rms_norm_eps;
    for (TensorRole role : {TensorRole::token_embedding, TensorRole::final_norm}) loader.release(role);
    if (!m.description.tie_word_embeddings) loader.release(TensorRole::lm_head);
}

std::unique_ptr<ExpertSource> ModelRunner::Impl::experts_of(int layer, const LayerWeights& weights) const {
    if (schedule.experts_streamed(layer))
        return std::make_unique<StreamedExperts>(loader, layer, schedule.experts_loaded_ahead(layer));
    return std::make_unique<ResidentExperts>(weights);
}

torch::Tensor ModelRunner::Impl::run_layers(const ForwardContext& ctx, torch::Tensor h, RoutingObserver* observer,
                                            const CancelToken* cancel) {
    const int layers = model.description.num_layers;
    for (int l = 0; l < layers; ++l) {
        if (cancel) cancel->throw_if_cancelled();
        const std::string context = "layer " + std::to_string(l);
        std::shared_ptr<const LayerWeights> weights =
            guard_torch(context + ": loading weights", [&] { return schedule.acquire(l, l + 1 < layers ? l + 1 : -1); });
        std::unique_ptr<ExpertSource> experts = experts_of(l, *weights);
        if (observer && observer->wants_layer_inputs())
            guard_torch(context + ": layer input", [&] { notify_layer_input(*observer, l, h); });
        MoeLayerHooks hooks;
        if (observer) {
            hooks.want_norms = observer->wants_expert_norms();
            hooks.report = [&](const MoeLayerReport& r) { notify(*observer, model.description, l, r, device, dtype); };
        }
        h = guard_torch(context, [&] { return decoder_layer(ctx, *weights, experts.get(), h, hooks); });
        experts.reset();
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
    if (exchange && options.traffic) options.traffic->tokens += layout.tokens;
    if (layout.tokens == 0) {
        if (exchange) serve_experts();
        return out;
    }
    const RopeTables rope = guard_torch("rotary tables", [&] {
        return rope_tables(rope_frequencies(model.description, layout.longest), layout.positions, dtype);
    });
    const ForwardContext ctx{model.description, dtype, layout, rope, &masks, exchange.get()};
    torch::Tensor h = guard_torch("token embedding", [&] { return embed_tokens(embedding, layout.token_ids, dtype); });
    h = run_layers(ctx, h, observer, cancel);
    if (cancel) cancel->throw_if_cancelled();
    guard_torch("lm_head", [&] { lm_output(head, h, layout, want_logits, out); });
    return out;
}

// A rank without tokens this round still takes part in every MoE layer's exchange: the others
// send it tokens for its experts.
void ModelRunner::Impl::serve_experts() {
    const ModelDescription& d = model.description;
    for (int l = 0; l < d.num_layers; ++l) {
        if (!d.is_moe_layer(l)) continue;
        const std::string context = "layer " + std::to_string(l) + ": serving experts";
        std::shared_ptr<const LayerWeights> weights = guard_torch(context, [&] { return schedule.acquire(l, -1); });
        std::unique_ptr<ExpertSource> experts = experts_of(l, *weights);
        guard_torch(context, [&] {
            const torch::Tensor none = torch::empty({0, d.hidden_size}, torch::TensorOptions().dtype(dtype).device(device));
            exchange->run(l, none, std::vector<int64_t>(static_cast<std::size_t>(d.experts_in_layer(l)), 0), *experts,
                          torch::Tensor());
        });
        experts.reset();
        weights.reset();
        schedule.finish(l);
    }
}

std::vector<float> ModelRunner::Impl::run_moe_block(int layer, const float* x, int64_t n) {
    SY_CHECK(model.description.is_moe_layer(layer), UsageError,
             "layer " + std::to_string(layer) + " is not a MoE layer");
    torch::NoGradGuard no_grad;
    const std::string context = "layer " + std::to_string(layer) + ": MoE block";
    std::shared_ptr<const LayerWeights> weights = guard_torch(context, [&] { return schedule.acquire(layer, -1); });
    std::unique_ptr<ExpertSource> experts = experts_of(layer, *weights);
    std::vector<float> result(static_cast<std::size_t>(n * model.description.hidden_size));
    guard_torch(context, [&] {
        const torch::Tensor in = torch::from_blob(const_cast<float*>(x), {n, model.description.hidden_size},
                                                  torch::kFloat32).to(device).to(dtype);
        const torch::Tensor mask = layer < static_cast<int>(masks.size()) ? masks[static_cast<std::size_t>(layer)] : torch::Tensor();
        const Routing routing = route(model.description, *weights, in, mask);
        const torch::Tensor out = to_host(moe_block(model.description, *weights, in, routing, *experts).out, torch::kFloat32);
        std::memcpy(result.data(), out.data_ptr<float>(), sizeof(float) * result.size());
    });
    experts.reset();
    weights.reset();
    schedule.finish(layer);
    return result;
}

ModelRunner::ModelRunner(const Model& model, const RunnerOptions& options)
    : m_impl(guard_torch("loading the model", [&] { return std::make_unique<Impl>(model, options); })) {}

ModelRunner::~ModelRunner() = default;

BatchOutput ModelRunner::run(const Batch& batch, RoutingObserver* observer, bool want_logits,
                             const CancelToken* cancel) {
    return m_impl->run(batch, observer, want_logits, cancel);
}

std::vector<float> ModelRunner::run_moe_block(int layer, const float* x, int64_t n) {
    return m_impl->run_moe_block(layer, x, n);
}

MemoryPlan ModelRunner::plan() const { return m_impl->plan; }

const RunnerOptions& ModelRunner::options() const { return m_impl->options; }

}  // namespace sy
