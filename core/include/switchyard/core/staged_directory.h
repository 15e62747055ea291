#pragma once
// Output folders are written under a temporary name beside the target and renamed when complete
// (DEVELOPERS.md "Nothing is lost"). An uncommitted staging folder is removed on destruction.
#include <filesystem>

namespace sy {

class StagedDirectory {
public:
    // Refuses a non-empty `target` unless `replace_existing`; throws UsageError / IoError.
    StagedDirectory(const std::filesystem::path& target, bool replace_existing);
    StagedDirectory(const StagedDirectory&) = delete;
    StagedDirectory& operator=(const StagedDirectory&) = delete;
    ~StagedDirectory();

    const std::filesystem::path& path() const { return m_staging; }  // write here
    void commit();                                                  // rename onto the target

private:
    std::filesystem::path m_target;
    std::filesystem::path m_staging;
    bool m_replace_existing;
    bool m_committed = false;
};

}  // namespace sy
