// tokenizer.json BPE tokenizer (formats.md §12). Goldens: tokenizer-goldens.json from the shared
// test data, and <fixture>-goldens.json computed with Hugging Face tokenizers itself
// (tests/data/tokenizer/README.md) for the Llama / Mixtral, Qwen2, DeepSeek-V3 and Llama-3 modes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "switchyard/core/errors.h"
#include "switchyard/core/tokenizer.h"
#include "test_paths.h"

using nlohmann::json;

namespace {

std::string tokenizer_file(const std::string& name) { return (sy::test::data_dir() / "tokenizer" / name).string(); }

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

json read_json(const std::string& name) { return json::parse(read_text(tokenizer_file(name))); }

// Loads the shared byte-level tokenizer.json and lets a test edit it before parsing.
template <typename Edit>
std::string edited_tokenizer(Edit edit) {
    json spec = read_json("tokenizer.json");
    edit(spec);
    return spec.dump();
}

std::string load_error(const std::string& text) {
    try {
        sy::Tokenizer::from_json_text(text, "test-tokenizer.json");
    } catch (const sy::TokenizerError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no TokenizerError";
    return "";
}

}  // namespace

TEST(Tokenizer, SharedGoldensMatchExactly) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    const json goldens = read_json("tokenizer-goldens.json");
    ASSERT_EQ(goldens.size(), 18u);
    for (const json& golden : goldens) {
        const std::string text = golden["text"];
        EXPECT_EQ(tok.encode(text).ids, golden["ids"].get<std::vector<int32_t>>()) << text;
    }
}

TEST(Tokenizer, DecodeRoundTripsAndPiecesAreVocabStrings) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    for (const json& golden : read_json("tokenizer-goldens.json")) {
        const std::string text = golden["text"];
        const sy::Encoding encoding = tok.encode(text);
        EXPECT_EQ(tok.decode(encoding.ids), text);
        ASSERT_EQ(encoding.pieces.size(), encoding.ids.size());
        for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
            EXPECT_EQ(encoding.pieces[i], tok.token_string(encoding.ids[i]));
        }
    }
    EXPECT_EQ(tok.encode("Hello").pieces, (std::vector<std::string>{"H", "el", "lo"}));
}

TEST(Tokenizer, SpecialTokensInsideTextAreMatchedFirst) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    const auto ids = tok.encode("a<|endoftext|><|pad|>b<|endoftext").ids;
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 2046), 1);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 2047), 1);
    EXPECT_EQ(tok.decode(ids), "a<|endoftext|><|pad|>b<|endoftext");
    EXPECT_EQ(tok.decode(ids, /*skip_special_tokens=*/true), "ab<|endoftext");
    // ByteLevel's post-processor adds nothing.
    EXPECT_EQ(tok.encode("a<|pad|>", true).ids, tok.encode("a<|pad|>").ids);
    EXPECT_FALSE(tok.post_processor_adds_bos());
    EXPECT_FALSE(tok.bos_id().has_value());
}

TEST(Tokenizer, LookupsCoverVocabAndAddedTokens) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    EXPECT_EQ(tok.id_count(), 2048);
    EXPECT_EQ(tok.token_id("<|endoftext|>"), 2046);
    EXPECT_EQ(tok.token_id("\xC4\xA0"), 32);  // "Ġ", the byte-level space
    EXPECT_EQ(tok.token_string(2047), "<|pad|>");
    EXPECT_EQ(tok.token_string(-1), "");
    EXPECT_EQ(tok.token_string(5000), "");
    EXPECT_FALSE(tok.token_id("no such token").has_value());
    EXPECT_EQ(tok.decode({72, 99999, -5, 367, 334}), "Hello");  // unknown ids are skipped
}

TEST(Tokenizer, PairAndStringMergesGiveIdenticalResults) {
    const sy::Tokenizer strings = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    const sy::Tokenizer pairs = sy::Tokenizer::from_file(tokenizer_file("tokenizer-pair-merges.json"));
    ASSERT_TRUE(read_json("tokenizer-pair-merges.json")["model"]["merges"][0].is_array());
    for (const json& golden : read_json("tokenizer-goldens.json")) {
        EXPECT_EQ(pairs.encode(golden["text"].get<std::string>()).ids, golden["ids"].get<std::vector<int32_t>>());
    }
    const std::string text = read_text(tokenizer_file("make_fixtures.py"));
    EXPECT_EQ(pairs.encode(text).ids, strings.encode(text).ids);
}

