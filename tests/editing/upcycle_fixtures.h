#pragma once
// Shared by the upcycle tests (editing, compute): the dense fixture, tensors read back as f32 or
// bytes, and dense variants written from tiny-llama with some tensors transformed (a second
// fine-tune, a model whose FFN output is scaled).
#include <filesystem>
#include <fstream>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/test_safetensors_writer.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/editing/upcycle.h"
#include "test_paths.h"

namespace sy::test {

inline std::filesystem::path tiny_llama() { return data_dir() / "models" / "tiny-llama"; }

inline std::vector<float> tensor_f32(const Checkpoint& c, const std::string& name) { return to_f32(c.view(c.at(name))); }

inline std::string tensor_bytes(const Checkpoint& c, const std::string& name) {
    const TensorInfo& t = c.at(name);
    return std::string(reinterpret_cast<const char*>(c.view(t).data), t.nbytes());
}

// f32 values -> little-endian bytes of `dtype` (f32 or bf16).
inline std::vector<unsigned char> encode(const std::vector<float>& values, DType dtype) {
    std::vector<unsigned char> out(values.size() * dtype_size(dtype));
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (dtype == DType::f32) {
            std::memcpy(out.data() + 4 * i, &values[i], 4);
        } else {
            const uint16_t bits = f32_to_bf16_bits(values[i]);
            out[2 * i] = static_cast<unsigned char>(bits & 0xFF), out[2 * i + 1] = static_cast<unsigned char>(bits >> 8);
        }
    }
    return out;
}

// tiny-llama's tensors, each passed through `transform(name, values)`, written as `dtype` into
// `dir` with tiny-llama's (optionally edited) config and tokenizer.
inline void write_dense_variant(const std::filesystem::path& dir,
                                const std::function<void(const std::string&, std::vector<float>&)>& transform,
                                DType dtype = DType::bf16,
                                const std::vector<std::pair<std::string, std::string>>& config_edits = {}) {
    std::filesystem::create_directories(dir);
    const Checkpoint source = Checkpoint::open(tiny_llama());
    std::vector<TensorDecl> decls;
    for (const TensorInfo& t : source.tensors()) decls.push_back({t.name, dtype, t.shape});
    SafetensorsWriter writer(dir / "model.safetensors", decls, {{"format", "pt"}});
    for (const TensorInfo& t : source.tensors()) {
        std::vector<float> values = to_f32(source.view(t));
        transform(t.name, values);
        const auto bytes = encode(values, dtype);
        writer.write(bytes.data(), bytes.size());
    }
    writer.finish();
    write_config(dir, "tiny-llama", config_edits);
    std::filesystem::copy_file(tiny_llama() / "tokenizer.json", dir / "tokenizer.json");
}

inline bool is_ffn_down(const std::string& name) { return name.find("mlp.down_proj") != std::string::npos; }

inline UpcycleOptions upcycle_options(int64_t experts, int64_t top_k) {
    UpcycleOptions o;
    o.experts = experts;
    o.top_k = top_k;
    return o;
}

inline EditOutput edit_output(const std::filesystem::path& dir) {
    EditOutput out;
    out.dir = dir;
    out.command_line = "switchyard upcycle (test)";
    return out;
}

// upcycle() without the forward pass (routers other than `hidden`).
inline UpcycleResult run_upcycle(const std::filesystem::path& dense, const UpcycleOptions& o,
                                 const std::filesystem::path& out) {
    NullProgress progress;
    CancelToken cancel;
    return upcycle(dense, o, edit_output(out), nullptr, progress, cancel);
}

}  // namespace sy::test
