#include "switchyard/core/staged_directory.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "switchyard/core/errors.h"

namespace fs = std::filesystem;

namespace sy {

namespace {

fs::path folder_path(const fs::path& target) {
    fs::path path = fs::absolute(target).lexically_normal();
    return path.filename().empty() ? path.parent_path() : path;   // "out/" names the folder "out"
}

}  // namespace

void StagedDirectory::check_target(const fs::path& target, bool replace_existing) {
    const fs::path path = folder_path(target);
    std::error_code ec;
    if (fs::exists(path, ec)) {
        SY_CHECK(fs::is_directory(path, ec), UsageError, target.string() + ": exists and is not a folder");
        SY_CHECK(replace_existing || fs::is_empty(path, ec), UsageError,
                 target.string() + ": exists and is not empty (--force replaces it)");
    }
    const fs::path folder = path.parent_path();
    SY_CHECK(fs::is_directory(folder, ec), UsageError, target.string() + ": folder " + folder.string() + " does not exist");
    SY_CHECK(::access(folder.c_str(), W_OK | X_OK) == 0, UsageError,
             target.string() + ": cannot write into folder " + folder.string() + " (" + std::strerror(errno) + ")");
}

StagedDirectory::StagedDirectory(const fs::path& target, bool replace_existing)
    : m_target(folder_path(target)), m_replace_existing(replace_existing) {
    check_target(target, replace_existing);
    std::error_code ec;
    m_staging = m_target.parent_path() / ("." + m_target.filename().string() + ".partial-" + std::to_string(::getpid()));
    fs::remove_all(m_staging, ec);
    if (!fs::create_directory(m_staging, ec))
        throw IoError(m_staging.string() + ": cannot create: " + ec.message());
}

StagedDirectory::~StagedDirectory() {
    if (!m_committed) {
        std::error_code ec;
        fs::remove_all(m_staging, ec);
    }
}

void StagedDirectory::commit() {
    std::error_code ec;
    if (fs::exists(m_target, ec)) {
        // Only now, with the new folder complete, is the old one removed.
        fs::remove_all(m_target, ec);
        if (ec) throw IoError(m_target.string() + ": cannot replace: " + ec.message());
    }
    fs::rename(m_staging, m_target, ec);
    if (ec) throw IoError(m_target.string() + ": cannot rename the finished output into place: " + ec.message());
    m_committed = true;
}

}  // namespace sy
