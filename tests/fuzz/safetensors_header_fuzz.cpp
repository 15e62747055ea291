// libFuzzer target for the safetensors header parser. Input: a whole file
// image (8-byte length + header + data); the parser must accept it or throw sy::Error.
#include <cstdint>
#include <string_view>

#include "switchyard/core/errors.h"
#include "switchyard/core/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 8) return 0;
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
    if (n > size - 8) n = size - 8;  // the file reader rejects this case before parsing
    try {
        auto header = sy::parse_safetensors_header(
            std::string_view(reinterpret_cast<const char*>(data) + 8, n), size, "fuzz.safetensors");
        for (const auto& t : header.tensors) {
            // Invariants the rest of the code relies on after validation.
            if (t.data_end > size - header.data_offset) __builtin_trap();
            if (t.nbytes() != static_cast<uint64_t>(t.numel()) * sy::dtype_size(t.dtype)) __builtin_trap();
        }
    } catch (const sy::Error&) {
    }
    return 0;
}
