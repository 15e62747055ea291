#pragma once
// Shared test helpers: data locations and a self-removing temporary folder.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace sy::test {

inline std::filesystem::path data_dir() { return SY_TEST_DATA_DIR; }
inline std::filesystem::path examples_dir() { return SY_EXAMPLES_DIR; }
// tests/cli, beside the data folder (__FILE__ is relative when ccache rewrites paths with base_dir).
inline std::filesystem::path cli_test_dir() { return data_dir().parent_path() / "cli"; }

class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        m_path = std::filesystem::temp_directory_path() /
                 ("switchyard-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

}  // namespace sy::test
