#include "switchyard/core/safetensors_header.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

using nlohmann::json;

// The reference implementation refuses headers above 100 MB (safetensors `tensor.rs`).
constexpr uint64_t k_max_header_bytes = 100'000'000;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw CheckpointError(origin + ": " + what);
}

json parse_json_rejecting_duplicates(std::string_view text, const std::string& origin) {
    std::set<std::string> seen;
    std::string duplicate;
    auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
        return true;
    };
    json header;
    try {
        header = json::parse(text.begin(), text.end(), on_event);
    } catch (const json::exception& e) {
        fail(origin, std::string("header is not valid JSON (") + e.what() + ")");
    }
    if (!duplicate.empty()) fail(origin, "header lists tensor \"" + duplicate + "\" twice");
    if (!header.is_object()) fail(origin, "header is not a JSON object");
    return header;
}

uint64_t checked_u64(const json& value, const std::string& origin, const std::string& what) {
    if (!value.is_number_unsigned()) fail(origin, what + " must be a non-negative integer");
    return value.get<uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const json& entry, const std::string& origin) {
    const std::string where = "tensor " + name;
    if (!entry.is_object()) fail(origin, where + ": entry is not an object");
    TensorInfo info;
    info.name = name;
    auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string()) fail(origin, where + ": missing \"dtype\"");
    auto dtype = parse_dtype(dtype_it->get<std::string>());
    if (!dtype)
        fail(origin, where + ": unknown dtype \"" + dtype_it->get<std::string>() + "\" (supported: " +
                         std::string(supported_dtype_list()) + ")");
    info.dtype = *dtype;

    auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array()) fail(origin, where + ": missing \"shape\"");
    uint64_t numel = 1;
    for (const auto& dim : *shape_it) {
        uint64_t d = checked_u64(dim, origin, where + ": shape dimension");
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
            (d != 0 && numel > std::numeric_limits<uint64_t>::max() / d))
            fail(origin, where + ": shape " + shape_it->dump() + " overflows");
        numel *= d;
        info.shape.push_back(static_cast<int64_t>(d));
    }

    auto off_it = entry.find("data_offsets");
    if (off_it == entry.end() || !off_it->is_array() || off_it->size() != 2)
        fail(origin, where + ": \"data_offsets\" must be [begin, end]");
    info.data_begin = checked_u64((*off_it)[0], origin, where + ": data_offsets");
    info.data_end = checked_u64((*off_it)[1], origin, where + ": data_offsets");
    if (info.data_end < info.data_begin)
        fail(origin, where + ": data_offsets end " + std::to_string(info.data_end) + " is before begin " +
                         std::to_string(info.data_begin));
    const uint64_t elem = dtype_size(info.dtype);
    if (numel > std::numeric_limits<uint64_t>::max() / elem) fail(origin, where + ": byte size overflows");
    if (numel * elem != info.nbytes())
        fail(origin, where + ": shape " + shape_to_string(info.shape) + " x " + std::string(dtype_name(info.dtype)) +
                         " needs " + std::to_string(numel * elem) + " bytes but data_offsets span " +
                         std::to_string(info.nbytes()));
    return info;
}

std::map<std::string, std::string> parse_metadata(const json& meta, const std::string& origin) {
    std::map<std::string, std::string> out;
    if (meta.is_null()) return out;
    if (!meta.is_object()) fail(origin, "__metadata__ is not an object");
    for (const auto& [key, value] : meta.items()) {
        if (!value.is_string()) fail(origin, "__metadata__ value of \"" + key + "\" is not a string");
        out[key] = value.get<std::string>();
    }
    return out;
}

// The data section must be tiled exactly: sorted by offset, no overlap, no hole, ends at EOF.
void check_tiling(std::vector<TensorInfo> sorted, uint64_t data_size, const std::string& origin) {
    std::sort(sorted.begin(), sorted.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.data_begin != b.data_begin ? a.data_begin < b.data_begin : a.data_end < b.data_end;
    });
    uint64_t cursor = 0;
    const TensorInfo* previous = nullptr;
    for (const auto& t : sorted) {
        if (t.data_end > data_size)
            fail(origin, "tensor " + t.name + ": data_offsets [" + std::to_string(t.data_begin) + ", " +
                             std::to_string(t.data_end) + ") run past the data section (" + std::to_string(data_size) +
                             " bytes; file truncated?)");
        if (t.data_begin < cursor)
            fail(origin, "tensor " + t.name + ": data_offsets overlap tensor " + (previous ? previous->name : "?"));
        if (t.data_begin > cursor)
            fail(origin, "tensor " + t.name + ": " + std::to_string(t.data_begin - cursor) +
                             " unused bytes before it in the data section");
        cursor = t.data_end;
        previous = &t;
    }
    if (cursor != data_size)
        fail(origin, "data section has " + std::to_string(data_size - cursor) +
                         " bytes after the last tensor (expected the tensors to end at end of file)");
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::string_view header_json, uint64_t file_size,
                                           const std::string& origin) {
    SafetensorsHeader out;
    out.file_size = file_size;
    out.data_offset = 8 + header_json.size();
    json header = parse_json_rejecting_duplicates(header_json, origin);
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__")
            out.metadata = parse_metadata(value, origin);
        else
            out.tensors.push_back(parse_entry(key, value, origin));
    }
    check_tiling(out.tensors, file_size - out.data_offset, origin);
    return out;
}

SafetensorsHeader read_safetensors_header(const std::filesystem::path& file) {
    const std::string origin = file.string();
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError(origin + ": cannot open: " + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) throw IoError(origin + ": cannot seek: " + std::strerror(errno));
    const auto file_size = static_cast<uint64_t>(end);
    if (file_size < 8) fail(origin, "file is " + std::to_string(file_size) + " bytes, too short for a safetensors header");
    unsigned char len_bytes[8];
    if (::pread(fd, len_bytes, 8, 0) != 8) throw IoError(origin + ": cannot read header length");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];  // little-endian
    if (header_len > k_max_header_bytes)
        fail(origin, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit (corrupt file?)");
    if (header_len > file_size - 8)
        fail(origin, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                         std::to_string(file_size) + " bytes; truncated?)");
    std::string text(header_len, '\0');
    uint64_t done = 0;
    while (done < header_len) {
        ssize_t n = ::pread(fd, text.data() + done, header_len - done, static_cast<off_t>(8 + done));
        if (n <= 0) throw IoError(origin + ": cannot read header");
        done += static_cast<uint64_t>(n);
    }
    return parse_safetensors_header(text, file_size, origin);
}

}  // namespace sy
