#include "cli_spec.h"

#include <iostream>

namespace sy::cli {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t begin = 0;
    for (std::size_t end; (end = text.find(separator, begin)) != std::string::npos; begin = end + 1)
        parts.push_back(text.substr(begin, end - begin));
    parts.push_back(text.substr(begin));
    return parts;
}

Json describe_option(const CLI::Option& opt) {
    Json names = Json::array();
    for (const std::string& s : opt.get_snames()) names.push_back("-" + s);
    for (const std::string& l : opt.get_lnames()) names.push_back("--" + l);
    // get_type_name() is "TEXT:{a,b}:>0": the value's type, then each validator's description.
    // CLI::IsMember describes itself as "{a,b}", which is where the choices come from.
    const std::vector<std::string> type_parts = split(opt.get_type_name(), ':');
    Json choices = Json::array();
    for (std::size_t i = 1; i < type_parts.size(); ++i) {
        const std::string& part = type_parts[i];
        if (part.size() >= 2 && part.front() == '{' && part.back() == '}')
            for (const std::string& choice : split(part.substr(1, part.size() - 2), ',')) choices.push_back(choice);
    }
    const bool flag = opt.get_expected_max() == 0;   // add_flag() expects no value
    return Json{
        {"names", names},
        {"positional", opt.nonpositional() ? Json(nullptr) : Json(opt.get_name())},
        {"description", opt.get_description()},
        {"type", flag ? Json(nullptr) : Json(type_parts.front())},
        {"choices", choices},
        {"default", opt.get_default_str()},
        {"env", opt.get_envname()},
        {"required", opt.get_required()},
        {"flag", flag},
        {"multiple", !flag && opt.get_items_expected_max() > 1},
        {"hidden", opt.get_group().empty()},
    };
}

}  // namespace

Json describe_cli(const CLI::App& app) {
    Json options = Json::array(), subcommands = Json::array();
    for (const CLI::Option* opt : app.get_options()) options.push_back(describe_option(*opt));
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        Json described = describe_cli(*sub);
        described.erase("version");
        described["hidden"] = sub->get_group().empty();
        // CLI11 copies the parent's footer into each subcommand; keep only a verb's own.
        if (described["footer"] == app.get_footer()) described["footer"] = "";
        subcommands.push_back(std::move(described));
    }
    return Json{{"name", app.get_name()},       {"version", SWITCHYARD_VERSION}, {"description", app.get_description()},
                {"footer", app.get_footer()},   {"options", options},            {"subcommands", subcommands}};
}

void add_cli_spec_flag(CLI::App& app) {
    app.add_flag_callback("--cli-spec", [&app]() {
           std::cout << describe_cli(app).dump(2) << "\n";
           throw CLI::Success();
       })
        ->group("");   // hidden: a build tool, not a user option
}

}  // namespace sy::cli
