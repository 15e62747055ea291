#pragma once
// Hidden verb for bench/trace_bench.sh; not listed in --help.
#include "verbs.h"

namespace sy::cli {

Verb add_bench_matmul(CLI::App& root);

}  // namespace sy::cli
