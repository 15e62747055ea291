#pragma once
// Routing-analysis verbs over a trace file (issue 4): stats, affinity, place, compare. Each reads
// the trace chunk by chunk (bounded memory) and prints a summary or, with --json, one object.
#include "verbs.h"

namespace sy::cli {

Verb add_stats(CLI::App& root);
Verb add_affinity(CLI::App& root);
Verb add_place(CLI::App& root);
Verb add_compare(CLI::App& root);

// Default tokens per chunk read from the trace (--chunk-tokens).
inline constexpr int64_t analysis_chunk_tokens = 65536;

}  // namespace sy::cli
