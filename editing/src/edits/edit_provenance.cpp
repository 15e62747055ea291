#include "edit_provenance.h"

#include <fstream>
#include <sstream>

#include "output_files.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/utc_time.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

nlohmann::ordered_json input_record(const fs::path& dir) {
    const fs::path config = dir / "config.json";
    return {{"path", fs::absolute(dir).lexically_normal().string()}, {"config_sha256", sha256_file(config)}};
}

}  // namespace

nlohmann::ordered_json edit_record_head(const std::vector<fs::path>& inputs, const std::string& command_line) {
    nlohmann::ordered_json others = nlohmann::ordered_json::array();
    for (std::size_t i = 1; i < inputs.size(); ++i) others.push_back(input_record(inputs[i]));
    return {{"format", "switchyard-edit"},
            {"format_version", 1},
            {"tool_version", std::string("switchyard ") + SWITCHYARD_VERSION},
            {"created", utc_now_iso8601()},
            {"command_line", command_line},
            {"source", input_record(inputs.at(0))},
            {"sources", others}};
}

void write_edit_provenance(const fs::path& out_dir, const std::vector<fs::path>& inputs, const std::string& command_line,
                           const nlohmann::ordered_json& edits, const nlohmann::json& expert_map) {
    nlohmann::ordered_json record = edit_record_head(inputs, command_line);
    record["edits"] = edits;
    record["expert_map"] = expert_map;
    write_text(out_dir / k_edit_provenance_file, record.dump(2) + "\n");
}

}  // namespace sy
