#include "weights/tensor_file_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

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

// O_DIRECT's alignment of file offsets, lengths and memory: the logical block size, at most
// 4 KiB on the devices we meet (statx's STATX_DIOALIGN would say, but needs Linux 6.1 headers).
constexpr uint64_t kDirectAlign = 4096;

ssize_t pread_full(int fd, char* dst, uint64_t length, uint64_t offset) {
    uint64_t done = 0;
    while (done < length) {
        const ssize_t got = ::pread(fd, dst + done, length - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -1;
        if (got == 0) break;   // end of file
        done += static_cast<uint64_t>(got);
    }
    return static_cast<ssize_t>(done);
}

}  // namespace

struct TensorFileReader::AlignedBuffer {
    char* data;
    AlignedBuffer() : data(static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectPiece + 2 * kDirectAlign))) {
        if (!data) throw std::bad_alloc();
    }
    ~AlignedBuffer() { std::free(data); }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
};

TensorFileReader::TensorFileReader(const Checkpoint& checkpoint) : m_checkpoint(checkpoint) {
    for (const std::string& name : checkpoint.files()) {
        const std::string path = (checkpoint.dir() / name).string();
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            close_files();
            throw IoError(path + ": cannot open: " + std::strerror(err));
        }
        m_fds.push_back(fd);
        try {
            m_data_offsets.push_back(data_section_offset(fd, path));
        } catch (...) {
            close_files();
            throw;
        }
    }
    m_direct_fds.assign(m_fds.size(), -1);
    m_direct_opened = std::make_unique<std::once_flag[]>(m_fds.size());
}

TensorFileReader::~TensorFileReader() { close_files(); }

int TensorFileReader::direct_fd(std::size_t file) const {
    // -1 where the file system refuses O_DIRECT (tmpfs: EINVAL); read_direct then declines.
    int& fd = m_direct_fds.at(file);
    std::call_once(m_direct_opened[file], [&] {
        const std::string path = (m_checkpoint.dir() / m_checkpoint.files()[file]).string();
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
    });
    return fd;
}

void TensorFileReader::close_files() noexcept {
    for (int fd : m_fds) ::close(fd);
    for (int fd : m_direct_fds)
        if (fd >= 0) ::close(fd);
}

uint64_t TensorFileReader::file_offset(const TensorInfo& tensor, uint64_t begin, uint64_t length) const {
    SY_CHECK(begin + length <= tensor.nbytes(), CheckpointError,
             tensor.name + ": read of bytes [" + std::to_string(begin) + ", " + std::to_string(begin + length) +
                 ") past its " + std::to_string(tensor.nbytes()) + " bytes");
    return m_data_offsets[tensor.file_index] + tensor.data_begin + begin;
}

void TensorFileReader::check_read(const TensorInfo& tensor, ssize_t got, uint64_t wanted) const {
    if (got >= 0 && static_cast<uint64_t>(got) >= wanted) return;
    const std::string why = got < 0 ? std::strerror(errno) : "file ends early (changed since it was opened?)";
    throw IoError(m_checkpoint.files()[tensor.file_index] + ": tensor " + tensor.name + ": cannot read: " + why);
}

void TensorFileReader::read(const TensorInfo& tensor, uint64_t begin, uint64_t length, void* out) const {
    const uint64_t offset = file_offset(tensor, begin, length);
    check_read(tensor, pread_full(m_fds.at(tensor.file_index), static_cast<char*>(out), length, offset), length);
}

bool TensorFileReader::reads_direct(const TensorInfo& tensor) const { return direct_fd(tensor.file_index) >= 0; }

std::unique_ptr<TensorFileReader::AlignedBuffer> TensorFileReader::take_direct_buffer() const {
    {
        std::lock_guard<std::mutex> lock(m_buffers_mutex);
        if (!m_direct_buffers.empty()) {
            std::unique_ptr<AlignedBuffer> buffer = std::move(m_direct_buffers.back());
            m_direct_buffers.pop_back();
            return buffer;
        }
    }
    return std::make_unique<AlignedBuffer>();
}

void TensorFileReader::give_direct_buffer(std::unique_ptr<AlignedBuffer> buffer) const {
    std::lock_guard<std::mutex> lock(m_buffers_mutex);
    m_direct_buffers.push_back(std::move(buffer));
}

bool TensorFileReader::read_direct(const TensorInfo& tensor, uint64_t begin, uint64_t length, uint64_t unit,
                                   const std::function<void(const char*, uint64_t, uint64_t)>& consume) const {
    const int fd = direct_fd(tensor.file_index);
    const uint64_t first = file_offset(tensor, begin, length), end = first + length;
    if (fd < 0 || unit == 0 || kDirectAlign % unit != 0 || first % unit != 0 || length % unit != 0) return false;
    // Back to the pool however this ends (declined, a failed read, consume throwing).
    const auto give_back = [this](AlignedBuffer* b) { give_direct_buffer(std::unique_ptr<AlignedBuffer>(b)); };
    const std::unique_ptr<AlignedBuffer, decltype(give_back)> buffer(take_direct_buffer().release(), give_back);
    // Pieces start at block boundaries in the file (all but the first) so none is read twice;
    // a piece's bytes before `first` or past `end` are read and skipped.
    for (uint64_t at = first - first % kDirectAlign; at < end; at += kDirectPiece) {
        const uint64_t piece_end = std::min(at + kDirectPiece, end);
        const uint64_t aligned_length = (piece_end - at + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
        const ssize_t got = pread_full(fd, buffer->data, aligned_length, at);
        if (got < 0 && errno == EINVAL && at <= first) return false;   // refused before anything was consumed
        check_read(tensor, got, piece_end - at);
        const uint64_t from = std::max(at, first);
        consume(buffer->data + (from - at), from - first, piece_end - from);
    }
    return true;
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
