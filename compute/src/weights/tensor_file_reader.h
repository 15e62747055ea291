#pragma once
// Reads tensor bytes from the checkpoint's files with pread into memory the caller owns, instead
// of copying out of the mapping. Why (measured on the 2-core dev VM, bench/README.md "Trace
// throughput"): copying a cold 2.5 GB range out of the mmap ran at 0.16 GB/s, one page fault
// per 4 KiB on the source and on the fresh destination; pread into a destination advised
// MADV_HUGEPAGE ran at 1.6-2.1 GB/s, the disk's own speed. It also keeps the source pages out
// of the process's RSS, so a streamed layer counts once against --max-memory.
// Thread-safe: the files are opened in the constructor and only pread afterwards.
#include <cstddef>
#include <cstdint>
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

private:
    const Checkpoint& m_checkpoint;
    std::vector<int> m_fds;                 // per Checkpoint::files() entry
    std::vector<uint64_t> m_data_offsets;   // file offset of each file's data section
};

// Asks the kernel for transparent huge pages on [data, data + length) (the 2 MiB-aligned part
// inside it). Call before first touch; a no-op where THP is off.
void advise_huge_pages(void* data, std::size_t length);

}  // namespace sy
