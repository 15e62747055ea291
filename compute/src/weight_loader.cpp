#include "weight_loader.h"

#include <torch/torch.h>

#include <algorithm>

#include "switchyard/compute/torch_bridge.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/core/tensor_names.h"
#include "torch_errors.h"

namespace sy {
namespace {

bool is_fp8(DType dtype) { return dtype == DType::f8_e4m3 || dtype == DType::f8_e5m2; }

torch::Tensor f32_tensor(std::vector<float>&& values, const std::vector<int64_t>& shape) {
    return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

}  // namespace

torch::ScalarType torch_compute_dtype(ComputeDType dtype) {
    return dtype == ComputeDType::bf16 ? torch::kBFloat16 : torch::kFloat32;
}

torch::ScalarType role_dtype(TensorRole role, ComputeDType dtype) {
    return role == TensorRole::router_score_bias ? torch::kFloat32 : torch_compute_dtype(dtype);
}

uint64_t converted_bytes(const Model& model, ComputeDType dtype, TensorRole role, int layer, int expert) {
    const std::string name = tensor_name(*model.description.family, role, layer, expert, model.layout);
    const TensorInfo& info = model.checkpoint.at(name);
    return static_cast<uint64_t>(info.numel()) * c10::elementSize(role_dtype(role, dtype));
}

uint64_t file_bytes(const Model& model, TensorRole role, int layer, int expert) {
    const std::string name = tensor_name(*model.description.family, role, layer, expert, model.layout);
    const TensorInfo& info = model.checkpoint.at(name);
    const TensorInfo* scale = is_fp8(info.dtype) ? model.checkpoint.find(scale_inv_name(name)) : nullptr;
    return info.nbytes() + (scale ? scale->nbytes() : 0);
}

WeightLoader::WeightLoader(const Model& model, ComputeDType dtype, torch::Device device)
    : m_model(model), m_dtype(dtype), m_device(device), m_reader(model.checkpoint) {}

std::string WeightLoader::name_of(TensorRole role, int layer, int expert) const {
    return tensor_name(*m_model.description.family, role, layer, expert, m_model.layout);
}

torch::Tensor WeightLoader::load(TensorRole role, int layer, int expert) const {
    const std::string name = name_of(role, layer, expert);
    torch::Tensor converted = guard_torch("loading " + name, [&] { return convert(name, role_dtype(role, m_dtype)); });
    // The copy never aliases the mapping, so the mapped pages can go now rather than when the
    // layer finishes: otherwise a streamed layer counts twice in RSS (its converted copy plus
    // its mapped source pages) and peak RSS exceeds --max-memory.
    release(role, layer, expert);
    return converted;
}

torch::Tensor WeightLoader::convert(const std::string& name, torch::ScalarType target) const {
    const TensorInfo& info = m_model.checkpoint.at(name);
    const auto options = torch::TensorOptions().dtype(target).device(m_device);
    if (!is_fp8(info.dtype)) return read(info, 0, info.shape, options);
    const TensorInfo* scale = m_model.checkpoint.find(scale_inv_name(name));
    if (!scale) return load_as_torch(m_model.checkpoint.view(info), torch::kFloat32).to(options);
    return dequantize(info, *scale).to(options);
}

// Same dtype on the CPU: one pread straight into the result. Otherwise pread into a small
// staging buffer and convert/upload chunk by chunk, so the transient stays at kStagingBytes
// whatever the tensor's size (a 1 GB embedding converted to f32 would otherwise hold both).
torch::Tensor WeightLoader::read(const TensorInfo& info, uint64_t begin, torch::IntArrayRef shape,
                                 const torch::TensorOptions& options) const {
    constexpr uint64_t kStagingBytes = uint64_t{32} << 20;
    const torch::ScalarType source = torch_scalar_type(info);
    torch::Tensor out = take_buffer(shape, options);
    const auto source_size = static_cast<uint64_t>(c10::elementSize(source));
    const auto numel = static_cast<uint64_t>(out.numel());
    if (out.is_cpu()) advise_huge_pages(out.data_ptr(), out.nbytes());
    if (out.is_cpu() && out.scalar_type() == source) {
        m_reader.read(info, begin, numel * source_size, out.data_ptr());
        return out;
    }
    const uint64_t chunk = std::min(numel, kStagingBytes / source_size);
    torch::Tensor staging;
    {
        std::lock_guard<std::mutex> lock(m_pool_mutex);
        if (m_staging.defined() && m_staging.scalar_type() == source && static_cast<uint64_t>(m_staging.numel()) >= chunk)
            staging = std::move(m_staging);   // the prefetch thread, if loading too, makes its own
    }
    if (!staging.defined()) staging = torch::empty({static_cast<int64_t>(std::max<uint64_t>(chunk, 1))}, source);
    const torch::Tensor flat = out.view({-1});
    for (uint64_t done = 0; done < numel; done += chunk) {
        const uint64_t n = std::min(chunk, numel - done);
        m_reader.read(info, begin + done * source_size, n * source_size, staging.data_ptr());
        flat.narrow(0, static_cast<int64_t>(done), static_cast<int64_t>(n))
            .copy_(staging.narrow(0, 0, static_cast<int64_t>(n)));
    }
    std::lock_guard<std::mutex> lock(m_pool_mutex);
    m_staging = std::move(staging);
    return out;
}

torch::Tensor WeightLoader::take_buffer(torch::IntArrayRef shape, const torch::TensorOptions& options) const {
    {
        std::lock_guard<std::mutex> lock(m_pool_mutex);
        for (auto it = m_pool.begin(); it != m_pool.end(); ++it) {
            if (it->sizes() != shape || it->scalar_type() != options.dtype().toScalarType() ||
                it->device() != options.device())
                continue;
            torch::Tensor buffer = std::move(*it);
            m_pool.erase(it);
            return buffer;
        }
        m_pool.clear();   // a different layer shape: free before allocating (see recycle)
    }
    return torch::empty(shape, options);
}

void WeightLoader::recycle(std::vector<torch::Tensor> tensors) const {
    auto whole = [](const torch::Tensor& t) {
        return t.defined() && t.is_contiguous() && t.storage_offset() == 0 && t.nbytes() == t.storage().nbytes();
    };
    // Views (experts sliced out of a fused or stacked tensor) go first, so that the owner of
    // their storage can be the only reference left.
    for (torch::Tensor& t : tensors)
        if (!whole(t)) t = torch::Tensor();
    std::lock_guard<std::mutex> lock(m_pool_mutex);
    for (torch::Tensor& t : tensors)
        if (t.defined() && t.use_count() == 1 && t.storage().use_count() == 1) m_pool.push_back(std::move(t));
}

// W = fp8(W) x scale_inv per [br, bc] block, edge blocks partial (formats.md §5.2). 2-D tensors
// go through the bridge; fused [E, R, C] tensors expand the scale grid with torch ops.
torch::Tensor WeightLoader::dequantize(const TensorInfo& info, const TensorInfo& scale) const {
    const auto& block = m_model.description.fp8_block_size;
    if (!block)
        throw CheckpointError(info.name + ": has " + scale.name +
                              " but config.json has no quantization_config.weight_block_size");
    const TensorView weight_view = m_model.checkpoint.view(info), scale_view = m_model.checkpoint.view(scale);
    if (info.shape.size() == 2) return load_as_torch(weight_view, torch::kFloat32, &scale_view, (*block)[0], (*block)[1]);
    const torch::Tensor raw = f32_tensor(to_f32(weight_view), info.shape);
    const torch::Tensor grid = f32_tensor(to_f32(scale_view), scale.shape);
    const int64_t rows = raw.size(-2), cols = raw.size(-1);
    const torch::Tensor expanded = grid.repeat_interleave((*block)[0], -2).repeat_interleave((*block)[1], -1);
    return raw * expanded.narrow(-2, 0, rows).narrow(-1, 0, cols);
}

torch::Tensor WeightLoader::load_fused_slice(TensorRole role, int layer, int expert) const {
    const std::string name = name_of(role, layer, -1);
    return guard_torch("loading expert " + std::to_string(expert) + " of " + name, [&] {
        const TensorInfo& info = m_model.checkpoint.at(name);
        const auto options = torch::TensorOptions().dtype(role_dtype(role, m_dtype)).device(m_device);
        torch::Tensor slice;
        if (is_fp8(info.dtype)) slice = convert(name, role_dtype(role, m_dtype)).select(0, expert).clone();
        else {
            const std::vector<int64_t> shape(info.shape.begin() + 1, info.shape.end());
            const uint64_t slice_bytes = info.nbytes() / static_cast<uint64_t>(info.shape.at(0));
            slice = read(info, slice_bytes * static_cast<uint64_t>(expert), shape, options);
        }
        // Drops the references to the whole fused tensor's pages (the other slices stay in the
        // page cache and fault back in when loaded), as in load().
        release(role, layer, -1);
        return slice;
    });
}

void WeightLoader::will_need(TensorRole role, int layer, int expert) const {
    if (const TensorInfo* info = m_model.checkpoint.find(name_of(role, layer, expert))) m_reader.will_need(*info);
}

void WeightLoader::release(TensorRole role, int layer, int expert) const {
    const std::string name = name_of(role, layer, expert);
    if (const TensorInfo* info = m_model.checkpoint.find(name)) m_model.checkpoint.release(*info);
    if (const TensorInfo* scale = m_model.checkpoint.find(scale_inv_name(name))) m_model.checkpoint.release(*scale);
}

}  // namespace sy
