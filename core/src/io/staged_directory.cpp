#include "switchyard/core/staged_directory.h"

#include <unistd.h>

#include "switchyard/core/errors.h"

namespace fs = std::filesystem;

namespace sy {

StagedDirectory::StagedDirectory(const fs::path& target, bool replace_existing)
    : m_target(fs::absolute(target).lexically_normal()), m_replace_existing(replace_existing) {
    if (m_target.filename().empty()) m_target = m_target.parent_path();
    std::error_code ec;
    if (fs::exists(m_target, ec)) {
        if (!fs::is_directory(m_target, ec)) throw UsageError(m_target.string() + ": exists and is not a directory");
        if (!fs::is_empty(m_target, ec) && !replace_existing)
            throw UsageError(m_target.string() + ": output folder exists and is not empty (use --force to replace it)");
    }
    if (!fs::is_directory(m_target.parent_path(), ec))
        throw IoError(m_target.parent_path().string() + ": parent folder of the output does not exist");
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
