#include "device.h"

#include <torch/cuda.h>

#include <cctype>

#include "switchyard/compute/model_runner.h"
#include "switchyard/core/errors.h"

namespace sy {
namespace {

std::string available_devices() {
    const int count = cuda_device_count();
    if (count == 0) return "available: cpu (no CUDA device)";
    return "available: cpu, cuda, cuda:0 .. cuda:" + std::to_string(count - 1);
}

bool all_digits(const std::string& text) {
    if (text.empty() || text.size() > 4) return false;
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

}  // namespace

bool cuda_available() { return torch::cuda::is_available(); }

int cuda_device_count() { return cuda_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

torch::Device parse_device(const std::string& text) {
    if (text == "cpu") return torch::Device(torch::kCPU);
    const std::string prefix = "cuda";
    const bool cuda_form = text == prefix || (text.rfind(prefix + ":", 0) == 0 && all_digits(text.substr(5)));
    if (!cuda_form)
        throw UsageError("unknown device \"" + text + "\": use cpu, cuda or cuda:N (" + available_devices() + ")");
    const int index = text == prefix ? 0 : std::stoi(text.substr(5));
    if (index >= cuda_device_count())
        throw UsageError("device \"" + text + "\" is not available (" + available_devices() + ")");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace sy
