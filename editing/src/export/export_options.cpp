#include <cctype>

#include "switchyard/core/errors.h"
#include "switchyard/editing/export.h"

namespace sy {

ExportDType parse_export_dtype(const std::string& text) {
    if (text == "keep") return ExportDType::keep;
    if (text == "bf16") return ExportDType::bf16;
    if (text == "f16") return ExportDType::f16;
    if (text == "f32") return ExportDType::f32;
    throw UsageError("--dtype " + text + ": expected keep, bf16, f16 or f32");
}

DType converted_dtype(DType source, ExportDType requested) {
    if (!dtype_is_float(source)) return source;  // integer buffers are never converted
    switch (requested) {
        case ExportDType::bf16: return DType::bf16;
        case ExportDType::f16: return DType::f16;
        case ExportDType::f32: return DType::f32;
        case ExportDType::keep: break;
    }
    return source;
}

std::string export_dtype_name(ExportDType dtype) {
    switch (dtype) {
        case ExportDType::bf16: return "bf16";
        case ExportDType::f16: return "f16";
        case ExportDType::f32: return "f32";
        case ExportDType::keep: break;
    }
    return "keep";
}

uint64_t parse_byte_size(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
        ++digits;
    std::string unit = text.substr(digits);
    for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // transformers' "5GB" is decimal; the binary spellings are accepted too.
    const std::pair<const char*, double> units[] = {{"", 1},      {"B", 1},           {"KB", 1e3},
                                                    {"MB", 1e6},  {"GB", 1e9},        {"TB", 1e12},
                                                    {"KIB", 1024.0}, {"MIB", 1048576.0}, {"GIB", 1073741824.0}};
    double value = 0;
    try {
        std::size_t used = 0;
        value = digits ? std::stod(text.substr(0, digits), &used) : -1;
        if (used != digits) value = -1;
    } catch (const std::exception&) {
        value = -1;
    }
    for (const auto& [name, factor] : units) {
        if (unit == name && value > 0) return static_cast<uint64_t>(value * factor);
    }
    throw UsageError("size \"" + text + "\": expected a positive number with a unit KB, MB, GB (or KiB, MiB, GiB)");
}

}  // namespace sy
