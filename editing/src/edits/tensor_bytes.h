#pragma once
// f32 values <-> stored bytes of one dtype (F32, BF16, F16), for computed tensors of an edited
// export and for rounding the preview's weights exactly as the export will store them.
#include <string>
#include <vector>

#include "switchyard/core/dtype.h"

namespace sy {

// Throws ShapeMismatch naming `what` for a dtype that is not F32/BF16/F16.
std::vector<unsigned char> encode_f32(const std::vector<float>& values, DType dtype, const std::string& what);
std::vector<float> decode_to_f32(const unsigned char* bytes, std::size_t count, DType dtype, const std::string& what);

// values -> the nearest values `dtype` stores (F8_E4M3: DeepSeek blocks of block_rows x block_cols
// over a [rows, cols] matrix); F32 leaves them unchanged.
void round_to_storage(std::vector<float>& values, DType dtype, int64_t rows, int64_t cols, int64_t block_rows,
                      int64_t block_cols, const std::string& what);

}  // namespace sy
