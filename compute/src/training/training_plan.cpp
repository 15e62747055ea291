// plan_training (`--plan`): the memory a run needs, from config and headers only, checked
// against the budget before any weight is loaded. The activation estimate counts what autograd
// keeps per token of a trained decoder layer (docs/training.md "Memory" derives it and compares
// it with measured peaks): norm, attention and expert activations in the compute dtype, the
// softmax'd attention scores in f32, the router in f64 (router.cpp computes logits in f64).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "device.h"
#include "jobs/corpus_job.h"
#include "switchyard/compute/training.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "training/parameters.h"
#ifdef SWITCHYARD_WITH_CUDA
#include "cuda/cuda_memory.h"
#endif

namespace sy {
namespace {

// /proc/meminfo MemAvailable: what the kernel can hand out without swapping.
uint64_t host_available_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t value = 0;
    std::string unit;
    while (in >> key >> value >> unit)
        if (key == "MemAvailable:") return value * 1024;
    return 0;
}

uint64_t device_budget(const RunnerOptions& runner) {
    if (runner.max_memory_bytes > 0) return runner.max_memory_bytes;
    const torch::Device device = parse_device(runner.device);
    if (device.is_cpu()) return host_available_bytes();
#ifdef SWITCHYARD_WITH_CUDA
    unsigned long long free_bytes = 0, total_bytes = 0;
    if (cuda::device_memory(device.index() < 0 ? 0 : device.index(), free_bytes, total_bytes)) return free_bytes;
#endif
    return 0;
}

int64_t micro_tokens(const TrainingOptions& o) {
    int64_t most = 0;
    for (const TrainingStream& s : o.streams)
        most = std::max(most, (s.tokens_per_step + o.accumulation - 1) / std::max<int64_t>(o.accumulation, 1));
    return most;
}

int64_t longest_window(const TrainingOptions& o) {
    int64_t most = 1;
    for (const TrainingStream& s : o.streams) most = std::max(most, s.corpus.seq_len);
    return most;
}

// Bytes autograd keeps per token of one trained decoder layer.
uint64_t activation_bytes_per_token(const ModelDescription& d, int layer, int64_t window, double e) {
    const double h = double(d.hidden_size), f32 = 4.0;
    double q = double(d.num_heads * d.head_dim);
    if (d.mla) q = double(d.num_heads * (d.mla->qk_nope_head_dim + d.mla->qk_rope_head_dim + d.mla->v_head_dim));
    const double norms = 2 * (2 * h * f32 + h * e);
    // q/k/v projections, k/v repeated per query head, per-sequence gathers, output; scores
    // softmax'd in f32 and cast back (causal_attention.cpp), over the window's keys.
    const double attention = e * (h + 9 * q) + double(d.num_heads) * double(window) * (f32 + e);
    double ffn = 0;
    if (d.is_moe_layer(layer)) {
        const double k = double(d.top_k), inter = double(d.expert_intermediate_size);
        ffn = 8 * h + 16 * double(d.experts_in_layer(layer));   // router input and logits in f64
        ffn += k * (h * e + 4 * inter * e + h * f32);           // gathered x, gate, up, product, f32 output
        if (d.shared_expert_count > 0) ffn += h * e + 4 * double(d.shared_expert_intermediate_size) * e;
    } else {
        ffn = h * e + 4 * double(d.dense_intermediate_size) * e;
    }
    return static_cast<uint64_t>(norms + attention + ffn);
}

std::string gib(uint64_t bytes) { return format_bytes(bytes); }

}  // namespace

