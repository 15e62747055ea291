#pragma once
// Checkpoint tensor (by family role) -> torch tensor on the compute device, in the compute dtype
// unless loaded_dtype says otherwise.
// FP8 tensors with a `_scale_inv` sibling are dequantised (formats.md §5.2); fused v5 expert
// tensors can be loaded whole or one expert slice at a time (streaming). Thread-safe: const
// methods only read the checkpoint, whose mapping is thread-safe, so a prefetch thread may load
// while the compute thread runs.
#include <torch/types.h>

#include <cstdint>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "switchyard/compute/model_runner.h"
#include "switchyard/core/model.h"
#include "weights/tensor_file_reader.h"

namespace sy {

// Dtype a role is converted to: the compute dtype, except what HF keeps in f32:
// e_score_correction_bias (the DeepSeek router runs in f32, formats.md §2.5), the norm weights
// of families that multiply them in f32 (gpt-oss `_keep_in_fp32_modules`, Qwen3-Next's
// `(x * (1 + w.float()))`) and Qwen3-Next's A_log / dt_bias (`A_log.float()`, `a.float() + dt_bias`).
torch::ScalarType role_dtype(const FamilySpec& family, TensorRole role, ComputeDType dtype);
torch::ScalarType torch_compute_dtype(ComputeDType dtype);
// Dtype the loader gives a role of this checkpoint: role_dtype, except an untied token
// embedding stored in BF16 or F16 under f32 compute, which stays as stored. It only serves a row
// lookup (embed_tokens widens the rows it gathers, which is exact), so an f32 run need not hold,
// nor widen, a second copy of the table: 0.5 GB for a 32k x 4096 vocabulary.
torch::ScalarType loaded_dtype(const Model& model, TensorRole role, ComputeDType dtype);

// Bytes of the converted tensor of `role` in its loaded_dtype (whole tensor; fused experts: all
// E; MXFP4 weights count their dequantised elements).
uint64_t converted_bytes(const Model& model, ComputeDType dtype, TensorRole role, int layer = -1, int expert = -1);
// Bytes the same load reads from the checkpoint: the stored tensor plus its FP8 `_scale_inv`.
uint64_t file_bytes(const Model& model, TensorRole role, int layer = -1, int expert = -1);

class WeightLoader {
public:
    WeightLoader(const Model& model, ComputeDType dtype, torch::Device device);

    // Whole tensor. `layer` for per-layer roles, `expert` for per-expert roles (per_expert layout).
    // Fused expert tensors come back in the v5 form whatever the family stores: gate_up [E, 2I, H]
    // (gate rows, then up rows), down [E, H, I], gate_up bias [E, 2I] (gate, then up). gpt-oss's
    // interleaved in x out tensors (and their MXFP4 blocks) are rearranged into it here.
    // Zero-centred norm weights (Qwen3-Next, x * (1 + w)) come back as 1 + w.
    torch::Tensor load(TensorRole role, int layer = -1, int expert = -1) const;
    // One expert of a fused tensor [E, ...] -> [...] in the same v5 form, converting only that
    // slice (FP8 fused tensors are dequantised whole first: LibTorch 1.13 has no float8 views).
    torch::Tensor load_fused_slice(TensorRole role, int layer, int expert) const;
    // Hint that the mapped source pages (and the `_scale_inv`) can be dropped. load() and
    // load_fused_slice() call it themselves (plain dtypes are read with pread and never touch
    // the mapping; FP8 goes through it), except for experts used over the mapping
    // (SourceMapping::streamed), whose pages are released with their layer.
    void release(TensorRole role, int layer = -1, int expert = -1) const;
    // Background readahead of the source bytes (see TensorFileReader::will_need); any thread.
    void will_need(TensorRole role, int layer = -1, int expert = -1) const;
    // Whether load() reads this tensor past the page cache when its pages are not cached
    // (SourceMapping::streamed, BF16 stored, f32 compute; see set_source_mapping) and it was
    // not announced for read-ahead.
    bool reads_uncached_directly(TensorRole role, int layer = -1, int expert = -1) const;
    // A tensor by role (layer, expert: -1 where the role has none).
    struct Source {
        TensorRole role;
        int layer = -1;
        int expert = -1;
    };
    // Announces tensors the caller will read ahead (will_need) before loading them: load()
    // then reads them through the page cache, where the read-ahead puts them, never directly,
    // even before the read-ahead has reached them (a direct read would fetch the bytes twice).
    // Call before starting the read-ahead and before any of them can load. Any thread.
    void expect_read_ahead(const std::vector<Source>& sources) const;

