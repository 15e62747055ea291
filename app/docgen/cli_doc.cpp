#include "cli_doc.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace sy::docgen {
namespace {

OptionDoc read_option(const nlohmann::json& j) {
    OptionDoc o;
    o.names = j.at("names").get<std::vector<std::string>>();
    if (!j.at("positional").is_null()) o.positional = j.at("positional").get<std::string>();
    o.description = j.at("description").get<std::string>();
    if (!j.at("type").is_null()) o.type = j.at("type").get<std::string>();
    o.default_value = j.at("default").get<std::string>();
    o.env = j.at("env").get<std::string>();
    o.choices = j.at("choices").get<std::vector<std::string>>();
    o.required = j.at("required").get<bool>();
    o.flag = j.at("flag").get<bool>();
    o.multiple = j.at("multiple").get<bool>();
    o.hidden = j.at("hidden").get<bool>();
    return o;
}

CommandDoc read_command(const nlohmann::json& j) {
    CommandDoc c;
    c.name = j.at("name").get<std::string>();
    c.description = j.at("description").get<std::string>();
    c.footer = j.at("footer").get<std::string>();
    for (const auto& o : j.at("options")) {
        OptionDoc option = read_option(o);
        if (!option.hidden) c.options.push_back(std::move(option));
    }
    for (const auto& s : j.at("subcommands"))
        if (!s.at("hidden").get<bool>()) c.subcommands.push_back(read_command(s));
    return c;
}

}  // namespace

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string run_and_capture(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string text;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) text.append(buffer, n);
    if (::pclose(pipe.release()) != 0) throw std::runtime_error(command + " failed");
    return text;
}

std::string OptionDoc::long_name() const { return names.empty() ? positional : names.back(); }

bool OptionDoc::numeric() const { return type == "INT" || type == "UINT" || type == "FLOAT"; }

std::vector<const OptionDoc*> CommandDoc::positionals() const {
    std::vector<const OptionDoc*> out;
    for (const OptionDoc& o : options)
        if (o.names.empty()) out.push_back(&o);
    return out;
}

std::vector<const OptionDoc*> CommandDoc::named() const {
    std::vector<const OptionDoc*> out;
    for (const OptionDoc& o : options)
        if (!o.names.empty()) out.push_back(&o);
    return out;
}

bool CommandDoc::has_option(const std::string& name) const {
    for (const OptionDoc& o : options)
        for (const std::string& n : o.names)
            if (n == name) return true;
    return false;
}

ProgramDoc read_program(const std::string& executable_path) {
    const std::string command = shell_quote(executable_path) + " --cli-spec";
    const std::string text = run_and_capture(command);
    ProgramDoc program;
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        program.version = j.at("version").get<std::string>();
        program.root = read_command(j);
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(command + ": unexpected output: " + e.what());
    }
    program.executable = std::filesystem::path(executable_path).filename().string();
    return program;
}

std::vector<const CommandDoc*> all_verbs(const std::vector<ProgramDoc>& programs) {
    std::vector<const CommandDoc*> verbs;
    std::set<std::string> seen;
    for (const ProgramDoc& program : programs)
        for (const CommandDoc& verb : program.root.subcommands) {
            if (!seen.insert(verb.name).second)
                throw std::runtime_error("verb \"" + verb.name + "\" is defined by two programs");
            verbs.push_back(&verb);
        }
    return verbs;
}

}  // namespace sy::docgen
