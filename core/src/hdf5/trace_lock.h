#pragma once
// Who else has a trace open, so that `trace --resume` and `trace --force` can tell a live writer
// from one that was killed (README "trace", docs/hdf5-schema.md "Writers and locks").
//
// HDF5 1.10 alone cannot tell: a SWMR writer drops HDF5's own file lock as soon as SWMR starts,
// and a writer killed by SIGKILL or a power cut leaves the superblock marked "open for writing"
// exactly as a live one does. So every TraceWriter also holds, for as long as it has the file
// open, an exclusive open-file-description lock (fcntl F_OFD_SETLK) on one byte far past the end
// of the data, plus one at an offset encoding its process id. The kernel drops both when the
// writer dies in any way, so "no one holds the writer byte" means "no live writer". OFD locks
// and HDF5's flock() locks are independent on Linux, and nothing in HDF5 touches those offsets.
//
// Readers are told apart by HDF5's own flock(): a program that opened the file without SWMR
// (h5py's default File(path), h5dump) holds a shared flock for as long as the file is open.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sy {

class TraceWriteLock {
public:
    TraceWriteLock() = default;
    // Opens `path` (which must exist) and takes the writer lock. Throws UsageError naming the
    // holder's process id when a live writer (another process, or another writer object in
    // this one) has it; IoError when the file cannot be opened.
    static TraceWriteLock acquire(const std::filesystem::path& path);
    TraceWriteLock(TraceWriteLock&& other) noexcept;
    TraceWriteLock& operator=(TraceWriteLock&& other) noexcept;
    TraceWriteLock(const TraceWriteLock&) = delete;
    TraceWriteLock& operator=(const TraceWriteLock&) = delete;
    ~TraceWriteLock();

    bool held() const { return m_fd >= 0; }
    void release();   // drops the locks (closing our descriptor)

private:
    int m_fd = -1;
};

// Process ids holding a flock() on `path`: HDF5 programs that have it open without SWMR. Read
// from /proc/locks; empty when none (or /proc is not mounted).
std::vector<pid_t> flock_holders(const std::filesystem::path& path);

// True when some process holds a flock() on `path` (tested with a non-blocking flock of our own,
// released at once), whether or not /proc/locks names it.
bool flock_held(const std::filesystem::path& path);

// "process 1234 (python3)" for messages; the name from /proc/<pid>/comm when readable.
std::string describe_process(pid_t pid);

}  // namespace sy
