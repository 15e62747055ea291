#pragma once
// Routing-analysis verbs over a trace file (issue 4): stats, affinity, place, compare. Each reads
// the trace chunk by chunk (bounded memory) and prints a summary or, with --json, one object.
#include <optional>
#include <string>
#include <vector>

#include "progress_stderr.h"
#include "switchyard/core/result_store.h"
#include "verbs.h"

namespace sy::cli {

Verb add_stats(CLI::App& root);
Verb add_affinity(CLI::App& root);
Verb add_place(CLI::App& root);
Verb add_compare(CLI::App& root);

// Default tokens per chunk read from the trace (--chunk-tokens).
inline constexpr int64_t analysis_chunk_tokens = 65536;

// `-o OUT.h5 [--force]`: results into an HDF5 file of their own (docs/hdf5-schema.md,
// "Analysis result files").
struct ResultOutput {
    std::string path;
    bool force = false;
};

inline void add_result_output(CLI::App* cmd, ResultOutput& out) {
    cmd->add_option("-o,--output", out.path, "Also write the results to this HDF5 file (never the input trace)");
    cmd->add_flag("--force", out.force, "Replace an existing -o file");
}

// Opened before the analysis runs, so a bad OUT fails in milliseconds, not after the scan; the
// file appears under its name only at commit().
inline std::optional<ResultFile> open_result(const ResultOutput& out, const std::string& kind,
                                             const std::vector<std::filesystem::path>& inputs) {
    if (out.path.empty()) return std::nullopt;
    return ResultFile::create(out.path, ResultProvenance{kind, command_line(), inputs}, out.force);
}

}  // namespace sy::cli
