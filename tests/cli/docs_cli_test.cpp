// Man pages and shell completions generated at build time (app/docgen) from the binaries' own
// CLI11 definitions (`--cli-spec`): every visible verb of both binaries has a page naming each of
// its options, pages render without groff warnings, hidden verbs and options stay out, and the
// completion scripts offer the same verbs, options and choices.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "run_cli.h"

using namespace sy::test;
namespace fs = std::filesystem;

namespace {

const fs::path k_docs = SY_DOCS_DIR;

nlohmann::json spec_of(const std::string& binary) {
    const auto r = run_cli_binary(binary, "--cli-spec");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

std::vector<nlohmann::json> specs() {
    const std::string torch = (fs::path(SY_CLI_BINARY).parent_path() / "switchyard-torch").string();
    return {spec_of(SY_CLI_BINARY), spec_of(torch)};
}

// The visible verbs of both binaries.
std::vector<nlohmann::json> visible_verbs() {
    std::vector<nlohmann::json> verbs;
    for (const auto& spec : specs())
        for (const auto& verb : spec["subcommands"])
            if (!verb["hidden"].get<bool>()) verbs.push_back(verb);
    return verbs;
}

// As the page writes it: hyphens escaped.
std::string roff(const std::string& text) {
    std::string out;
    for (char c : text) out += c == '-' ? std::string("\\-") : std::string(1, c);
    return out;
}

std::string completions(const std::string& words, int cword) {
    const std::string script = "source " + shell_quote((k_docs / "completions" / "switchyard").string()) +
                               "; COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                               "; _switchyard; for w in \"${COMPREPLY[@]}\"; do echo \"$w\"; done";
    return run_cli_binary("/bin/bash", "-c " + shell_quote(script)).out;
}

}  // namespace

TEST(ManPagesIntegration, EveryVisibleVerbHasAPageWithEveryOption) {
    const std::string front = slurp(k_docs / "man1" / "switchyard.1");
    ASSERT_FALSE(front.empty());
    const auto verbs = visible_verbs();
    const std::string root_footer = specs().front()["footer"];
    ASSERT_FALSE(root_footer.empty());
    std::set<std::string> names;
    for (const auto& verb : verbs) {
        const std::string name = verb["name"];
        names.insert(name);
        const fs::path page = k_docs / "man1" / ("switchyard-" + name + ".1");
        ASSERT_TRUE(fs::exists(page)) << page;
        EXPECT_TRUE(fs::exists(page.string() + ".gz")) << "installed compressed";
        EXPECT_NE(front.find("\\fB" + roff(name) + "\\fR\n" + roff(verb["description"].get<std::string>())),
                  std::string::npos)
            << "switchyard(1) lists " << name;
        const std::string text = slurp(page);
        EXPECT_EQ(text.find(roff(root_footer)), std::string::npos) << name << ": the root's footer is not the verb's";
        EXPECT_NE(text.find(roff("switchyard-" + name) + " \\- " + roff(verb["description"])), std::string::npos)
            << text;
        for (const auto& option : verb["options"]) {
            if (option["hidden"].get<bool>()) continue;
            for (const auto& flag : option["names"])
                EXPECT_NE(text.find("\\fB" + roff(flag) + "\\fR"), std::string::npos) << name << " " << flag;
            if (option["names"].empty())
                EXPECT_NE(text.find("\\fI" + roff(option["positional"]) + "\\fR"), std::string::npos) << name;
            EXPECT_NE(text.find(roff(option["description"])), std::string::npos) << name << ": " << option;
        }
    }
    for (const char* expected : {"inspect", "export", "stats", "trace", "eval", "similarity"})
        EXPECT_TRUE(names.count(expected)) << expected;
    EXPECT_FALSE(fs::exists(k_docs / "man1" / "switchyard-bench-matmul.1")) << "hidden verbs have no page";
    EXPECT_TRUE(fs::exists(k_docs / "man1" / "switchyard-torch.1"));
    EXPECT_EQ(front.find("cli\\-spec"), std::string::npos) << "hidden flags stay hidden";
    EXPECT_NE(front.find(".SH PROGRESS"), std::string::npos);
    EXPECT_NE(front.find("SWITCHYARD_PROGRESS"), std::string::npos);
}

TEST(ManPagesIntegration, WorkbenchPageComesFromItsHelp) {
    if (!fs::exists(fs::path(SY_CLI_BINARY).parent_path() / "switchyard-gui")) GTEST_SKIP() << "headless build";
    const std::string page = slurp(k_docs / "man1" / "switchyard-gui.1");
    EXPECT_NE(page.find("switchyard\\-gui \\- Switchyard workbench"), std::string::npos) << page;
    EXPECT_NE(page.find("\\fB\\-t\\fR, \\fB\\-\\-trace\\fR \\fIFILE\\fR\nTrace file (.h5) to open."), std::string::npos)
        << page;
    EXPECT_NE(page.find("\\fIMODEL_DIR\\fR\nModel folder to open."), std::string::npos) << page;
    EXPECT_NE(slurp(k_docs / "man1" / "switchyard.1").find(".BR switchyard\\-gui (1)"), std::string::npos);
}

TEST(ManPagesIntegration, PagesRenderWithoutWarnings) {
    int pages = 0;
    for (const auto& entry : fs::directory_iterator(k_docs / "man1")) {
        if (entry.path().extension() != ".1") continue;
        ++pages;
        const auto r = run_cli_binary("groff", "-man -Tutf8 -ww -z " + shell_quote(entry.path().string()));
        EXPECT_EQ(r.exit_code, 0) << entry.path();
        EXPECT_EQ(r.err, "") << entry.path();
    }
    EXPECT_GE(pages, 10);
}

TEST(CompletionIntegration, BashOffersVerbsOptionsAndChoices) {
    const std::string verbs = completions("switchyard ''", 1);
    for (const auto& verb : visible_verbs()) EXPECT_NE(verbs.find(verb["name"].get<std::string>() + "\n"), std::string::npos) << verb["name"];
    EXPECT_EQ(verbs.find("bench-matmul"), std::string::npos);
    EXPECT_EQ(completions("switchyard tr", 1), "trace\n");
    EXPECT_EQ(completions("switchyard trace model --b", 3), "--batch-tokens\n--bos\n");
    EXPECT_EQ(completions("switchyard trace model --bos ''", 4), "auto\non\noff\n");
    EXPECT_EQ(completions("switchyard stats t.h5 --progress=j", 3), "json\n");
    EXPECT_EQ(completions("switchyard stats t.h5 --progress = j", 5), "json\n") << "as bash splits at '='";
    EXPECT_EQ(completions("switchyard trace model --seq-len ''", 4), "") << "numbers: nothing to offer";
    const std::string prefix = (k_docs / "compl").string();
    EXPECT_EQ(completions("switchyard inspect " + shell_quote(prefix), 2), (k_docs / "completions").string() + "\n")
        << "file names for arguments";
}

TEST(CompletionIntegration, ZshScriptParses) {
    if (std::system("command -v zsh >/dev/null 2>&1") != 0) GTEST_SKIP() << "zsh is not installed";
    const auto r = run_cli_binary("zsh", "-n " + shell_quote((k_docs / "completions" / "_switchyard").string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string script = slurp(k_docs / "completions" / "_switchyard");
    for (const auto& verb : visible_verbs())
        EXPECT_NE(script.find("\n                " + verb["name"].get<std::string>() + ") _arguments"), std::string::npos)
            << verb["name"];
    EXPECT_NE(script.find("--bos[BOS for text records"), std::string::npos);
    EXPECT_NE(script.find(":(auto on off)"), std::string::npos);
}