TEST(Tokenizer, LongTextEncodesAndRoundTrips) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    std::string text;
    while (text.size() < 200000) text += "def forward(self, x):\n    return x * 2  # caf\xC3\xA9 \xE4\xB8\xAD\n";
    text += std::string(100000, 'a') + std::string(50000, ' ');
    EXPECT_EQ(tok.decode(tok.encode(text).ids), text);
}

TEST(Tokenizer, EncodeIsThreadSafe) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("qwen2.json"));
    const std::string text = read_text(tokenizer_file("make_fixtures.py"));
    const auto expected = tok.encode(text).ids;
    std::vector<std::thread> threads;
    std::vector<int> same(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] { same[t] = tok.encode(text).ids == expected; });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(same, std::vector<int>(4, 1));
}

// ---- goldens computed with Hugging Face tokenizers (tests/data/tokenizer/gen_goldens.js) ----

class HfGoldens : public testing::TestWithParam<std::string> {};

TEST_P(HfGoldens, EncodeAndDecodeMatchHuggingFace) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file(GetParam() + ".json"));
    const json goldens = read_json(GetParam() + "-goldens.json");
    ASSERT_GT(goldens.size(), 30u);
    for (const json& golden : goldens) {
        const std::string text = golden["text"];
        const bool add = golden["add_special_tokens"];
        const auto ids = golden["ids"].get<std::vector<int32_t>>();
        EXPECT_EQ(tok.encode(text, add).ids, ids) << text << " add_special_tokens=" << add;
        EXPECT_EQ(tok.decode(ids), golden["decoded"].get<std::string>()) << text;
        EXPECT_EQ(tok.decode(ids, true), golden["decoded_skip"].get<std::string>()) << text;
    }
}

