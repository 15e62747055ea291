#include "switchyard/core/output_paths.h"

#include <string>

#include "switchyard/core/errors.h"

namespace fs = std::filesystem;

namespace sy {

namespace {

// Symlinks resolved as far as the path exists; where that fails (a folder that cannot be read),
// the absolute path as written.
fs::path resolved(const fs::path& path) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec);
    if (ec) return path.lexically_normal();
    const fs::path canonical = fs::weakly_canonical(absolute, ec);
    return ec ? absolute.lexically_normal() : canonical;
}

}  // namespace

bool path_is_within(const fs::path& path, const fs::path& folder) {
    const fs::path relative = resolved(path).lexically_relative(resolved(folder));
    return !relative.empty() && *relative.begin() != "..";
}

void check_output_outside_model(const fs::path& output, const fs::path& model_dir, const std::string& flag) {
    SY_CHECK(!path_is_within(output, model_dir), UsageError,
             flag + " " + output.string() + ": inside the model folder " + model_dir.string() +
                 ", which a run only reads; write it elsewhere");
}

}  // namespace sy
