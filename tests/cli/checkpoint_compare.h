#pragma once
// Tensor-by-tensor comparison of two checkpoint folders, for the export tests.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

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

}  // namespace sy::test
