#pragma once
// safetensors element types (formats.md §11.2). Unknown dtype strings are rejected, never guessed.
#include <cstddef>
#include <optional>
#include <string_view>

namespace sy {

enum class DType { boolean, u8, i8, i16, u16, f16, bf16, i32, u32, f32, i64, u64, f64, f8_e4m3, f8_e5m2 };

std::string_view dtype_name(DType dtype);                    // "BF16", as written in headers
std::optional<DType> parse_dtype(std::string_view name);     // nullopt for unknown strings
std::size_t dtype_size(DType dtype);                         // bytes per element
bool dtype_is_float(DType dtype);
std::string_view supported_dtype_list();                     // for error messages

}  // namespace sy
