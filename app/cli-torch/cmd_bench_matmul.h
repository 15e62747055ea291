#pragma once
// Hidden verb for bench/trace_bench.sh (issue 3 item 10); not listed in --help.
#include "verbs.h"

namespace sy::cli {

Verb add_bench_matmul(CLI::App& root);

}  // namespace sy::cli
