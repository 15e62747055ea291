#pragma once
// Streams one safetensors file: the header (all shapes known up front) is written first, then
// each tensor's bytes in the declared order, so memory use never depends on tensor sizes.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "switchyard/core/dtype.h"

namespace sy {

struct TensorDecl {
    std::string name;
    DType dtype = DType::f32;
    std::vector<int64_t> shape;
    uint64_t nbytes() const;
};

class SafetensorsWriter {
public:
    SafetensorsWriter(const std::filesystem::path& file, std::vector<TensorDecl> tensors,
                      const std::map<std::string, std::string>& metadata);   // throws IoError
    SafetensorsWriter(const SafetensorsWriter&) = delete;
    SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;
    ~SafetensorsWriter();

    // Appends bytes of the tensors, in declaration order; a tensor may arrive in pieces.
    void write(const void* data, std::size_t size);
    // Checks every declared byte arrived, flushes and closes.
    void finish();

private:
    std::filesystem::path m_path;
    std::FILE* m_file = nullptr;
    uint64_t m_expected = 0;
    uint64_t m_written = 0;
};

}  // namespace sy