TrainingPlan plan_training(const Model& model, const TrainingOptions& o) {
    const ModelDescription& d = model.description;
    check_parameters(model, o.parameters);
    TrainingPlan plan;
    plan.frozen_weight_bytes = plan_memory(model, o.runner.dtype).total_weight_bytes;
    plan.trained_parameters = parameter_count(model, o.parameters);
    const uint64_t per_parameter = 16 + (o.runner.dtype == ComputeDType::bf16 ? 2 : 0);   // master, grad, 2 moments (+ cast)
    plan.trained_state_bytes = static_cast<uint64_t>(plan.trained_parameters) * per_parameter;
    plan.micro_batch_tokens = micro_tokens(o);
    plan.first_trained_layer = d.num_layers;
    for (const ParameterRef& ref : o.parameters) plan.first_trained_layer = std::min<int64_t>(plan.first_trained_layer, ref.layer);
    const double e = o.runner.dtype == ComputeDType::bf16 ? 2.0 : 4.0;
    const int64_t window = longest_window(o);
    uint64_t full = 0, largest = 0, inputs = 0;
    for (int l = static_cast<int>(plan.first_trained_layer); l < d.num_layers; ++l) {
        const uint64_t layer = activation_bytes_per_token(d, l, window, e) * static_cast<uint64_t>(plan.micro_batch_tokens);
        full += layer;
        largest = std::max(largest, layer);
        inputs += static_cast<uint64_t>(double(d.hidden_size) * e) * static_cast<uint64_t>(plan.micro_batch_tokens);
    }
    // The LM head's chunk: logits, the softmax of the NLL's backward and their gradient in f32
    // (lm_output.cpp chunks).
    const int64_t head_rows = std::min<int64_t>(plan.micro_batch_tokens, std::max<int64_t>(1, (int64_t(256) << 20) / (d.vocab_size * 4)));
    const uint64_t head = static_cast<uint64_t>(head_rows) * static_cast<uint64_t>(d.vocab_size) * 12;
    plan.activation_bytes_full = full + head;
    plan.activation_bytes_checkpointed = inputs + largest + head;
    plan.budget_bytes = device_budget(o.runner);
    const uint64_t fixed = plan.frozen_weight_bytes + plan.trained_state_bytes;
    const auto fits = [&](uint64_t activations) { return plan.budget_bytes == 0 || fixed + activations <= plan.budget_bytes; };
    switch (o.checkpointing) {
    case ActivationCheckpointing::on: plan.checkpointing = true; break;
    case ActivationCheckpointing::off: plan.checkpointing = false; break;
    case ActivationCheckpointing::automatic: plan.checkpointing = !fits(plan.activation_bytes_full); break;
    }
    plan.total_bytes = fixed + (plan.checkpointing ? plan.activation_bytes_checkpointed : plan.activation_bytes_full);
    plan.fits = fits(plan.total_bytes - fixed);
    return plan;
}

std::string format_training_plan(const Model& model, const TrainingOptions& o, const TrainingPlan& p) {
    std::ostringstream out;
    const ModelDescription& d = model.description;
    out << "model            " << d.model_type << ", " << d.num_layers << " layers, hidden " << d.hidden_size << "\n";
    out << "device           " << o.runner.device << ", " << compute_dtype_name(o.runner.dtype)
        << (o.runner.dtype == ComputeDType::bf16 ? " compute, f32 master weights" : "") << "\n";
    out << "trained tensors  " << o.parameters.size() << " (" << format_count(p.trained_parameters) << " parameters); layers below "
        << p.first_trained_layer << " run without autograd\n";
    out << "frozen weights   " << gib(p.frozen_weight_bytes) << "\n";
    out << "trained state    " << gib(p.trained_state_bytes) << " (f32 master, gradient, two AdamW moments"
        << (o.runner.dtype == ComputeDType::bf16 ? ", bf16 copy" : "") << ")\n";
    out << "activations      " << gib(p.activation_bytes_full) << " without checkpointing, "
        << gib(p.activation_bytes_checkpointed) << " with per-layer checkpointing (micro-batch of "
        << format_count(p.micro_batch_tokens) << " tokens)\n";
    out << "checkpointing    " << (p.checkpointing ? "on" : "off") << "\n";
    out << "peak estimate    " << gib(p.total_bytes) << "\n";
    out << "budget           " << (p.budget_bytes ? gib(p.budget_bytes) : std::string("unknown (give --max-memory)"))
        << (o.runner.max_memory_bytes ? " (--max-memory)" : " (available now)") << "\n";
    out << "fits             " << (p.fits ? "yes" : "no") << "\n";
    return out.str();
}

}  // namespace sy
