#pragma once
// Hidden verbs for bench/trace_bench.sh and bench/load_bench.sh; not listed in --help.
#include "verbs.h"

namespace sy::cli {

Verb add_bench_matmul(CLI::App& root);
Verb add_bench_load(CLI::App& root);

}  // namespace sy::cli
