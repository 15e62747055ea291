// switchyard-torch bench-matmul --shape NAME:M,K,N... [--dtype f32|bf16]... [--device cpu] [--seconds S]
// The machine's GEMM GFLOP/s for the model's shapes, measured with the forward pass's own call
// (bench/trace_bench.sh divides the trace's achieved GFLOP/s by it). Hidden: a benchmark tool,
// not a user verb. Prints one tab-separated row per shape and dtype.
#include <cstdio>

#include "cmd_bench_matmul.h"
#include "switchyard/compute/matmul_bench.h"
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

}  // namespace sy::cli
