#include "switchyard/core/output_paths.h"

#include <string>

#include "switchyard/core/errors.h"

namespace fs = std::filesystem;

namespace sy {

bool path_is_within(const fs::path& path, const fs::path& folder) {
    std::error_code ec;
    const fs::path child = fs::weakly_canonical(fs::absolute(path), ec);
    const fs::path parent = fs::weakly_canonical(fs::absolute(folder), ec);
    const fs::path relative = child.lexically_relative(parent);
    return !relative.empty() && *relative.begin() != "..";
}

void check_output_outside_model(const fs::path& output, const fs::path& model_dir, const std::string& flag) {
    SY_CHECK(!path_is_within(output, model_dir), UsageError,
             flag + " " + output.string() + ": inside the model folder " + model_dir.string() +
                 ", which a run only reads; write it elsewhere");
}

}  // namespace sy
