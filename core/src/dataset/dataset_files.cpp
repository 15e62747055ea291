// Which files a --data argument stands for: data files as given, folders walked in sorted order.
#include <algorithm>

#include "dataset_record.h"
#include "switchyard/core/dataset.h"
#include "switchyard/core/errors.h"

namespace sy {

DataFileKind data_file_kind(const std::filesystem::path& path) {
    const std::string ext = path.extension().string();
    if (ext == ".jsonl" || ext == ".ndjson") return DataFileKind::jsonl;
    if (ext == ".txt") return DataFileKind::text;
    return DataFileKind::unsupported;
}

std::vector<std::filesystem::path> expand_dataset_files(const std::vector<std::filesystem::path>& files) {
    namespace fs = std::filesystem;
    SY_CHECK(!files.empty(), UsageError, "no data files given (--data FILE)");
    std::vector<fs::path> expanded;
    for (const fs::path& path : files) {
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            std::vector<fs::path> found;
            for (const auto& entry : fs::recursive_directory_iterator(path))
                if (entry.is_regular_file() && data_file_kind(entry.path()) != DataFileKind::unsupported)
                    found.push_back(entry.path());
            std::sort(found.begin(), found.end());
            SY_CHECK(!found.empty(), UsageError, path.string() + ": folder holds no .jsonl or .txt files");
            expanded.insert(expanded.end(), found.begin(), found.end());
            continue;
        }
        SY_CHECK(fs::exists(path, ec), IoError, path.string() + ": no such file");
        SY_CHECK(data_file_kind(path) != DataFileKind::unsupported, UsageError,
                 path.string() + ": unsupported data file (expected .jsonl, .ndjson or .txt)");
        expanded.push_back(path);
    }
    return expanded;
}

}  // namespace sy
