#pragma once
// ExportOptions from the flags every verb that writes a model takes (export; prune, merge, apply;
// tune, unlearn): output folder, stored dtype, largest shard, --force. The process's command line
// goes into the output's provenance. Throws UsageError for a bad dtype or size.
#include <string>

#include "progress_stderr.h"
#include "switchyard/editing/export.h"

namespace sy::cli {

inline ExportOptions export_options_from_flags(const std::string& output, const std::string& dtype,
                                               const std::string& shard_size, bool force) {
    ExportOptions options;
    options.output_dir = output;
    options.dtype = parse_export_dtype(dtype);
    options.shard_size_bytes = parse_byte_size(shard_size);
    options.force = force;
    options.command_line = command_line();
    return options;
}

}  // namespace sy::cli
