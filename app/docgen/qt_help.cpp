#include "qt_help.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace sy::docgen {
namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(' ');
    return first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// "  -t, --trace <FILE>      Trace file (.h5) to open": the name column ends at two blanks.
OptionDoc parse_entry(const std::string& line, bool argument) {
    const std::string body = trim(line);
    const auto gap = body.find("  ");
    const std::string names = body.substr(0, gap);
    OptionDoc o;
    o.description = gap == std::string::npos ? "" : trim(body.substr(gap));
    if (argument) {
        o.positional = names;
        return o;
    }
    std::string value;
    std::istringstream words(names);
    for (std::string word; words >> word;) {
        if (!word.empty() && word.back() == ',') word.pop_back();
        if (word.front() == '<') value = word.substr(1, word.size() - 2);
        else o.names.push_back(word);
    }
    o.flag = value.empty();
    o.type = value;
    return o;
}

}  // namespace

ProgramDoc parse_qt_help(const std::string& executable, const std::string& help) {
    ProgramDoc program;
    program.executable = executable;
    program.root.name = executable;
    std::istringstream in(help);
    std::string line, section;
    std::vector<OptionDoc>* entries = &program.root.options;
    bool continued = false;
    while (std::getline(in, line)) {
        if (line.rfind("Usage:", 0) == 0) continue;
        if (line == "Options:" || line == "Arguments:") {
            section = line;
            continue;
        }
        if (section.empty()) {
            if (!trim(line).empty()) program.root.description += (program.root.description.empty() ? "" : " ") + trim(line);
            continue;
        }
        if (trim(line).empty()) {
            continued = false;
            continue;
        }
        // Entries start at column 2; wrapped descriptions continue further right.
        const bool entry = line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ';
        if (entry) {
            entries->push_back(parse_entry(line, section == "Arguments:"));
            continued = true;
        } else if (continued && !entries->empty()) {
            entries->back().description += " " + trim(line);
        }
    }
    if (program.root.description.empty()) throw std::runtime_error(executable + " --help: no description");
    return program;
}

ProgramDoc read_qt_program(const std::string& executable_path, const std::string& version) {
    const std::string text = run_and_capture(
        "QT_QPA_PLATFORM=offscreen " + shell_quote(executable_path) + " --help 2>/dev/null");   // Qt warns about XDG_RUNTIME_DIR
    ProgramDoc program = parse_qt_help(std::filesystem::path(executable_path).filename().string(), text);
    program.version = version;
    return program;
}

}  // namespace sy::docgen
