#pragma once
// Helpers for the editing tests: fixture folders, modified copies of a fixture (a dead expert, a
// permuted expert), reading output tensors back, and running a model on the golden batch.
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "switchyard/compute/model_runner.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/model.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/tensor_convert.h"
#include "test_paths.h"

namespace sy::test {

inline std::filesystem::path model_dir(const std::string& name) {
    return name == "tiny-mixtral" ? examples_dir() / name : data_dir() / "models" / name;
}

inline std::filesystem::path corpus(const std::string& file) { return data_dir() / "corpus" / file; }

// Every MoE fixture family with per-expert Hub names in its exports (both input layouts, FP8).
// gpt-oss, fused on disk in every layout, has tests of its own (fused_edit_test.cpp).
inline const std::vector<std::string>& moe_fixtures() {
    static const std::vector<std::string> names = {
        "tiny-mixtral", "tiny-qwen2-moe",   "tiny-qwen3-moe",       "tiny-qwen3-moe-fused", "tiny-olmoe",
        "tiny-deepseek-v3", "tiny-deepseek-v3-fp8", "tiny-glm4-moe", "tiny-minimax-m2",  "tiny-qwen3-next"};
    return names;
}

using TensorEdit = std::function<void(const TensorInfo& info, std::vector<unsigned char>& bytes)>;

// Copies a model folder into `out` as one model.safetensors, letting `edit` change any tensor's
// bytes (stored dtype, row-major). Side files (config, tokenizer) are copied as they are.
inline void copy_model(const std::filesystem::path& source, const std::filesystem::path& out, const TensorEdit& edit = {}) {
    std::filesystem::create_directories(out);
    const Checkpoint checkpoint = Checkpoint::open(source);
    std::vector<TensorDecl> decls;
    for (const TensorInfo& t : checkpoint.tensors()) decls.push_back({t.name, t.dtype, t.shape});
    SafetensorsWriter writer(out / "model.safetensors", decls, {{"format", "pt"}});
    for (const TensorInfo& t : checkpoint.tensors()) {
        const TensorView view = checkpoint.view(t);
        std::vector<unsigned char> bytes(reinterpret_cast<const unsigned char*>(view.data),
                                         reinterpret_cast<const unsigned char*>(view.data) + t.nbytes());
        if (edit) edit(t, bytes);
        writer.write(bytes.data(), bytes.size());
    }
    writer.finish();
    for (const auto& entry : std::filesystem::directory_iterator(source)) {
        const auto& p = entry.path();
        if (p.extension() == ".safetensors" || p.filename() == "model.safetensors.index.json") continue;
        std::filesystem::copy_file(p, out / p.filename());
    }
}

// The raw bytes of a tensor of a model folder.
inline std::vector<unsigned char> tensor_bytes(const std::filesystem::path& dir, const std::string& name) {
    const Checkpoint checkpoint = Checkpoint::open(dir);
    const TensorInfo& t = checkpoint.at(name);
    const TensorView view = checkpoint.view(t);
    return {reinterpret_cast<const unsigned char*>(view.data), reinterpret_cast<const unsigned char*>(view.data) + t.nbytes()};
}

inline std::vector<float> bf16_values(const std::vector<unsigned char>& bytes) {
    std::vector<float> out(bytes.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = bf16_bits_to_f32(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
    return out;
}

// Golden-sized batch: the first `rows` windows of `tokens` ids each, from a deterministic pattern
// of common token ids (no tokenizer needed).
inline Batch pattern_batch(int64_t vocab, int rows = 4, int tokens = 48) {
    Batch batch;
    for (int r = 0; r < rows; ++r) {
        std::vector<int32_t> ids;
        for (int t = 0; t < tokens; ++t) ids.push_back(static_cast<int32_t>((r * 131 + t * 37 + t * t * 7) % vocab));
        batch.sequences.push_back(ids);
    }
    return batch;
}

inline BatchOutput run_logits(const Model& model, const Batch& batch, RunnerOptions options = {}) {
    ModelRunner runner(model, options);
    return runner.run(batch, nullptr, true);
}

}  // namespace sy::test
