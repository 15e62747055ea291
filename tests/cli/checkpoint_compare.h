#pragma once
// Tensor-by-tensor comparison of two checkpoint folders, for the export tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/core/checkpoint.h"

namespace sy::test {

inline std::string bytes_of(const sy::Checkpoint& c, const sy::TensorInfo& t) {
    const auto v = c.view(t);
    return std::string(reinterpret_cast<const char*>(v.data), t.nbytes());
}

// Every tensor of `a` exists in `b` with the same dtype, shape and bytes, and vice versa.
inline void expect_same_tensors(const std::filesystem::path& a_dir, const std::filesystem::path& b_dir) {
    auto a = sy::Checkpoint::open(a_dir), b = sy::Checkpoint::open(b_dir);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (const auto& t : a.tensors()) {
        const auto* u = b.find(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        EXPECT_EQ(u->dtype, t.dtype) << t.name;
        EXPECT_EQ(u->shape, t.shape) << t.name;
        EXPECT_TRUE(bytes_of(a, t) == bytes_of(b, *u)) << t.name;
    }
}

// The same .safetensors files in both folders, each with the same tensor bytes (the data
// section after the header, byte for byte) and the same header but for the provenance the writer
// records in __metadata__: "switchyard.command" (which verb wrote the file) and
// "switchyard.source" (the folder it read: `apply` of a recipe with structural entries before a
// training entry trains on their export in a hidden folder beside the output).
inline void expect_same_safetensors_but_command(const std::filesystem::path& a, const std::filesystem::path& b) {
    namespace fs = std::filesystem;
    const auto names = [](const fs::path& dir) {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".safetensors") out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    };
    const auto split = [](const fs::path& file) {
        std::ifstream in(file, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        const std::string bytes = text.str();
        uint64_t n = 0;
        if (bytes.size() >= 8) std::memcpy(&n, bytes.data(), 8);
        nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
        header["__metadata__"].erase("switchyard.command");
        header["__metadata__"].erase("switchyard.source");
        return std::make_pair(header, bytes.substr(8 + n));
    };
    ASSERT_FALSE(names(a).empty()) << a;
    ASSERT_EQ(names(a), names(b));
    for (const std::string& name : names(a)) {
        const auto [header_a, data_a] = split(a / name);
        const auto [header_b, data_b] = split(b / name);
        EXPECT_EQ(header_a, header_b) << name;
        EXPECT_EQ(data_a.size(), data_b.size()) << name;
        EXPECT_TRUE(data_a == data_b) << name << ": tensor bytes differ";
    }
}

}  // namespace sy::test
