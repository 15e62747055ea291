// sy_docgen OUT_DIR FRONT_END [HELPER...] [--qt GUI]: man pages and shell completions for the
// Switchyard programs, generated at build time from their own command-line definitions (CLI11's,
// through `--cli-spec`; the workbench's QCommandLineParser, through `--help`), so that a verb
// registered in main() gets its page and completion with no other change. Not installed.
//   OUT_DIR/man1/<page>.1             switchyard(1), switchyard-<verb>(1), <helper>(1), <gui>(1)
//   OUT_DIR/completions/<front end>   bash
//   OUT_DIR/completions/_<front end>  zsh
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli_doc.h"
#include "completions.h"
#include "man_pages.h"
#include "qt_help.h"

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary);
    file << text;
    if (!file.flush()) throw std::runtime_error("cannot write " + path.string());
}

// Pages of verbs that no longer exist must not linger (and be installed).
void clear_pages(const fs::path& dir) {
    fs::create_directories(dir);
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".1" || entry.path().extension() == ".gz") fs::remove(entry.path());
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> programs_paths;
    std::string gui_path;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--qt") == 0 && i + 1 < argc) gui_path = argv[++i];
        else programs_paths.push_back(argv[i]);
    }
    if (argc < 3 || programs_paths.empty()) {
        std::cerr << "usage: sy_docgen OUT_DIR FRONT_END [HELPER...] [--qt GUI]\n";
        return 2;
    }
    try {
        const fs::path out = argv[1];
        std::vector<sy::docgen::ProgramDoc> programs;
        for (const std::string& path : programs_paths) programs.push_back(sy::docgen::read_program(path));
        std::optional<sy::docgen::ProgramDoc> gui;
        if (!gui_path.empty()) gui = sy::docgen::read_qt_program(gui_path, programs.front().version);
        clear_pages(out / "man1");
        sy::docgen::write_man_pages(programs, gui ? &*gui : nullptr, out / "man1");
        fs::create_directories(out / "completions");
        const std::string name = programs.front().executable;
        write_file(out / "completions" / name, sy::docgen::bash_completion(programs));
        write_file(out / "completions" / ("_" + name), sy::docgen::zsh_completion(programs));
    } catch (const std::exception& e) {
        std::cerr << "sy_docgen: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
