#pragma once
// A fixture model copied into a folder with one expert replaced by a neuron-permuted copy of
// another: expert `dst` of `layer` becomes expert `src` with its intermediate
// neurons (rows of gate and up, columns of down) reordered. The copy computes exactly what
// `src` computes, so similarity after alignment and by outputs must be 1. Both expert layouts;
// bytes are moved, never converted, so the copy is exact in any dtype.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "runner_fixtures.h"
#include "switchyard/core/model.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/tensor_names.h"

namespace sy::test {

struct PlantedCopy {
    int layer = 0, src = 0, dst = 1;
    std::vector<int> permutation;   // dst neuron n = src neuron permutation[n]
};

inline std::vector<int> random_permutation(int64_t n, unsigned seed) {
    std::vector<int> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), 0);
    std::mt19937 rng(seed);
    std::shuffle(p.begin(), p.end(), rng);
    return p;
}

namespace planted_detail {

// Rows of `row_bytes` each: out row r = in row perm[r].
inline void permute_rows(std::byte* out, const std::byte* in, const std::vector<int>& perm, std::size_t row_bytes) {
    for (std::size_t r = 0; r < perm.size(); ++r)
        std::memcpy(out + r * row_bytes, in + static_cast<std::size_t>(perm[r]) * row_bytes, row_bytes);
}

// [rows, I]: out[:, n] = in[:, perm[n]].
inline void permute_cols(std::byte* out, const std::byte* in, const std::vector<int>& perm, int64_t rows,
                         std::size_t elem) {
    const std::size_t cols = perm.size();
    for (int64_t r = 0; r < rows; ++r)
        for (std::size_t n = 0; n < cols; ++n)
            std::memcpy(out + (r * cols + n) * elem, in + (r * cols + static_cast<std::size_t>(perm[n])) * elem, elem);
}

}  // namespace planted_detail

// Writes the planted model (config, tokenizer, one model.safetensors) into `dir`.
inline void write_planted_model(const std::filesystem::path& fixture, const std::filesystem::path& dir,
                                const PlantedCopy& plant) {
    using namespace planted_detail;
    const Model model = open_model(fixture);
    const FamilySpec& spec = *model.description.family;
    const int64_t inter = model.description.expert_intermediate_size, hidden = model.description.hidden_size;
    std::map<std::string, std::vector<std::byte>> replaced;
    auto bytes_of = [&](const std::string& name) {
        const TensorView v = model.checkpoint.view(model.checkpoint.at(name));
        return std::vector<std::byte>(v.data, v.data + v.info->nbytes());
    };
    if (model.layout == ExpertLayout::per_expert) {
        for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down}) {
            const std::string from = tensor_name(spec, role, plant.layer, plant.src);
            const std::vector<std::byte> in = bytes_of(from);
            std::vector<std::byte> out(in.size());
            const std::size_t elem = dtype_size(model.checkpoint.at(from).dtype);
            if (role == TensorRole::expert_down) permute_cols(out.data(), in.data(), plant.permutation, hidden, elem);
            else permute_rows(out.data(), in.data(), plant.permutation, static_cast<std::size_t>(hidden) * elem);
            replaced[tensor_name(spec, role, plant.layer, plant.dst)] = std::move(out);
        }
    } else {
        // gate_up [E, 2I, H] (gate rows, then up rows), down [E, H, I].
        const std::string gu = tensor_name(spec, TensorRole::expert_gate_up, plant.layer, -1, ExpertLayout::fused);
        const std::string dn = tensor_name(spec, TensorRole::expert_down, plant.layer, -1, ExpertLayout::fused);
        std::vector<std::byte> gate_up = bytes_of(gu), down = bytes_of(dn);
        const std::size_t elem = dtype_size(model.checkpoint.at(gu).dtype);
        const std::size_t row = static_cast<std::size_t>(hidden) * elem, expert_gu = 2 * inter * row;
        for (int half = 0; half < 2; ++half)
            permute_rows(gate_up.data() + plant.dst * expert_gu + half * inter * row,
                         gate_up.data() + plant.src * expert_gu + half * inter * row, plant.permutation, row);
        const std::size_t expert_down = static_cast<std::size_t>(hidden * inter) * elem;
        permute_cols(down.data() + plant.dst * expert_down, down.data() + plant.src * expert_down, plant.permutation,
                     hidden, elem);
        replaced[gu] = std::move(gate_up);
        replaced[dn] = std::move(down);
    }
    std::vector<TensorDecl> decls;
    for (const TensorInfo& t : model.checkpoint.tensors()) decls.push_back({t.name, t.dtype, t.shape});
    SafetensorsWriter writer(dir / "model.safetensors", decls, {{"format", "pt"}});
    for (const TensorInfo& t : model.checkpoint.tensors()) {
        auto it = replaced.find(t.name);
        if (it != replaced.end()) writer.write(it->second.data(), it->second.size());
        else writer.write(model.checkpoint.view(t).data, t.nbytes());
    }
    writer.finish();
    for (const char* file : {"config.json", "tokenizer.json"})
        if (std::filesystem::exists(fixture / file))
            std::filesystem::copy_file(fixture / file, dir / file, std::filesystem::copy_options::overwrite_existing);
}

// `count` tokens of random ids below `vocab` as one .jsonl record of input_ids.
inline std::filesystem::path write_random_ids(const std::filesystem::path& dir, int64_t vocab, int count,
                                              unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> id(0, vocab - 1);
    std::string record = "{\"input_ids\": [";
    for (int i = 0; i < count; ++i) record += (i ? ", " : "") + std::to_string(id(rng));
    record += "]}\n";
    const std::filesystem::path file = dir / "ids.jsonl";
    std::ofstream(file) << record;
    return file;
}

}  // namespace sy::test
