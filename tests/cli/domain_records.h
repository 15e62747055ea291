#pragma once
// Per-domain slices of a JSONL corpus ({"domain": ..., "text": ...} per line, as
// ../shared/data/corpus and tests/data/corpus) for the tests that train on or forget one domain.
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace sy::test {

// Writes the records of `source` whose domain is `domain` (keep) or is not (!keep) to `out`;
// returns `out`. The records keep their order and bytes.
inline std::filesystem::path domain_records(const std::filesystem::path& source, const std::filesystem::path& out,
                                            const std::string& domain, bool keep = true) {
    std::filesystem::create_directories(out.parent_path());
    std::ifstream in(source);
    std::ofstream o(out);
    std::string line;
    while (std::getline(in, line))
        if ((nlohmann::json::parse(line).value("domain", "") == domain) == keep) o << line << "\n";
    return out;
}

}  // namespace sy::test
