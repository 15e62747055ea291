#include "switchyard/core/safetensors_header.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "header_json.h"
#include "switchyard/core/errors.h"

namespace sy {
namespace {

// The reference implementation refuses headers above 100 MB (safetensors `tensor.rs`).
constexpr uint64_t k_max_header_bytes = 100'000'000;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw CheckpointError(origin + ": " + what);
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
    parse_header_json(header_json, origin, out);
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