    // Which loaded tensors are used where they lie, as tensors over the checkpoint's read-only
    // mapping, instead of copied (only on the CPU with no patch: a patch writes into loaded
    // experts). One value, set by the WeightSchedule from the residency it chooses.
    //
    // streamed (--max-memory schedules): routed experts stored in the compute dtype
    // (per-expert layout) are populated when loaded (Checkpoint::populate) and dropped from RSS
    // by release() when their layer finishes. Why: copying 12 GB of BF16 out of the page cache
    // with pread bound a streamed bf16 trace to 0.55 GB/s whatever the disk's speed
    // (bench/README.md#load). Only experts: the loader writes into other roles (zero-centred
    // norms), and recycle() skips tensors it does not own. In the same schedules, BF16 tensors
    // loaded for f32 compute are read past the page cache (TensorFileReader::read_direct) and
    // widened a piece at a time, unless the schedule reads the tensor ahead (expect_read_ahead)
    // or most of its pages are cached already (a warm re-run): a streamed f32 trace is CPU-bound,
    // and the kernel's page cache work for a buffered read of 12 GB was 6 s of its CPU time
    // (bench/README.md#load). The others, and all of them where direct reads are refused
    // (tmpfs), are widened straight out of the mapping (populated, widened, released).
    //
    // resident (every layer cached): every tensor stored in its compute dtype and used as
    // stored (not a zero-centred norm, not a fused expert tensor the loader rearranges, not FP8,
    // its bytes aligned to its element size) is populated when loaded and kept: release() leaves
    // its pages mapped. Why: BF16 compute of a BF16 checkpoint then loads no bytes at all, where
    // the copy into fresh memory (page zeroing, then the copy) bound the load to 0.9-2.9 GB/s of
    // source and was most of a 4,096-token bf16 run's fixed cost (bench/README.md#load). The
    // pages are the page cache's: shared with other processes, and dropped and re-read under
    // memory pressure instead of swapped. Nothing in the forward writes into a weight (a write
    // would fault: the mapping is read-only); training and patched loads copy.
    enum class SourceMapping { none, streamed, resident };
    void set_source_mapping(SourceMapping mapping) { m_mapping = mapping; }

    // Streaming: tensors of a finished layer, reused as destinations of later loads of the same
    // shape, dtype and device. Fresh memory costs the kernel a page zeroing per byte (26% of the
    // CPU time of a streamed 12 GB trace, bench/README.md "Trace throughput"). Only tensors no
    // one else references are kept; a load that finds no match frees the whole pool first, so
    // loading a layer never holds more than max(previous layer, this layer). Any thread.
    void recycle(std::vector<torch::Tensor> tensors) const;

    // The in-memory edit applied to every layer this loader builds (edit preview); null for
    // none. Set before the first load; the patch must outlive the loader.
    void set_patch(const ModelPatch* patch) { m_patch = patch; }
    // Expert parallelism: [layer][E] the routed experts this process holds; the others are never
    // loaded. Empty (the default), or an empty layer entry: all of them. Set before the first load.
    void set_held_experts(std::vector<std::vector<bool>> held) { m_held = std::move(held); }
    bool holds_all_experts(int layer) const {
        return layer >= static_cast<int>(m_held.size()) || m_held[static_cast<std::size_t>(layer)].empty();
    }
    bool holds_expert(int layer, int expert) const {
        return holds_all_experts(layer) || m_held[static_cast<std::size_t>(layer)].at(static_cast<std::size_t>(expert));
    }
    const ModelPatch* patch() const { return m_patch; }

    const Model& model() const { return m_model; }
    ComputeDType dtype() const { return m_dtype; }
    torch::Device device() const { return m_device; }

private:
    std::string name_of(TensorRole role, int layer, int expert) const;
    torch::Tensor convert(const std::string& name, torch::ScalarType target) const;
    torch::Tensor dequantize(const TensorInfo& info, const TensorInfo& scale) const;
    // gpt-oss MXFP4 weight `name` ([E, in, out] logical): experts [first, first + count) as f32
    // [count, out, in] (the blocks' own orientation).
    torch::Tensor dequantize_mxfp4(const std::string& name, int64_t first, int64_t count) const;
    torch::Tensor load_mxfp4(TensorRole role, const std::string& name, torch::ScalarType target) const;
    // Family storage form -> v5 form (see load()); `slice` is one expert without the E dim.
    torch::Tensor to_v5_form(TensorRole role, torch::Tensor t, bool from_mxfp4, bool slice) const;
    torch::Tensor finish(TensorRole role, torch::Tensor t) const;   // zero-centred norms
    // Whether `info` (role `role`, loaded as `target`) is used over the mapping (see
    // SourceMapping).
    bool maps(TensorRole role, const TensorInfo* info, torch::ScalarType target) const;
    // Whether `info`, loaded as `target`, is read past the page cache where its pages are not
    // cached and it was not announced for read-ahead (see SourceMapping::streamed).
    bool reads_direct(const TensorInfo& info, torch::ScalarType target) const;
    // Bytes [begin, begin + numel(shape) * source element size) of a non-FP8 tensor, read from
    // the file and converted to `options` (dtype, device) in bounded chunks.
    torch::Tensor read(const TensorInfo& info, uint64_t begin, torch::IntArrayRef shape,
                       const torch::TensorOptions& options) const;

    const Model& m_model;
    ComputeDType m_dtype;
    torch::Device m_device;
    std::vector<std::vector<bool>> m_held;      // see set_held_experts
    torch::Tensor take_buffer(torch::IntArrayRef shape, const torch::TensorOptions& options) const;

    TensorFileReader m_reader;
    const ModelPatch* m_patch = nullptr;
    SourceMapping m_mapping = SourceMapping::none;
    mutable std::mutex m_pool_mutex;            // guards m_pool (prefetch thread vs compute thread)
    mutable std::vector<torch::Tensor> m_pool;  // whole, unshared tensors of finished layers
    mutable torch::Tensor m_staging;            // read()'s conversion buffer, kept between loads (m_pool_mutex)
    mutable std::mutex m_read_ahead_mutex;
    mutable std::unordered_set<const TensorInfo*> m_read_ahead;   // see expect_read_ahead
};

}  // namespace sy
