// switchyard-torch bench-matmul --shape NAME:M,K,N... [--dtype f32|bf16]... [--device cpu] [--seconds S]
// The machine's GEMM GFLOP/s for the model's shapes, measured with the forward pass's own call
// (bench/trace_bench.sh divides the trace's achieved GFLOP/s by it). Prints one tab-separated
// row per shape and dtype.
// switchyard-torch bench-load MODEL_DIR [--dtype f32|bf16] [--device cpu]
// Loads every weight as trace does and prints {"source_bytes", "loaded_bytes", "seconds",
// "cpu_seconds"} (bench/load_bench.sh). Both hidden: benchmark tools, not user verbs.
#include <cstdio>

#include "cmd_bench_matmul.h"
#include "switchyard/compute/load_bench.h"
#include "switchyard/compute/matmul_bench.h"
#include "switchyard/core/model.h"
#include "switchyard/core/errors.h"
#include "switchyard/compute/trace_job.h"

namespace sy::cli {
namespace {

MatmulShape parse_shape(const std::string& text) {
    MatmulShape shape;
    const auto colon = text.find(':');
    long long m = 0, k = 0, n = 0;
    char tail = 0;
    const bool ok = colon != std::string::npos && colon > 0 &&
                    std::sscanf(text.c_str() + colon + 1, "%lld,%lld,%lld%c", &m, &k, &n, &tail) == 3 && m > 0 &&
                    k > 0 && n > 0;
    SY_CHECK(ok, UsageError, "--shape \"" + text + "\": expected NAME:M,K,N with positive sizes");
    shape.name = text.substr(0, colon);
    shape.m = m, shape.k = k, shape.n = n;
    return shape;
}

}  // namespace

Verb add_bench_matmul(CLI::App& root) {
    auto* cmd = root.add_subcommand("bench-matmul", "Time x·wᵀ GEMMs (benchmark helper)");
    cmd->group("");   // hidden from --help
    struct Args {
        std::vector<std::string> shapes, dtypes{"f32"};
        std::string device = "cpu";
        double seconds = 1.0;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("--shape", args->shapes, "NAME:M,K,N (y[M,N] = x[M,K]·w[N,K]ᵀ), repeatable")->required();
    cmd->add_option("--dtype", args->dtypes, "f32 and/or bf16")->check(CLI::IsMember({"f32", "bf16"}));
    cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--seconds", args->seconds, "Minimum timed seconds per shape")->capture_default_str();
    return {cmd, [args]() {
                std::vector<MatmulShape> shapes;
                for (const auto& text : args->shapes) shapes.push_back(parse_shape(text));
                std::printf("name\tdtype\tm\tk\tn\tseconds\tgflops\n");
                for (const auto& dtype : args->dtypes)
                    for (const MatmulTiming& t : time_matmuls(shapes, parse_compute_dtype(dtype), args->device, args->seconds))
                        std::printf("%s\t%s\t%lld\t%lld\t%lld\t%.6f\t%.2f\n", t.shape.name.c_str(), dtype.c_str(),
                                    static_cast<long long>(t.shape.m), static_cast<long long>(t.shape.k),
                                    static_cast<long long>(t.shape.n), t.seconds, t.gflops());
                return 0;
            }};
}

Verb add_bench_load(CLI::App& root) {
    auto* cmd = root.add_subcommand("bench-load", "Time loading every weight (benchmark helper)");
    cmd->group("");   // hidden from --help
    struct Args {
        std::string model_dir, dtype = "f32", device = "cpu";
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("MODEL_DIR", args->model_dir, "Model folder")->required();
    cmd->add_option("--dtype", args->dtype, "Compute dtype")->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
    cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
    return {cmd, [args]() {
                const Model model = open_model(args->model_dir);
                const LoadTiming t = time_weight_load(model, parse_compute_dtype(args->dtype), args->device);
                std::printf("{\"source_bytes\": %llu, \"loaded_bytes\": %llu, \"seconds\": %.6f, \"cpu_seconds\": %.6f}\n",
                            static_cast<unsigned long long>(t.source_bytes), static_cast<unsigned long long>(t.loaded_bytes),
                            t.seconds, t.cpu_seconds);
                return 0;
            }};
}

}  // namespace sy::cli
