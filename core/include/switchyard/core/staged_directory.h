#pragma once
// Output folders are written under a temporary name beside the target and renamed when complete
// (DEVELOPERS.md "Nothing is lost"). An uncommitted staging folder is removed on destruction.
#include <filesystem>

namespace sy {

class StagedDirectory {
public:
    // Refuses what check_target refuses; throws UsageError, or IoError when staging fails.
    StagedDirectory(const std::filesystem::path& target, bool replace_existing);

    // The checks the constructor makes before it creates anything, for callers that must know
    // before long work (the edit verbs, before a calibration pass or training): `target` is a
    // folder or absent, empty unless `replace_existing`, and its folder exists and takes new
    // entries. Throws UsageError.
    static void check_target(const std::filesystem::path& target, bool replace_existing);
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
