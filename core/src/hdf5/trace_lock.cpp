// Writer lock and reader detection for trace files; see trace_lock.h.
#include "trace_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "switchyard/core/errors.h"

namespace sy {
namespace {

// Far past any real file (locks beyond the end of a file are allowed and cost nothing).
constexpr off_t k_writer_byte = off_t(1) << 62;
constexpr off_t k_pid_base = k_writer_byte + 1;
constexpr off_t k_pid_span = off_t(1) << 23;   // Linux pid_max is at most 2^22 (PID_MAX_LIMIT)

bool lock_byte(int fd, off_t offset) {
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = offset;
    lock.l_len = 1;
    return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

// The pid a conflicting writer encoded in its lock offset; 0 when no such lock is held.
pid_t writer_pid(int fd) {
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = k_pid_base;
    probe.l_len = k_pid_span;
    if (::fcntl(fd, F_OFD_GETLK, &probe) != 0 || probe.l_type == F_UNLCK) return 0;
    return static_cast<pid_t>(probe.l_start - k_pid_base);
}

}  // namespace

TraceWriteLock TraceWriteLock::acquire(const std::filesystem::path& path) {
    TraceWriteLock lock;
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw IoError(path.string() + ": cannot open: " + std::strerror(errno));
    lock.m_fd = fd;
    if (!lock_byte(fd, k_writer_byte)) {
        if (errno != EAGAIN && errno != EACCES) {   // a filesystem without OFD locks: nothing to learn
            lock.release();
            return lock;
        }
        const pid_t pid = writer_pid(fd);
        lock.release();
        throw UsageError(path.string() + ": is being written by " + (pid > 0 ? describe_process(pid) : "another process") +
                         " right now; wait for it to finish or stop it, then run again");
    }
    lock_byte(fd, k_pid_base + ::getpid());   // only tells others who we are
    return lock;
}

TraceWriteLock::TraceWriteLock(TraceWriteLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

TraceWriteLock& TraceWriteLock::operator=(TraceWriteLock&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

TraceWriteLock::~TraceWriteLock() { release(); }

void TraceWriteLock::release() {
    if (m_fd >= 0) ::close(m_fd);   // closing the descriptor drops its OFD locks
    m_fd = -1;
}

std::vector<pid_t> flock_holders(const std::filesystem::path& path) {
    std::vector<pid_t> pids;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return pids;
    char device[64];
    std::snprintf(device, sizeof device, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) {
        // "1: FLOCK  ADVISORY  READ  12345 fe:00:5309052 0 EOF"; waiters have "->" before FLOCK.
        std::istringstream fields(line);
        std::string index, kind, mode, access, where;
        long pid = 0;
        if (!(fields >> index >> kind) || kind != "FLOCK") continue;
        if (fields >> mode >> access >> pid >> where && where == device && pid > 0) pids.push_back(pid_t(pid));
    }
    return pids;
}

bool flock_held(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);   // releases the probe lock if we got it
    return held;
}

std::string describe_process(pid_t pid) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    return "process " + std::to_string(pid) + (name.empty() ? "" : " (" + name + ")");
}

}  // namespace sy
