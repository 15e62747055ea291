// `trace --plan`: bytes per layer (as read from disk and as held in memory), the smallest workable --max-memory and an
// estimated time, before any compute of the model. The time estimate is deliberately simple:
// FLOPs per token over this device's measured matmul throughput, plus re-reading every layer's
// weights once per batch when --max-memory is below the total weight bytes.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "jobs/corpus_job.h"
#include "device.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"
#include "weights/weight_loader.h"

namespace sy {
namespace {

constexpr double k_assumed_read_bytes_per_second = 1e9;
constexpr uint64_t k_sample_bytes = 1 << 20;   // data read to estimate tokens per byte

// GFLOP/s of a square matmul on the run's device and dtype, measured for ~0.3 s.
double measure_gflops(const RunnerOptions& runner) {
    return guard_torch("measuring matmul throughput", [&] {
        const torch::Device device = parse_device(runner.device);
        const auto dtype = runner.dtype == ComputeDType::bf16 ? torch::kBFloat16 : torch::kFloat32;
        const int64_t n = device.is_cuda() ? 4096 : 512;
        const auto options = torch::TensorOptions().device(device).dtype(dtype);
        const torch::Tensor a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
        torch::Tensor c = torch::matmul(a, b);   // warm-up (thread pool, cuBLAS handles)
        if (device.is_cuda()) torch::cuda::synchronize();
        const auto start = std::chrono::steady_clock::now();
        int runs = 0;
        double seconds = 0;
        do {
            c = torch::matmul(a, b);
            if (device.is_cuda()) torch::cuda::synchronize();
            ++runs;
            seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        } while (seconds < 0.3);
        return 2.0 * double(n) * n * n * runs / seconds / 1e9;
    });
}

// Tokens of the whole run: --max-tokens when the data has that many, else extrapolated from
// tokenizing the first ~1 MB (no model compute).
int64_t estimate_tokens(const Model& model, const CorpusOptions& corpus, bool& estimated) {
    PreparedCorpus prepared = prepare_corpus(model, corpus);
    DatasetReader reader(prepared.options, prepared.tokenizer ? &*prepared.tokenizer : nullptr);
    DatasetBatch batch;
    while (reader.fraction_read() * double(reader.total_bytes()) < double(k_sample_bytes) && reader.next(batch)) {
    }
    const bool capped = corpus.max_tokens > 0 && reader.tokens_emitted() >= corpus.max_tokens;
    estimated = !capped && reader.fraction_read() < 1.0;
    if (!estimated) {   // everything was read (or the cap reached): count exactly
        while (reader.next(batch)) {
        }
        return reader.tokens_emitted();
    }
    const double per_byte = double(reader.tokens_emitted()) / (reader.fraction_read() * double(reader.total_bytes()));
    const auto total = static_cast<int64_t>(per_byte * double(reader.total_bytes()));
    return corpus.max_tokens > 0 ? std::min(total, corpus.max_tokens) : total;
}

double flops_per_token(const Model& model, int64_t seq_len) {
    const ModelDescription& d = model.description;
    const double attention = 4.0 * d.num_layers * (double(seq_len) / 2) * double(d.num_heads * d.head_dim);
    return 2.0 * double(count_params(d).active) + attention;
}

}  // namespace

TracePlan plan_trace(const Model& model, const TraceOptions& options) {
    TracePlan plan;
    plan.memory = plan_memory(model, options.runner.dtype);
    plan.tokens = estimate_tokens(model, options.corpus, plan.tokens_estimated);
    plan.flops_per_token = flops_per_token(model, options.corpus.seq_len);
    plan.device_gflops = measure_gflops(options.runner);
    plan.seconds_compute = double(plan.tokens) * plan.flops_per_token / (plan.device_gflops * 1e9);
    const uint64_t bound = options.runner.max_memory_bytes;
    plan.streams_weights = bound > 0 && bound < plan.memory.total_weight_bytes;
    plan.bytes_read = plan.memory.total_file_bytes;   // every weight loaded once
    if (plan.streams_weights) {
        // The disk sees checkpoint bytes (an FP8 layer is a quarter of its f32 copy), not the
        // converted bytes the memory bound is about.
        const int64_t batch_tokens = options.corpus.batch_tokens > 0 ? options.corpus.batch_tokens
                                                                     : default_batch_tokens(options.corpus.seq_len);
        const double batches = std::max(1.0, std::ceil(double(plan.tokens) / double(batch_tokens)));
        const double streamed = double(plan.memory.total_file_bytes - plan.memory.resident_file_bytes);
        plan.bytes_read = plan.memory.resident_file_bytes + static_cast<uint64_t>(batches * streamed);
        plan.seconds_streaming = batches * streamed / k_assumed_read_bytes_per_second;
    }
    return plan;
}

std::string format_trace_plan(const Model& model, const TraceOptions& options, const TracePlan& plan) {
    const ModelDescription& d = model.description;
    std::ostringstream out;
    out << "model: " << model.checkpoint.dir().string() << " (" << d.model_type << ", " << d.num_layers << " layers, "
        << d.moe_layers.size() << " MoE)\n";
    out << "compute: " << compute_dtype_name(options.runner.dtype) << " on " << options.runner.device << "\n";
    const std::string in_memory = "in memory as " + compute_dtype_name(options.runner.dtype);
    out << "weights per layer (on disk -> " << in_memory << "):\n";
    for (std::size_t l = 0; l < plan.memory.layer_bytes.size(); ++l) {
        out << "  layer " << l << ": " << format_bytes(plan.memory.layer_file_bytes[l]) << " -> "
            << format_bytes(plan.memory.layer_bytes[l]);
        if (l < plan.memory.largest_expert_bytes.size() && plan.memory.largest_expert_bytes[l] > 0)
            out << " (largest expert " << format_bytes(plan.memory.largest_expert_bytes[l]) << ")";
        out << "\n";
    }
    out << "resident (embeddings, final norm, lm_head): " << format_bytes(plan.memory.resident_file_bytes)
        << " on disk, " << format_bytes(plan.memory.resident_bytes) << " " << in_memory;
    const torch::ScalarType embedding = loaded_dtype(model, TensorRole::token_embedding, options.runner.dtype);
    if (embedding != torch_compute_dtype(options.runner.dtype))
        out << " (the token embedding as stored, " << (embedding == torch::kBFloat16 ? "bf16" : "f16") << ": a row lookup)";
    out << "\n";
    out << "all weights: " << format_bytes(plan.memory.total_file_bytes) << " on disk, "
        << format_bytes(plan.memory.total_weight_bytes) << " " << in_memory << "\n";
    out << "smallest workable --max-memory: " << format_bytes(plan.memory.min_max_memory_bytes) << " ("
        << plan.memory.min_max_memory_bytes << " bytes; activations come on top)\n";
    out << "tokens: " << (plan.tokens_estimated ? "about " : "") << format_count(plan.tokens)
        << (plan.tokens_estimated ? " (extrapolated from the first 1 MB of the data)" : "") << "\n";
    char work[160];
    std::snprintf(work, sizeof work, "work: %.3g GFLOP per token; %s matmul %.0f GFLOP/s (measured now)\n",
                  plan.flops_per_token / 1e9, options.runner.device.c_str(), plan.device_gflops);
    out << work;
    const uint64_t bound = options.runner.max_memory_bytes;
    if (bound > 0 && bound < plan.memory.min_max_memory_bytes)
        out << "--max-memory " << format_bytes(bound)
            << " is below the smallest workable bound: a run would be refused\n";
    // FLOPs at full matmul speed: small models (and small batches) spend most time elsewhere.
    out << "read from disk: " << format_bytes(plan.bytes_read)
        << (plan.streams_weights ? " (the streamed layers once per batch)" : " (every weight once)") << "\n";
    out << "estimated time (compute-bound lower bound): "
        << format_duration(plan.seconds_compute + plan.seconds_streaming);
    if (plan.streams_weights)
        out << " (" << format_duration(plan.seconds_compute) << " compute + " << format_duration(plan.seconds_streaming)
            << " re-reading weights per batch at an assumed 1 GB/s)";
    out << "\n";
    return out.str();
}

}  // namespace sy
