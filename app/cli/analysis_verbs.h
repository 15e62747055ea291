#pragma once
// Routing-analysis verbs over a trace file: stats, affinity, place, compare. Each reads
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

// Flags every trace-scanning verb shares: --json, --chunk-tokens, -q, -o/--force.
struct TraceScanFlags {
    bool json = false, quiet = false;
    int64_t chunk = analysis_chunk_tokens;
    ResultOutput output;
};

inline void add_trace_scan_flags(CLI::App* cmd, TraceScanFlags& flags) {
    cmd->add_flag("--json", flags.json, "Print one JSON object instead of text");
    cmd->add_option("--chunk-tokens", flags.chunk, "Tokens read per chunk (bounds memory)")
        ->check(positive())
        ->capture_default_str();
    add_progress_flags(cmd, flags.quiet);
    add_result_output(cmd, flags.output);
}

// Runs one pass over trace files with progress on stderr; Ctrl-C / SIGTERM cancel it (exit 130).
template <typename Scan>
auto run_scan(const TraceScanFlags& flags, Scan&& scan) {
    StderrProgress progress(flags.quiet);
    ProgressLineGuard line{progress};
    auto result = scan(progress, install_cancel_handler());
    progress.done();
    return result;
}

// Writes the results into the -o file, if one was asked for, and publishes it under its name.
template <typename Save>
void save_result(std::optional<ResultFile>& file, Save&& save) {
    if (!file) return;
    save(*file);
    file->commit();
}

}  // namespace sy::cli