INSTANTIATE_TEST_SUITE_P(Modes, HfGoldens,
                         testing::Values("tokenizer-pair-merges", "llama-legacy", "llama-metaspace", "qwen2",
                                         "deepseek-v3", "llama3-ignore-merges"),
                         [](const testing::TestParamInfo<std::string>& info) {
                             std::string name = info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

TEST(Tokenizer, TemplateProcessingAddsBos) {
    const sy::Tokenizer llama = sy::Tokenizer::from_file(tokenizer_file("llama-legacy.json"));
    EXPECT_TRUE(llama.post_processor_adds_bos());
    EXPECT_EQ(llama.bos_id(), 1);
    EXPECT_EQ(llama.encode("", true).ids, std::vector<int32_t>{1});
    const auto plain = llama.encode("hello world").ids;
    auto with_bos = llama.encode("hello world", true).ids;
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos.front(), 1);
    EXPECT_EQ(std::vector<int32_t>(with_bos.begin() + 1, with_bos.end()), plain);
    // Byte fallback: a tab is not in this vocab, so it becomes <0x09>.
    EXPECT_EQ(llama.encode("\t").pieces.back(), "<0x09>");

    const sy::Tokenizer deepseek = sy::Tokenizer::from_file(tokenizer_file("deepseek-v3.json"));
    EXPECT_EQ(deepseek.bos_id(), deepseek.token_id("<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"));
}

// ---- errors: a clear TokenizerError naming the file and the JSON path, never a crash ----

TEST(TokenizerErrors, MissingFileIsAnIoErrorNamingTheFile) {
    try {
        sy::Tokenizer::from_file("/nonexistent/dir/tokenizer.json");
        FAIL() << "no error";
    } catch (const sy::IoError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/tokenizer.json"), std::string::npos) << e.what();
    }
}

TEST(TokenizerErrors, BadJsonAndMissingModel) {
    EXPECT_NE(load_error("{\"model\": ").find("test-tokenizer.json: not valid JSON"), std::string::npos);
    EXPECT_NE(load_error("[1, 2]").find("expected an object"), std::string::npos);
    // Found by tokenizer_json_fuzz: nlohmann reports number overflow as out_of_range, not parse_error.
    EXPECT_NE(load_error("{\"model\": 1.5E99999}").find("not valid JSON"), std::string::npos);
    EXPECT_NE(load_error("{\"version\": \"1.0\"}").find("test-tokenizer.json: model: missing"), std::string::npos);
}

TEST(TokenizerErrors, UnsupportedComponentsListWhatIsSupported) {
    const std::string model_type = load_error(edited_tokenizer([](json& t) { t["model"]["type"] = "WordPiece"; }));
    EXPECT_NE(model_type.find("model.type: \"WordPiece\" is not supported (supported: BPE)"), std::string::npos)
        << model_type;
    const std::string pre = load_error(edited_tokenizer([](json& t) { t["pre_tokenizer"] = {{"type", "Bogus"}}; }));
    EXPECT_NE(pre.find("pre_tokenizer.type: pre-tokenizer \"Bogus\" is not supported"), std::string::npos) << pre;
    EXPECT_NE(pre.find("Split"), std::string::npos);
    const std::string norm = load_error(edited_tokenizer([](json& t) {
        t["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "Precompiled"}}}}};
    }));
    EXPECT_NE(norm.find("normalizer.normalizers[1].type: normalizer \"Precompiled\""), std::string::npos) << norm;
    const std::string dec = load_error(edited_tokenizer([](json& t) { t["decoder"] = {{"type", "CTC"}}; }));
    EXPECT_NE(dec.find("decoder.type"), std::string::npos) << dec;
}

TEST(TokenizerErrors, MergesMustReferenceVocabTokens) {
    const std::string missing = load_error(edited_tokenizer([](json& t) { t["model"]["merges"][3] = "Q zzz"; }));
    EXPECT_NE(missing.find("model.merges[3]: merge token \"zzz\" is not in model.vocab"), std::string::npos) << missing;
    const std::string no_space = load_error(edited_tokenizer([](json& t) { t["model"]["merges"][0] = "ab"; }));
    EXPECT_NE(no_space.find("model.merges[0]"), std::string::npos) << no_space;
    const std::string bad_pair = load_error(edited_tokenizer([](json& t) { t["model"]["merges"][1] = {"a"}; }));
    EXPECT_NE(bad_pair.find("model.merges[1]"), std::string::npos) << bad_pair;
}

TEST(TokenizerErrors, BadValuesAreNamed) {
    const std::string id = load_error(edited_tokenizer([](json& t) { t["model"]["vocab"]["!"] = -3; }));
    EXPECT_NE(id.find("model.vocab.!: token id -3"), std::string::npos) << id;
    const std::string regex = load_error(edited_tokenizer([](json& t) {
        t["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
    }));
    EXPECT_NE(regex.find("pre_tokenizer.pattern.Regex: regex \"(unclosed\" does not compile"), std::string::npos)
        << regex;
    const std::string behavior = load_error(edited_tokenizer([](json& t) {
        t["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Isolate"}};
    }));
    EXPECT_NE(behavior.find("pre_tokenizer.behavior: \"Isolate\" is not a split behavior"), std::string::npos)
        << behavior;
    const std::string added = load_error(edited_tokenizer([](json& t) { t["added_tokens"][1]["content"] = 7; }));
    EXPECT_NE(added.find("added_tokens[1].content: expected a string"), std::string::npos) << added;
    const std::string bos = load_error(edited_tokenizer([](json& t) {
        t["post_processor"] = {{"type", "TemplateProcessing"},
                               {"single", {{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}}}},
                               {"special_tokens", json::object()}};
    }));
    EXPECT_NE(bos.find("post_processor.special_tokens.<s>: missing"), std::string::npos) << bos;
    // Found by tokenizer_json_fuzz: a post-processor id outside the vocab and added tokens.
    const std::string unknown_id = load_error(edited_tokenizer([](json& t) {
        t["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"</s>", 4092}}, {"cls", {"<|pad|>", 2047}}};
    }));
    EXPECT_NE(unknown_id.find("post_processor: adds id 4092, which is neither in model.vocab nor in added_tokens"),
              std::string::npos) << unknown_id;
}

TEST(TokenizerErrors, InvalidUtf8InputIsRejected) {
    const sy::Tokenizer tok = sy::Tokenizer::from_file(tokenizer_file("tokenizer.json"));
    try {
        tok.encode("ok \xC3( bad");
        FAIL() << "no error";
    } catch (const sy::TokenizerError& e) {
        EXPECT_NE(std::string(e.what()).find("not valid UTF-8 (byte offset 3)"), std::string::npos) << e.what();
    }
}
