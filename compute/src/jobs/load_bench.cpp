#include "switchyard/compute/load_bench.h"

#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>

#include "device.h"
#include "torch_errors.h"
#include "weights/layer_tensors.h"
#include "weights/layer_weights.h"
#include "weights/weight_loader.h"

namespace sy {
namespace {

double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

uint64_t tensor_bytes(const torch::Tensor& t) { return t.defined() ? static_cast<uint64_t>(t.nbytes()) : 0; }

}  // namespace

LoadTiming time_weight_load(const Model& model, ComputeDType dtype, const std::string& device_name) {
    return guard_torch("timing the weight load", [&] {
        torch::NoGradGuard no_grad;
        const torch::Device device = parse_device(device_name);
        WeightLoader loader(model, dtype, device);
        loader.set_source_mapping(WeightLoader::SourceMapping::resident);   // as a runner that caches every layer loads
        LoadTiming timing;
        const double cpu_start = cpu_seconds();
        const auto start = std::chrono::steady_clock::now();
        std::vector<torch::Tensor> resident;
        for (TensorRole role : resident_tensor_roles(model.description)) {
            resident.push_back(loader.load(role));
            timing.source_bytes += file_bytes(model, role);
        }
        std::vector<std::shared_ptr<LayerWeights>> layers;
        for (int l = 0; l < model.description.num_layers; ++l) {
            layers.push_back(load_layer_weights(loader, l, true));
            release_layer_sources(loader, l);
        }
        if (device.is_cuda()) torch::cuda::synchronize(device.index());
        timing.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        timing.cpu_seconds = cpu_seconds() - cpu_start;
        for (const torch::Tensor& t : resident) timing.loaded_bytes += tensor_bytes(t);
        for (int l = 0; l < model.description.num_layers; ++l) {
            const LayerTensorRoles roles = layer_tensor_roles(model.description, model.layout, l);
            for (TensorRole role : roles.common) timing.source_bytes += file_bytes(model, role, l);
            if (model.layout == ExpertLayout::fused)
                for (TensorRole role : roles.experts) timing.source_bytes += file_bytes(model, role, l);
            else
                for (int e = 0; e < roles.expert_count; ++e)
                    for (TensorRole role : roles.experts) timing.source_bytes += file_bytes(model, role, l, e);
            // Whole tensors only: experts may be views into stacked or fused ones.
            for (const torch::Tensor& t : take_tensors(std::move(*layers[static_cast<std::size_t>(l)])))
                if (t.defined() && t.storage_offset() == 0 && t.nbytes() == t.storage().nbytes()) timing.loaded_bytes += tensor_bytes(t);
        }
        return timing;
    });
}

}  // namespace sy
