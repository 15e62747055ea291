// Pre-tokenizers classify characters as Hugging Face `tokenizers` 0.23.2 does, on its Unicode
// versions rather than PCRE2's (Debian 12: Unicode 14). Goldens come from `tokenizers` itself
// (tests/data/tokenizer/README.md): every code point of every character class, the pieces of the
// published pre-tokenizers on text with characters added in Unicode 15.0-17.0, and DeepSeek-V3's
// real tokenizer.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "switchyard/core/tokenizer.h"
#include "test_paths.h"

using nlohmann::json;

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

json read_json(const std::string& name) {
    std::ifstream in(sy::test::data_dir() / "tokenizer" / name, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
}

// The shared byte-level tokenizer.json with `pre_tokenizer` replaced (the model never runs).
sy::Tokenizer with_pre_tokenizer(const json& pre_tokenizer) {
    json spec = read_json("tokenizer.json");
    spec["normalizer"] = nullptr;
    spec["pre_tokenizer"] = pre_tokenizer;
    return sy::Tokenizer::from_json_text(spec.dump(), "test-tokenizer.json");
}

void append_utf8(std::string& out, uint32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6)), out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12)), out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18)), out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
    }
}

std::vector<uint32_t> code_points(const std::string& text) {
    std::vector<uint32_t> out;
    for (std::size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        const int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        uint32_t c = n == 1 ? b : b & (0x7F >> n);
        for (int k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        out.push_back(c);
        i += n;
    }
    return out;
}

bool is_surrogate(uint32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

// Every code point except the surrogates, in order, `separator` after each (none when 0).
std::string every_code_point(uint32_t separator = 0) {
    std::string text;
    for (uint32_t c = 0; c <= 0x10FFFF; ++c) {
        if (is_surrogate(c)) continue;
        append_utf8(text, c);
        if (separator) append_utf8(text, separator);
    }
    return text;
}

Ranges to_ranges(const std::vector<bool>& member) {
    Ranges out;
    for (uint32_t c = 0; c < member.size(); ++c) {
        if (!member[c]) continue;
        // Ranges step over the surrogates, as the goldens do (JavaScript strings cannot hold them).
        if (!out.empty() && (out.back().second + 1 == c || (out.back().second == 0xD7FF && c == 0xE000)))
            out.back().second = c;
        else out.emplace_back(c, c);
    }
    return out;
}

Ranges golden_ranges(const json& matches) { return matches.get<Ranges>(); }

// First code point where two range lists disagree, for a readable failure.
std::string first_difference(const Ranges& got, const Ranges& want) {
    std::vector<bool> a(0x110000), b(0x110000);
    for (const auto& [x, y] : got) for (uint32_t c = x; c <= y; ++c) a[c] = true;
    for (const auto& [x, y] : want) for (uint32_t c = x; c <= y; ++c) b[c] = true;
    for (uint32_t c = 0; c < 0x110000; ++c)
        if (a[c] != b[c]) {
            char text[80];
            std::snprintf(text, sizeof text, "U+%04X: switchyard %s, tokenizers %s", c, a[c] ? "matches" : "does not",
                          b[c] ? "matches" : "does not");
            return text;
        }
    return "";
}

class SplitClass : public testing::TestWithParam<int> {};

// Split(Regex(class), Removed) over the text of every code point leaves exactly the code points
// the class does not match.
TEST_P(SplitClass, MatchesTheSameCodePointsAsHfTokenizers) {
    static const json goldens = read_json("unicode-classes-goldens.json");
    const json& golden = goldens["splits"][GetParam()];
    const std::string regex = golden["regex"];
    const sy::Tokenizer tokenizer =
        with_pre_tokenizer({{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Removed"}, {"invert", false}});
    static const std::string text = every_code_point();
    std::vector<bool> matched(0x110000, true);
    for (uint32_t c = 0xD800; c <= 0xDFFF; ++c) matched[c] = false;
    for (const std::string& piece : tokenizer.pre_tokenize(text))
        for (uint32_t c : code_points(piece)) matched[c] = false;
    const Ranges got = to_ranges(matched), want = golden_ranges(golden["matches"]);
    EXPECT_TRUE(got == want) << regex << ": " << first_difference(got, want);
}

INSTANTIATE_TEST_SUITE_P(EveryGoldenRegex, SplitClass, testing::Range(0, 67));

TEST(TokenizerUnicode, GoldenListCoversEveryRegex) {
    EXPECT_EQ(read_json("unicode-classes-goldens.json")["splits"].size(), 67u);
}

const json& pre_tokenizer_class(const std::string& type, const std::string& role) {
    static const json goldens = read_json("unicode-classes-goldens.json");
    for (const json& entry : goldens["pre_tokenizers"])
        if (entry["type"] == type && entry["role"] == role) return entry["matches"];
    throw std::runtime_error("no golden for " + type + " " + role);
}

// Pieces of exactly one code point other than the separator: the code points the pre-tokenizer
// isolates (each one is written between two separators it would otherwise merge with).
std::vector<bool> isolated(const std::vector<std::string>& pieces, uint32_t separator) {
    std::vector<bool> member(0x110000, false);
    for (const std::string& piece : pieces) {
        const auto cps = code_points(piece);
        if (cps.size() == 1 && cps[0] != separator) member[cps[0]] = true;
    }
    return member;
}

// The classes HF takes from Rust (regex crate \w, char::is_numeric, char::is_whitespace, the
// unicode_categories crate), each in its own Unicode version.
TEST(TokenizerUnicode, WhitespaceWordAndSpaceClassesMatchHf) {
    const auto tokenizer = with_pre_tokenizer({{"type", "Whitespace"}});
    const auto pieces = tokenizer.pre_tokenize(every_code_point('!'));   // word chars stand alone between '!'
    const Ranges word = to_ranges(isolated(pieces, '!'));
    const Ranges want_word = golden_ranges(pre_tokenizer_class("Whitespace", "word"));
    EXPECT_TRUE(word == want_word) << first_difference(word, want_word);
    std::vector<bool> space(0x110000, true);
    for (uint32_t c = 0xD800; c <= 0xDFFF; ++c) space[c] = false;
    for (const std::string& piece : pieces) for (uint32_t c : code_points(piece)) space[c] = false;
    const Ranges want_space = golden_ranges(pre_tokenizer_class("Whitespace", "space"));
    EXPECT_TRUE(to_ranges(space) == want_space) << first_difference(to_ranges(space), want_space);
}

TEST(TokenizerUnicode, WhitespaceSplitPunctuationAndDigitsMatchHf) {
    std::vector<bool> space(0x110000, true);
    for (uint32_t c = 0xD800; c <= 0xDFFF; ++c) space[c] = false;
    for (const std::string& piece : with_pre_tokenizer({{"type", "WhitespaceSplit"}}).pre_tokenize(every_code_point()))
        for (uint32_t c : code_points(piece)) space[c] = false;
    const Ranges want_space = golden_ranges(pre_tokenizer_class("WhitespaceSplit", "space"));
    EXPECT_TRUE(to_ranges(space) == want_space) << first_difference(to_ranges(space), want_space);

    const std::string separated = every_code_point('a');
    const auto punctuation =
        to_ranges(isolated(with_pre_tokenizer({{"type", "Punctuation"}, {"behavior", "Isolated"}}).pre_tokenize(separated), 'a'));
    const Ranges want_punctuation = golden_ranges(pre_tokenizer_class("Punctuation", "punctuation"));
    EXPECT_TRUE(punctuation == want_punctuation) << first_difference(punctuation, want_punctuation);
    const auto digits =
        to_ranges(isolated(with_pre_tokenizer({{"type", "Digits"}, {"individual_digits", true}}).pre_tokenize(separated), 'a'));
    const Ranges want_digits = golden_ranges(pre_tokenizer_class("Digits", "digit"));
    EXPECT_TRUE(digits == want_digits) << first_difference(digits, want_digits);
}

// GPT-2, Llama-3 / GLM-4, Qwen2, DeepSeek-V3, gpt-oss, Whitespace, WhitespaceSplit, Punctuation,
// Digits on letters, marks, numbers, punctuation and symbols of Unicode 15.0, 15.1, 16.0, 17.0.
TEST(TokenizerUnicode, PublishedPreTokenizersSplitNewCharactersAsHf) {
    const json goldens = read_json("pre-tokenizer-goldens.json");
    ASSERT_EQ(goldens.size(), 9u);
    for (const json& entry : goldens) {
        const sy::Tokenizer tokenizer = with_pre_tokenizer(entry["pre_tokenizer"]);
        for (const json& c : entry["cases"]) {
            const std::string text = c["text"];
            EXPECT_EQ(tokenizer.pre_tokenize(text), c["pieces"].get<std::vector<std::string>>())
                << entry["name"].get<std::string>() << ": " << json(text).dump();
        }
    }
}

// DeepSeek-V3's published tokenizer.json, cut to the merges its goldens use (README.md).
TEST(TokenizerUnicode, DeepseekV3RealTokenizerMatchesHf) {
    const sy::Tokenizer tokenizer =
        sy::Tokenizer::from_file((sy::test::data_dir() / "tokenizer" / "deepseek-v3-real.json").string());
    const json goldens = read_json("deepseek-v3-real-goldens.json");
    ASSERT_GE(goldens.size(), 20u);
    for (const json& golden : goldens) {
        const std::string text = golden["text"];
        EXPECT_EQ(tokenizer.encode(text).ids, golden["ids"].get<std::vector<int32_t>>()) << json(text).dump();
    }
}

// PINK HEART (U+1FA77, Unicode 15.0) is a symbol: it joins the space before it (" ?[\p{P}\p{S}]+").
// PCRE2's Unicode 14 tables left it unassigned, so the space split off: [223, 3574, 105, 118].
TEST(TokenizerUnicode, PinkHeartKeepsItsSpaceInDeepseekV3) {
    const sy::Tokenizer tokenizer =
        sy::Tokenizer::from_file((sy::test::data_dir() / "tokenizer" / "deepseek-v3-real.json").string());
    EXPECT_EQ(tokenizer.encode(" \U0001FA77").ids, (std::vector<int32_t>{7351, 105, 118}));
}

}  // namespace
