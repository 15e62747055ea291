#pragma once
// Reads tensor bytes from the checkpoint's files with pread into memory the caller owns, instead
// of copying out of the mapping. Why (measured on the 2-core dev VM, bench/README.md "Trace
// throughput"): copying a cold 2.5 GB range out of the mmap ran at 0.16 GB/s, one page fault
// per 4 KiB on the source and on the fresh destination; pread into a destination advised
// MADV_HUGEPAGE ran at 1.6-2.1 GB/s, the disk's own speed. It also keeps the source pages out
// of the process's RSS, so a streamed layer counts once against --max-memory.
// Thread-safe: the files are opened in the constructor (a file's O_DIRECT descriptor on its first
// direct read, once) and only pread afterwards.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "switchyard/core/checkpoint.h"

namespace sy {

class TensorFileReader {
public:
    explicit TensorFileReader(const Checkpoint& checkpoint);   // throws IoError
    ~TensorFileReader();
    TensorFileReader(const TensorFileReader&) = delete;
    TensorFileReader& operator=(const TensorFileReader&) = delete;

    // Copies bytes [begin, begin + length) of `tensor`'s data into `out` (length bytes).
    void read(const TensorInfo& tensor, uint64_t begin, uint64_t length, void* out) const;
    // Starts reading `tensor`'s bytes into the page cache in the background (readahead), so a
    // later read() finds them there; nothing enters this process's RSS.
    void will_need(const TensorInfo& tensor) const;

    // Reads bytes [begin, begin + length) of `tensor` past the page cache (O_DIRECT) in pieces of
    // at most kDirectPiece bytes, calling consume(data, offset, bytes) for each in order, where
    // `offset` counts from `begin` and every piece but the last is a multiple of `unit` bytes
    // (an element size: 1, 2, 4 or 8). `data` is valid only during the call. Why: a cold buffered
    // read cost the kernel 0.7-0.9 s of CPU per GB on the dev VM (page cache pages allocated,
    // filled, mapped, dropped) against 0.04-0.08 s for direct reads at the same disk speed
    // (`dd ... iflag=direct`, bench/README.md#load), and a streamed f32 trace is CPU-bound.
    // Returns false, having consumed nothing, where direct reads cannot serve the range: the
    // file system refuses O_DIRECT (tmpfs), or begin's file offset or length is not a multiple
    // of `unit`. The caller then reads another way. Throws IoError on a failed read. Any thread.
    bool read_direct(const TensorInfo& tensor, uint64_t begin, uint64_t length, uint64_t unit,
                     const std::function<void(const char* data, uint64_t offset, uint64_t bytes)>& consume) const;
    // Whether read_direct can serve `tensor`'s file at all (its O_DIRECT descriptor opens; the
    // first call for a file opens it).
    bool reads_direct(const TensorInfo& tensor) const;
    static constexpr uint64_t kDirectPiece = uint64_t{4} << 20;

private:
    struct AlignedBuffer;
    void close_files() noexcept;
    // File offset of bytes [begin, begin + length) of `tensor`; throws CheckpointError past its end.
    uint64_t file_offset(const TensorInfo& tensor, uint64_t begin, uint64_t length) const;
    // Throws IoError (file, tensor, errno or a short file) unless a read got `wanted` bytes.
    void check_read(const TensorInfo& tensor, ssize_t got, uint64_t wanted) const;
    // The file's O_DIRECT descriptor, opened by the first call for it; -1 where refused.
    int direct_fd(std::size_t file) const;
    std::unique_ptr<AlignedBuffer> take_direct_buffer() const;
    void give_direct_buffer(std::unique_ptr<AlignedBuffer> buffer) const;

    const Checkpoint& m_checkpoint;
    std::vector<int> m_fds;                 // per Checkpoint::files() entry
    // The same files opened O_DIRECT, on first use (direct_fd): only streamed f32 runs read
    // directly, and every descriptor counts against the process's limit (a DeepSeek-V3
    // checkpoint has 163 files). -1 where refused; written once, under m_direct_opened.
    mutable std::vector<int> m_direct_fds;
    mutable std::unique_ptr<std::once_flag[]> m_direct_opened;
    std::vector<uint64_t> m_data_offsets;   // file offset of each file's data section
    mutable std::mutex m_buffers_mutex;
    // read_direct's destinations, kept between reads: fresh pages cost a fault each (the dev VM
    // touches fresh memory at 0.4-1.5 GB/s).
    mutable std::vector<std::unique_ptr<AlignedBuffer>> m_direct_buffers;
};

// Asks the kernel for transparent huge pages on [data, data + length) (the 2 MiB-aligned part
// inside it). Call before first touch; a no-op where THP is off.
void advise_huge_pages(void* data, std::size_t length);

}  // namespace sy
