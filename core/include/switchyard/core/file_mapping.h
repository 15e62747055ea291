#pragma once
// Read-only memory mapping of a whole file (RAII, pimpl so <sys/mman.h> stays out of headers).
// Mapping reserves address space only; pages are read when touched, so a 90 GB checkpoint
// costs nothing until its tensors are used.
#include <cstddef>
#include <filesystem>
#include <memory>

namespace sy {

class FileMapping {
public:
    explicit FileMapping(const std::filesystem::path& path);   // throws IoError
    FileMapping(FileMapping&&) noexcept;
    FileMapping& operator=(FileMapping&&) noexcept;
    ~FileMapping();

    const std::byte* data() const;
    std::size_t size() const;
    // Tells the kernel these bytes will not be needed again soon (streamed export/compute).
    void release_pages(std::size_t offset, std::size_t length) const;
    // Maps these bytes' pages now, reading from disk what the page cache lacks
    // (MADV_POPULATE_READ, Linux 5.14): one call instead of a page fault per 4 KiB when they are
    // first read. Advice only: on older kernels the pages fault in on use.
    void populate_pages(std::size_t offset, std::size_t length) const;
    // Fraction (0..1) of the pages holding these bytes that are in the page cache (mincore).
    // Since Linux 5.2 that is only what the kernel tells a process that owns the file or may
    // write it; for others, the pages this process has mapped, so the answer can be low but
    // never high. 0 for an empty range or a failed call.
    double cached_fraction(std::size_t offset, std::size_t length) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace sy
