#include "weights/weight_loader.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>

#include "switchyard/compute/torch_bridge.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/core/model_validation.h"
#include "switchyard/core/tensor_names.h"
#include "torch_errors.h"

namespace sy {
namespace {

bool is_fp8(DType dtype) { return dtype == DType::f8_e4m3 || dtype == DType::f8_e5m2; }

torch::Tensor f32_tensor(std::vector<float>&& values, const std::vector<int64_t>& shape) {
    return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

bool is_norm(TensorRole role) {
    using R = TensorRole;
    return role == R::attn_norm || role == R::ffn_norm || role == R::final_norm || role == R::attn_q_norm ||
           role == R::attn_k_norm;
}

}  // namespace

torch::ScalarType torch_compute_dtype(ComputeDType dtype) {
    return dtype == ComputeDType::bf16 ? torch::kBFloat16 : torch::kFloat32;
}

torch::ScalarType role_dtype(const FamilySpec& family, TensorRole role, ComputeDType dtype) {
    using R = TensorRole;
    const bool f32 = role == R::router_score_bias || role == R::lin_a_log || role == R::lin_dt_bias ||
                     (family.norm_weights_f32 && is_norm(role));
    return f32 ? torch::kFloat32 : torch_compute_dtype(dtype);
}

torch::ScalarType loaded_dtype(const Model& model, TensorRole role, ComputeDType dtype) {
    const torch::ScalarType converted = role_dtype(*model.description.family, role, dtype);
    if (role != TensorRole::token_embedding || model.description.tie_word_embeddings || converted != torch::kFloat32)
        return converted;
    const TensorInfo* info = model.checkpoint.find(tensor_name(*model.description.family, role, -1, -1, model.layout));
    if (!info || (info->dtype != DType::bf16 && info->dtype != DType::f16)) return converted;
    return torch_scalar_type(*info);
}

uint64_t converted_bytes(const Model& model, ComputeDType dtype, TensorRole role, int layer, int expert) {
    const std::string name = tensor_name(*model.description.family, role, layer, expert, model.layout);
    const TensorInfo* info = model.checkpoint.find(name);
    const int64_t numel = info ? info->numel() : 2 * model.checkpoint.at(mxfp4_blocks_name(name)).numel();
    return static_cast<uint64_t>(numel) * c10::elementSize(loaded_dtype(model, role, dtype));
}

uint64_t file_bytes(const Model& model, TensorRole role, int layer, int expert) {
    const std::string name = tensor_name(*model.description.family, role, layer, expert, model.layout);
    if (stored_as_mxfp4(model.checkpoint, name))   // gpt-oss: `_blocks` + `_scales` on disk
        return model.checkpoint.at(mxfp4_blocks_name(name)).nbytes() + model.checkpoint.at(mxfp4_scales_name(name)).nbytes();
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
    const torch::ScalarType target = loaded_dtype(m_model, role, m_dtype);
    // Over the mapping: streamed, its pages stay until the layer's release_layer_sources;
    // resident, for the loader's lifetime.
    if (const TensorInfo* info = m_model.checkpoint.find(name); maps(role, info, target)) {
        m_model.checkpoint.populate(*info);
        return view_as_torch(m_model.checkpoint.view(*info));
    }
    torch::Tensor converted = guard_torch("loading " + name, [&] {
        if (stored_as_mxfp4(m_model.checkpoint, name)) return load_mxfp4(role, name, target);
        return finish(role, to_v5_form(role, convert(name, target), false, false));
    });
    // The copy never aliases the mapping, so the mapped pages can go now rather than when the
    // layer finishes: otherwise a streamed layer counts twice in RSS (its converted copy plus
    // its mapped source pages) and peak RSS exceeds --max-memory.
    release(role, layer, expert);
    return converted;
}

bool WeightLoader::maps(TensorRole role, const TensorInfo* info, torch::ScalarType target) const {
    using R = TensorRole;
    if (!m_device.is_cpu() || m_patch || !info || is_fp8(info->dtype) || torch_scalar_type(*info) != target) return false;
    const auto* data = m_model.checkpoint.view(*info).data;
    if (reinterpret_cast<std::uintptr_t>(data) % c10::elementSize(target) != 0) return false;
    const bool expert = role == R::expert_gate || role == R::expert_up || role == R::expert_down;
    if (m_mapping == SourceMapping::resident) {
        // Roles load() rewrites: zero-centred norms (finish) and gpt-oss's interleaved fused
        // experts (to_v5_form).
        const FamilySpec& family = *m_model.description.family;
        if (family.zero_centred_norms && is_norm(role)) return false;
        const bool fused = role == R::expert_gate_up || role == R::expert_down || role == R::expert_gate_up_bias;
        return !(fused && family.fused_form == FusedExperts::interleaved_in_out);
    }
    // Streamed: per-expert layout only (fused tensors may need rearranging, and their pages
    // go with the layer, not the expert).
    return m_mapping == SourceMapping::streamed && expert && m_model.layout == ExpertLayout::per_expert;
}

bool WeightLoader::reads_direct(const TensorInfo& info, torch::ScalarType target) const {
    if (m_mapping != SourceMapping::streamed || !m_device.is_cpu() || target != torch::kFloat32 ||
        info.dtype != DType::bf16 || !m_reader.reads_direct(info))
        return false;
    std::lock_guard<std::mutex> lock(m_read_ahead_mutex);
    return m_read_ahead.count(&info) == 0;
}

void WeightLoader::expect_read_ahead(const std::vector<Source>& sources) const {
    std::lock_guard<std::mutex> lock(m_read_ahead_mutex);
    for (const Source& s : sources)
        if (const TensorInfo* info = m_model.checkpoint.find(name_of(s.role, s.layer, s.expert))) m_read_ahead.insert(info);
}

bool WeightLoader::reads_uncached_directly(TensorRole role, int layer, int expert) const {
    const TensorInfo* info = m_model.checkpoint.find(name_of(role, layer, expert));
    return info && reads_direct(*info, loaded_dtype(m_model, role, m_dtype));
}

torch::Tensor WeightLoader::convert(const std::string& name, torch::ScalarType target) const {
    const TensorInfo& info = m_model.checkpoint.at(name);
    const auto options = torch::TensorOptions().dtype(target).device(m_device);
    if (!is_fp8(info.dtype)) return read(info, 0, info.shape, options);
    const TensorInfo* scale = m_model.checkpoint.find(scale_inv_name(name));
    if (!scale) return load_as_torch(m_model.checkpoint.view(info), torch::kFloat32).to(options);
    return dequantize(info, *scale).to(options);
}

// Same dtype on the CPU: one pread straight into the result; bf16 -> f32 on the CPU: read and
// widened in place in the result. Otherwise pread into a small
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
    if (out.is_cpu() && source == torch::kBFloat16 && out.scalar_type() == torch::kFloat32) {
        // No staging buffer: each piece is read into the upper half of the f32 result and
        // widened in place (bf16_to_f32 allows exactly this overlap), so the bytes pass through
        // the cache once and no memory besides the result is touched. Pieces of 1 MiB keep the
        // read data in cache until it is widened.
        constexpr uint64_t kPiece = uint64_t{512} << 10;   // values: 1 MiB of bf16
        auto* values = out.data_ptr<float>();
        // Half the pages cached (a warm re-run): a direct read would fetch from disk what memory
        // already holds.
        if (reads_direct(info, torch::kFloat32) && m_model.checkpoint.cached_fraction(info, begin, numel * source_size) < 0.5 &&
            m_reader.read_direct(info, begin, numel * source_size, source_size,
                                 [values](const char* data, uint64_t offset, uint64_t bytes) {
                                     bf16_to_f32(reinterpret_cast<const uint16_t*>(data), values + offset / 2, bytes / 2);
                                 }))
            return out;
        if (m_mapping == SourceMapping::streamed) {
            // Streamed schedules where direct reads are refused or the bytes are cached: widened
            // straight out of the mapping, piece by piece (populated, widened, dropped), instead
            // of the kernel copying each piece out of the page cache first: that copy was 22% of
            // a CPU-bound streamed f32 trace (bench/README.md#load). RSS holds one piece of
            // source pages per load thread, not the tensor's.
            const auto* source_values =
                reinterpret_cast<const uint16_t*>(m_model.checkpoint.view(info).data + begin);
            for (uint64_t done = 0; done < numel; done += kPiece) {
                const uint64_t n = std::min(kPiece, numel - done);
                m_model.checkpoint.populate(info, begin + done * source_size, n * source_size);
                bf16_to_f32(source_values + done, values + done, n);
                m_model.checkpoint.release(info, begin + done * source_size, n * source_size);
            }
            return out;
        }
        auto* upper = reinterpret_cast<uint16_t*>(values) + numel;
        for (uint64_t done = 0; done < numel; done += kPiece) {
            const uint64_t n = std::min(kPiece, numel - done);
            m_reader.read(info, begin + done * source_size, n * source_size, upper + done);
            bf16_to_f32(upper + done, values + done, n);
        }
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
    // Tensors over the checkpoint's mapping (from_blob: storage not resizable) are not ours
    // to write into.
    auto whole = [](const torch::Tensor& t) {
        return t.defined() && t.storage().resizable() && t.is_contiguous() && t.storage_offset() == 0 && t.nbytes() == t.storage().nbytes();
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
    const torch::ScalarType target = loaded_dtype(m_model, role, m_dtype);
    return guard_torch("loading expert " + std::to_string(expert) + " of " + name, [&] {
        if (stored_as_mxfp4(m_model.checkpoint, name)) {
            torch::Tensor slice = dequantize_mxfp4(name, expert, 1).squeeze(0);
            release(role, layer, -1);
            return to_v5_form(role, slice, true, true).to(target).to(m_device);
        }
        const TensorInfo& info = m_model.checkpoint.at(name);
        const auto options = torch::TensorOptions().dtype(target).device(m_device);
        torch::Tensor slice;
        if (is_fp8(info.dtype)) slice = convert(name, target).select(0, expert).clone();
        else {
            const std::vector<int64_t> shape(info.shape.begin() + 1, info.shape.end());
            const uint64_t slice_bytes = info.nbytes() / static_cast<uint64_t>(info.shape.at(0));
            slice = read(info, slice_bytes * static_cast<uint64_t>(expert), shape, options);
        }
        // Drops the references to the whole fused tensor's pages (the other slices stay in the
        // page cache and fault back in when loaded), as in load().
        release(role, layer, -1);
        return to_v5_form(role, slice, false, true);
    });
}

// Expert by expert into the result, so the f32 transient is one expert, not the whole layer
// (gpt-oss-120b: 8.5 GB of f32 per gate_up tensor).
torch::Tensor WeightLoader::load_mxfp4(TensorRole role, const std::string& name, torch::ScalarType target) const {
    const int64_t experts = m_model.checkpoint.at(mxfp4_blocks_name(name)).shape.at(0);
    torch::Tensor out;
    for (int64_t e = 0; e < experts; ++e) {
        const torch::Tensor expert = to_v5_form(role, dequantize_mxfp4(name, e, 1).squeeze(0), true, true);
        if (!out.defined()) {
            std::vector<int64_t> shape = expert.sizes().vec();
            shape.insert(shape.begin(), experts);
            out = torch::empty(shape, torch::TensorOptions().dtype(target).device(m_device));
        }
        out[e].copy_(expert);
    }
    return out;
}

torch::Tensor WeightLoader::dequantize_mxfp4(const std::string& name, int64_t first, int64_t count) const {
    const TensorInfo& blocks = m_model.checkpoint.at(mxfp4_blocks_name(name));
    const TensorInfo& scales = m_model.checkpoint.at(mxfp4_scales_name(name));
    const int64_t out = blocks.shape.at(1), groups_per_row = blocks.shape.at(2);   // [E, out, in/32, 16]
    const int64_t groups = count * out * groups_per_row;
    const auto* block_bytes = reinterpret_cast<const uint8_t*>(m_model.checkpoint.view(blocks).data);
    const auto* scale_bytes = reinterpret_cast<const uint8_t*>(m_model.checkpoint.view(scales).data);
    torch::Tensor values = torch::empty({count, out, groups_per_row * 32}, torch::kFloat32);
    const int64_t first_group = first * out * groups_per_row;
    sy::dequantize_mxfp4(block_bytes + first_group * 16, scale_bytes + first_group, groups, values.data_ptr<float>());
    return values;
}

// gpt-oss (formats.md §6.2): gate_up is [E, in=H, out=2I] with gate at even and up at odd output
// columns (MXFP4 blocks hold the transpose, [E, 2I, H]); down is [E, I, H] (blocks: [E, H, I]);
// the gate_up bias [E, 2I] is interleaved the same way. v5 form: gate rows, then up rows.
torch::Tensor WeightLoader::to_v5_form(TensorRole role, torch::Tensor t, bool from_mxfp4, bool slice) const {
    if (m_model.description.family->fused_form != FusedExperts::interleaved_in_out) return t;
    using R = TensorRole;
    if (role != R::expert_gate_up && role != R::expert_down && role != R::expert_gate_up_bias) return t;
    if (slice) t = t.unsqueeze(0);
    if (role != R::expert_gate_up_bias && !from_mxfp4) t = t.transpose(1, 2);   // [E, in, out] -> [E, out, in]
    if (role != R::expert_down) {   // de-interleave the 2I axis (dim 1)
        const int64_t width = t.size(1) / 2;
        std::vector<int64_t> pairs = {t.size(0), width, 2};
        for (int64_t d = 2; d < t.dim(); ++d) pairs.push_back(t.size(d));
        std::vector<int64_t> order = {0, 2, 1};
        for (int64_t d = 3; d < static_cast<int64_t>(pairs.size()); ++d) order.push_back(d);
        t = t.reshape(pairs).permute(order).reshape(t.sizes());
    }
    t = t.contiguous();
    return slice ? t.squeeze(0) : t;
}

torch::Tensor WeightLoader::finish(TensorRole role, torch::Tensor t) const {
    if (m_model.description.family->zero_centred_norms && is_norm(role)) t.add_(1.0);   // Qwen3NextRMSNorm
    return t;
}

void WeightLoader::will_need(TensorRole role, int layer, int expert) const {
    const std::string name = name_of(role, layer, expert);
    for (const std::string& stored : {name, mxfp4_blocks_name(name), mxfp4_scales_name(name)})
        if (const TensorInfo* info = m_model.checkpoint.find(stored)) m_reader.will_need(*info);
}

void WeightLoader::release(TensorRole role, int layer, int expert) const {
    const std::string name = name_of(role, layer, expert);
    if (m_mapping == SourceMapping::resident) {   // resident tensors over the mapping keep their pages
        const TensorInfo* info = m_model.checkpoint.find(name);
        if (maps(role, info, loaded_dtype(m_model, role, m_dtype))) return;
    }
    for (const std::string& stored : {name, scale_inv_name(name), mxfp4_blocks_name(name), mxfp4_scales_name(name)})
        if (const TensorInfo* info = m_model.checkpoint.find(stored)) m_model.checkpoint.release(*info);
}

}  // namespace sy
