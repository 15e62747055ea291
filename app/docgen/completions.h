#pragma once
// Shell completion scripts for the front end, from the command tree of every program: verbs,
// their options, the choices of options that have them (CLI::IsMember), file names elsewhere.
#include <string>
#include <vector>

#include "cli_doc.h"

namespace sy::docgen {

std::string bash_completion(const std::vector<ProgramDoc>& programs);
std::string zsh_completion(const std::vector<ProgramDoc>& programs);

}  // namespace sy::docgen
