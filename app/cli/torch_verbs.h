#pragma once
// Verbs that need LibTorch (the forward pass, scoring, expert edits) live in the `switchyard-torch`
// helper binary beside this one, git-style: loading LibTorch costs ~0.6 s and ~290 shared
// libraries, which inspect, tokenize and export must not pay.
#include <string>

namespace sy::cli {

// If argv names a torch verb, replaces this process with switchyard-torch (never returns on
// success) or returns the exit code of the failure; returns -1 when argv is not a torch verb.
int exec_torch_verb(int argc, char** argv);

// "trace, eval, ..." for --help.
std::string torch_verb_list();

}  // namespace sy::cli
