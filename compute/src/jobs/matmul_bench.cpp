#include "switchyard/compute/matmul_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "device.h"
#include "torch_errors.h"
#include "weights/weight_loader.h"

namespace sy {
namespace {

void synchronize(const torch::Device& device) {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Seconds per call of the fastest of several rounds (rounds of >= 50 ms each, so timer and
// scheduler noise on a shared machine stays small relative to the round).
double time_one(const torch::Tensor& x, const torch::Tensor& w, const torch::Device& device, double min_seconds,
                int64_t& repeats) {
    using clock = std::chrono::steady_clock;
    torch::matmul(x, w.t());   // warm-up: allocator, BLAS thread pool, packing buffers
    synchronize(device);
    double best = std::numeric_limits<double>::infinity(), total = 0;
    int64_t per_round = 1;
    repeats = 0;
    while (total < min_seconds || repeats < 3) {
        const auto start = clock::now();
        for (int64_t i = 0; i < per_round; ++i) torch::matmul(x, w.t());
        synchronize(device);
        const double seconds = std::chrono::duration<double>(clock::now() - start).count();
        best = std::min(best, seconds / static_cast<double>(per_round));
        total += seconds;
        repeats += per_round;
        if (seconds < 0.05) per_round *= 2;
    }
    return best;
}

}  // namespace

double MatmulTiming::gflops() const {
    const double flop = 2.0 * static_cast<double>(shape.m) * static_cast<double>(shape.k) * static_cast<double>(shape.n);
    return seconds > 0 ? flop / seconds * 1e-9 : 0.0;
}

std::vector<MatmulTiming> time_matmuls(const std::vector<MatmulShape>& shapes, ComputeDType dtype,
                                       const std::string& device_text, double min_seconds) {
    const torch::Device device = parse_device(device_text);
    torch::NoGradGuard no_grad;
    std::vector<MatmulTiming> timings;
    for (const MatmulShape& shape : shapes) {
        timings.push_back(guard_torch("timing matmul " + shape.name, [&] {
            const auto options = torch::TensorOptions().dtype(torch_compute_dtype(dtype)).device(device);
            const torch::Tensor x = torch::randn({shape.m, shape.k}, options);
            const torch::Tensor w = torch::randn({shape.n, shape.k}, options) * 0.02;
            MatmulTiming timing{shape, dtype, 0, 0};
            timing.seconds = time_one(x, w, device, min_seconds, timing.repeats);
            return timing;
        }));
    }
    return timings;
}

}  // namespace sy
