#pragma once
// What `trace -o` checks before it creates or replaces anything (README "trace"): the output is
// none of the run's inputs, and the first batch of the data reads cleanly.
#include <filesystem>
#include <vector>

#include "switchyard/compute/trace_job.h"

namespace sy {

// UsageError when `output` is one of the data files or a file of the model folder (config.json,
// tokenizer files, shards): `--force` must never replace an input.
void check_trace_output_is_no_input(const Model& model, const std::filesystem::path& output,
                                    const std::vector<std::filesystem::path>& data_files);

// Reads the first batch for a new trace (not for --resume, which reads up to its own position):
// every record of it parsed, tokenized and its ids checked against the vocabulary before the
// output is touched, so bad data never costs an existing file. UsageError for a dataset without
// a single token. Returns false for --resume (no batch read).
bool read_first_batch(const TraceOptions& options, DatasetReader& reader, DatasetBatch& batch);

}  // namespace sy
