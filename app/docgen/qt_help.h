#pragma once
// The workbench parses its command line with Qt's QCommandLineParser, not CLI11: its page is made
// from what `switchyard-gui --help` prints (run with the offscreen platform, so no display is
// needed), which comes from the same QCommandLineOption objects as its parsing.
#include <string>

#include "cli_doc.h"

namespace sy::docgen {

// Parses QCommandLineParser's help text ("Usage: ...", description, "Options:", "Arguments:").
ProgramDoc parse_qt_help(const std::string& executable, const std::string& help);
// Runs `executable --help` with QT_QPA_PLATFORM=offscreen and parses it; throws std::runtime_error.
ProgramDoc read_qt_program(const std::string& executable_path, const std::string& version);

}  // namespace sy::docgen
