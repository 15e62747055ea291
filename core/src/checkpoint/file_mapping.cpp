#include "switchyard/core/file_mapping.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

void FileMapping::release_pages(std::size_t offset, std::size_t length) const {
    if (!m_impl->base || offset >= m_impl->size) return;
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::size_t begin = (offset / page) * page;
    std::size_t end = std::min(offset + length, m_impl->size);
    // MADV_DONTNEED on a read-only shared file mapping just drops our page references.
    madvise(static_cast<char*>(m_impl->base) + begin, end - begin, MADV_DONTNEED);
}

}  // namespace sy
