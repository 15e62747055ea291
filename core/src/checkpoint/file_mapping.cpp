#include "switchyard/core/file_mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "switchyard/core/errors.h"

namespace sy {

struct FileMapping::Impl {
    void* base = nullptr;
    std::size_t size = 0;
    ~Impl() {
        if (base && size) munmap(base, size);
    }
};

FileMapping::FileMapping(const std::filesystem::path& path) : m_impl(std::make_unique<Impl>()) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw IoError(path.string() + ": cannot stat: " + std::strerror(err));
    }
    m_impl->size = static_cast<std::size_t>(st.st_size);
    if (m_impl->size > 0) {
        void* p = mmap(nullptr, m_impl->size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            throw IoError(path.string() + ": cannot map: " + std::strerror(err));
        }
        m_impl->base = p;
    }
    ::close(fd);  // the mapping keeps the file alive
}

FileMapping::FileMapping(FileMapping&&) noexcept = default;
FileMapping& FileMapping::operator=(FileMapping&&) noexcept = default;
FileMapping::~FileMapping() = default;

const std::byte* FileMapping::data() const { return static_cast<const std::byte*>(m_impl->base); }
std::size_t FileMapping::size() const { return m_impl->size; }

namespace {

// madvise(advice) on the whole pages holding [offset, offset + length) of the mapping.
void advise_pages(void* base, std::size_t size, std::size_t offset, std::size_t length, int advice) {
    if (!base || offset >= size) return;
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::size_t begin = (offset / page) * page;
    std::size_t end = std::min(offset + length, size);
    madvise(static_cast<char*>(base) + begin, end - begin, advice);
}

}  // namespace

void FileMapping::release_pages(std::size_t offset, std::size_t length) const {
    // MADV_DONTNEED on a read-only shared file mapping just drops our page references.
    advise_pages(m_impl->base, m_impl->size, offset, length, MADV_DONTNEED);
}

void FileMapping::populate_pages(std::size_t offset, std::size_t length) const {
#ifndef MADV_POPULATE_READ
    constexpr int MADV_POPULATE_READ = 22;   // linux/mman.h, 5.14; older glibc headers lack it
#endif
    advise_pages(m_impl->base, m_impl->size, offset, length, MADV_POPULATE_READ);
}

double FileMapping::cached_fraction(std::size_t offset, std::size_t length) const {
    if (!m_impl->base || offset >= m_impl->size || length == 0) return 0.0;
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t begin = (offset / page) * page, end = std::min(offset + length, m_impl->size);
    std::vector<unsigned char> present((end - begin + page - 1) / page);
    if (mincore(static_cast<char*>(m_impl->base) + begin, end - begin, present.data()) != 0) return 0.0;
    std::size_t cached = 0;
    for (unsigned char p : present) cached += p & 1;
    return static_cast<double>(cached) / static_cast<double>(present.size());
}

}  // namespace sy
