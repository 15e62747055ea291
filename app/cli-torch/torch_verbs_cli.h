#pragma once
// The forward-pass verbs of switchyard-torch, one per file (style.md rule 10); same Verb shape
// as the main CLI's verbs.h.
#include "verbs.h"

namespace sy::cli {

Verb add_trace(CLI::App& root);
Verb add_eval(CLI::App& root);
Verb add_similarity(CLI::App& root);
Verb add_score(CLI::App& root);
Verb add_prune(CLI::App& root);
Verb add_merge(CLI::App& root);
Verb add_apply(CLI::App& root);
Verb add_upcycle(CLI::App& root);
Verb add_unlearn(CLI::App& root);
Verb add_tune(CLI::App& root);

}  // namespace sy::cli
