#pragma once
// Reads a fixture's goldens.safetensors (shared/data/README.md) into host vectors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "switchyard/core/safetensors_header.h"

namespace sy::test {

struct GoldenTensor {
    std::vector<int64_t> shape;
    std::vector<float> f32;     // F32 tensors
    std::vector<int64_t> i64;   // I64 tensors
};

struct Goldens {
    std::map<std::string, GoldenTensor> tensors;
    std::map<std::string, std::string> metadata;
    bool has(const std::string& name) const { return tensors.count(name) > 0; }
    const GoldenTensor& at(const std::string& name) const { return tensors.at(name); }
};

inline Goldens read_goldens(const std::filesystem::path& file) {
    const SafetensorsHeader header = read_safetensors_header(file);
    std::ifstream in(file, std::ios::binary);
    Goldens goldens;
    goldens.metadata = header.metadata;
    for (const TensorInfo& info : header.tensors) {
        std::vector<char> bytes(info.nbytes());
        in.seekg(static_cast<std::streamoff>(header.data_offset + info.data_begin));
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        GoldenTensor tensor;
        tensor.shape = info.shape;
        if (info.dtype == DType::f32) {
            tensor.f32.resize(bytes.size() / 4);
            std::memcpy(tensor.f32.data(), bytes.data(), bytes.size());
        } else if (info.dtype == DType::i64) {
            tensor.i64.resize(bytes.size() / 8);
            std::memcpy(tensor.i64.data(), bytes.data(), bytes.size());
        }
        goldens.tensors.emplace(info.name, std::move(tensor));
    }
    return goldens;
}

}  // namespace sy::test
