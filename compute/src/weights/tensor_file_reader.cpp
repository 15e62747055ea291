#include "weights/tensor_file_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

// safetensors: u64 little-endian header length, the JSON header, then the data section that
// TensorInfo::data_begin/data_end are relative to (formats.md §1). The checkpoint has already
// validated the header; we only need its length.
uint64_t data_section_offset(int fd, const std::string& path) {
    unsigned char prefix[8];
    if (::pread(fd, prefix, sizeof prefix, 0) != static_cast<ssize_t>(sizeof prefix))
        throw IoError(path + ": cannot read the safetensors header length");
    uint64_t header = 0;
    for (int i = 7; i >= 0; --i) header = (header << 8) | prefix[i];
    return 8 + header;
}

}  // namespace

TensorFileReader::TensorFileReader(const Checkpoint& checkpoint) : m_checkpoint(checkpoint) {
    for (const std::string& name : checkpoint.files()) {
        const std::string path = (checkpoint.dir() / name).string();
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            for (int open_fd : m_fds) ::close(open_fd);
            throw IoError(path + ": cannot open: " + std::strerror(err));
        }
        m_fds.push_back(fd);
        m_data_offsets.push_back(data_section_offset(fd, path));
    }
}

TensorFileReader::~TensorFileReader() {
    for (int fd : m_fds) ::close(fd);
}

void TensorFileReader::read(const TensorInfo& tensor, uint64_t begin, uint64_t length, void* out) const {
    SY_CHECK(begin + length <= tensor.nbytes(), CheckpointError,
             tensor.name + ": read of bytes [" + std::to_string(begin) + ", " + std::to_string(begin + length) +
                 ") past its " + std::to_string(tensor.nbytes()) + " bytes");
    const int fd = m_fds.at(tensor.file_index);
    auto* dst = static_cast<char*>(out);
    uint64_t offset = m_data_offsets[tensor.file_index] + tensor.data_begin + begin;
    while (length > 0) {
        const ssize_t got = ::pread(fd, dst, length, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            const std::string why = got < 0 ? std::strerror(errno) : "file ends early (changed since it was opened?)";
            throw IoError(m_checkpoint.files()[tensor.file_index] + ": tensor " + tensor.name + ": cannot read: " + why);
        }
        dst += got, offset += static_cast<uint64_t>(got), length -= static_cast<uint64_t>(got);
    }
}

void TensorFileReader::will_need(const TensorInfo& tensor) const {
    // The kernel caps one POSIX_FADV_WILLNEED at the device's readahead size (read_ahead_kb,
    // 8 MiB on the dev VM), so a whole tensor is advised in pieces of that order.
    constexpr uint64_t piece = uint64_t{8} << 20;
    const int fd = m_fds.at(tensor.file_index);
    const uint64_t begin = m_data_offsets[tensor.file_index] + tensor.data_begin;
    for (uint64_t offset = 0; offset < tensor.nbytes(); offset += piece)
        ::posix_fadvise(fd, static_cast<off_t>(begin + offset),
                        static_cast<off_t>(std::min(piece, tensor.nbytes() - offset)), POSIX_FADV_WILLNEED);
}

void advise_huge_pages(void* data, std::size_t length) {
    constexpr std::size_t huge = std::size_t{2} << 20;
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + huge - 1) & ~(huge - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + length) & ~(huge - 1);
    // Advice only: failure (THP compiled out) leaves ordinary pages.
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace sy
