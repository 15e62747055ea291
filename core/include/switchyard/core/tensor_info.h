#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/core/dtype.h"

namespace sy {

// One tensor entry of a safetensors header, validated (see safetensors_header.h).
struct TensorInfo {
    std::string name;
    DType dtype = DType::f32;
    std::vector<int64_t> shape;
    std::size_t file_index = 0;   // index into Checkpoint::files()
    uint64_t data_begin = 0;      // byte offsets relative to the file's data section, end exclusive
    uint64_t data_end = 0;

    int64_t numel() const;
    uint64_t nbytes() const { return data_end - data_begin; }
};

std::string shape_to_string(const std::vector<int64_t>& shape);   // "[8, 128]"

}  // namespace sy
