#include "switchyard/core/dtype.h"

#include <array>

namespace sy {
namespace {

struct DTypeRow {
    DType dtype;
    std::string_view name;
    std::size_t size;
    bool is_float;
};

// formats.md §11.2; sub-byte and exotic types are rejected as unknown on purpose.
constexpr std::array<DTypeRow, 15> k_dtypes{{
    {DType::boolean, "BOOL", 1, false}, {DType::u8, "U8", 1, false},
    {DType::i8, "I8", 1, false},        {DType::i16, "I16", 2, false},
    {DType::u16, "U16", 2, false},      {DType::f16, "F16", 2, true},
    {DType::bf16, "BF16", 2, true},     {DType::i32, "I32", 4, false},
    {DType::u32, "U32", 4, false},      {DType::f32, "F32", 4, true},
    {DType::i64, "I64", 8, false},      {DType::u64, "U64", 8, false},
    {DType::f64, "F64", 8, true},       {DType::f8_e4m3, "F8_E4M3", 1, true},
    {DType::f8_e5m2, "F8_E5M2", 1, true},
}};

const DTypeRow& row(DType dtype) {
    for (const auto& r : k_dtypes)
        if (r.dtype == dtype) return r;
    return k_dtypes[0];  // unreachable: every enum value has a row
}

}  // namespace

std::string_view dtype_name(DType dtype) { return row(dtype).name; }
std::size_t dtype_size(DType dtype) { return row(dtype).size; }
bool dtype_is_float(DType dtype) { return row(dtype).is_float; }

std::optional<DType> parse_dtype(std::string_view name) {
    for (const auto& r : k_dtypes)
        if (r.name == name) return r.dtype;
    return std::nullopt;
}

std::string_view supported_dtype_list() {
    return "BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64, F8_E4M3, F8_E5M2";
}

}  // namespace sy
