#pragma once
// Manual pages in man(7) format from the command tree: switchyard(1), one page per verb
// (switchyard-trace(1), ...) and one per helper program (switchyard-torch(1)).
#include <filesystem>
#include <vector>

#include "cli_doc.h"

namespace sy::docgen {

// programs[0] is the front end (`switchyard`), the others are the helpers it runs for their verbs;
// `gui` (may be null) is the workbench. Writes <dir>/<name>.1 and returns the paths written.
std::vector<std::filesystem::path> write_man_pages(const std::vector<ProgramDoc>& programs, const ProgramDoc* gui,
                                                   const std::filesystem::path& dir);

}  // namespace sy::docgen
