// Dataset reading for trace/eval: JSONL text / input_ids / domain, .txt files,
// windows at seq_len starting at position 0, batches up to batch_tokens, max_tokens, --bos,
// record indices and "file:line" sources, and errors that name the line.
#include <gtest/gtest.h>

#include <fstream>

#include "switchyard/core/dataset.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tokenizer.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using sy::test::TempDir;

namespace {

fs::path tiny_mixtral() { return sy::test::examples_dir() / "tiny-mixtral"; }

const sy::Tokenizer& tokenizer() {
    static const sy::Tokenizer t = sy::Tokenizer::from_file((tiny_mixtral() / "tokenizer.json").string());
    return t;
}

fs::path write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

std::vector<sy::DatasetBatch> read_all(const sy::DatasetOptions& options, const sy::Tokenizer* tok = &tokenizer()) {
    sy::DatasetReader reader(options, tok);
    std::vector<sy::DatasetBatch> batches;
    sy::DatasetBatch batch;
    while (reader.next(batch)) batches.push_back(batch);
    EXPECT_DOUBLE_EQ(reader.fraction_read(), 1.0);
    return batches;
}

std::string error_of(const sy::DatasetOptions& options) {
    try {
        read_all(options);
    } catch (const sy::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
}

sy::DatasetOptions options_for(const fs::path& file, int64_t seq_len, int64_t batch_tokens) {
    sy::DatasetOptions options;
    options.files = {file};
    options.seq_len = seq_len;
    options.batch_tokens = batch_tokens;
    return options;
}

}  // namespace

TEST(Dataset, InputIdsAreUsedVerbatimAndCutIntoWindows) {
    TempDir tmp;
    const auto file = write_file(tmp.path() / "d.jsonl",
                                 "{\"input_ids\": [1,2,3,4,5,6,7], \"domain\": \"c\"}\n"
                                 "\n"
                                 "{\"input_ids\": [9,8]}\n");
    const auto batches = read_all(options_for(file, 3, 6));
    // doc 0 -> windows [1,2,3] [4,5,6] [7]; doc 1 -> [9,8]. Batches hold <= 6 tokens, whole windows.
    ASSERT_EQ(batches.size(), 2u);
    ASSERT_EQ(batches[0].windows.size(), 2u);
    EXPECT_EQ(batches[0].windows[0].ids, (std::vector<int32_t>{1, 2, 3}));
    EXPECT_EQ(batches[0].windows[1].first_pos, 3);
    EXPECT_EQ(batches[0].first_token, 0);
    ASSERT_EQ(batches[1].windows.size(), 2u);
    EXPECT_EQ(batches[1].windows[0].ids, (std::vector<int32_t>{7}));
    EXPECT_EQ(batches[1].windows[0].first_pos, 6);
    EXPECT_EQ(batches[1].windows[1].doc, 1);
    EXPECT_EQ(batches[1].windows[1].ids, (std::vector<int32_t>{9, 8}));
    EXPECT_EQ(batches[1].first_token, 6);
    // Records in file order with "file:line" (the blank line is not a record but is counted).
    ASSERT_EQ(batches[0].new_docs.size(), 1u);
    EXPECT_EQ(batches[0].new_docs[0].domain, "c");
    EXPECT_EQ(batches[0].new_docs[0].source, file.string() + ":1");
    ASSERT_EQ(batches[1].new_docs.size(), 1u);
    EXPECT_EQ(batches[1].new_docs[0].index, 1);
    EXPECT_EQ(batches[1].new_docs[0].domain, "");
    EXPECT_EQ(batches[1].new_docs[0].source, file.string() + ":3");
}

TEST(Dataset, TextIsTokenizedAndBosFollowsTheMode) {
    TempDir tmp;
    const auto file =
        write_file(tmp.path() / "d.jsonl", "{\"text\": \"int main(void) { return 0; }\", \"domain\": \"c\"}\n");
    const std::vector<int32_t> plain = tokenizer().encode("int main(void) { return 0; }", false).ids;
    auto options = options_for(file, 512, 512);
    // auto: the ByteLevel post-processor of the fixture adds nothing.
    options.text = sy::resolve_text_encoding(sy::BosMode::automatic, tokenizer(), tiny_mixtral());
    EXPECT_FALSE(options.text.bos_id.has_value());
    EXPECT_EQ(read_all(options).at(0).windows.at(0).ids, plain);
    // on: config.json bos_token_id (2046) in front.
    options.text = sy::resolve_text_encoding(sy::BosMode::on, tokenizer(), tiny_mixtral());
    ASSERT_EQ(options.text.bos_id, std::optional<int32_t>(2046));
    auto with_bos = plain;
    with_bos.insert(with_bos.begin(), 2046);
    EXPECT_EQ(read_all(options).at(0).windows.at(0).ids, with_bos);
    options.text = sy::resolve_text_encoding(sy::BosMode::off, tokenizer(), tiny_mixtral());
    EXPECT_EQ(read_all(options).at(0).windows.at(0).ids, plain);
}

TEST(Dataset, BosOnWithoutAnyBosIsRefused) {
    TempDir tmp;   // a model folder with no config.json / tokenizer_config.json
    EXPECT_THROW(sy::resolve_text_encoding(sy::BosMode::on, tokenizer(), tmp.path()), sy::UsageError);
    EXPECT_EQ(sy::parse_bos_mode("auto"), sy::BosMode::automatic);
    EXPECT_THROW(sy::parse_bos_mode("yes"), sy::UsageError);
}

TEST(Dataset, TxtFileIsOneDocumentAndFoldersAreSorted) {
    TempDir tmp;
    fs::create_directories(tmp.path() / "corpus");
    write_file(tmp.path() / "corpus" / "b.txt", "second document");
    write_file(tmp.path() / "corpus" / "a.jsonl", "{\"input_ids\": [5]}\n");
    write_file(tmp.path() / "corpus" / "notes.md", "ignored");
    const auto batches = read_all(options_for(tmp.path() / "corpus", 64, 64));
    ASSERT_EQ(batches.size(), 1u);
    ASSERT_EQ(batches[0].new_docs.size(), 2u);
    EXPECT_EQ(batches[0].new_docs[0].source, (tmp.path() / "corpus" / "a.jsonl").string() + ":1");
    EXPECT_EQ(batches[0].new_docs[1].source, (tmp.path() / "corpus" / "b.txt").string() + ":1");
    EXPECT_EQ(batches[0].windows[1].ids, tokenizer().encode("second document", false).ids);
}

TEST(Dataset, MaxTokensCapsTheRun) {
    TempDir tmp;
    const auto file = write_file(tmp.path() / "d.jsonl", "{\"input_ids\": [1,2,3,4,5]}\n{\"input_ids\": [6,7,8]}\n");
    auto options = options_for(file, 4, 8);
    options.max_tokens = 6;
    const auto batches = read_all(options);
    int64_t total = 0;
    for (const auto& batch : batches) total += batch.token_count();
    EXPECT_EQ(total, 6);
    EXPECT_EQ(batches.back().windows.back().ids, (std::vector<int32_t>{6}));
}

TEST(Dataset, EmptyRecordsKeepTheirIndex) {
    TempDir tmp;
    const auto file = write_file(tmp.path() / "d.jsonl",
                                 "{\"text\": \"\", \"domain\": \"x\"}\n{\"input_ids\": []}\n{\"input_ids\": [3]}\n");
    const auto batches = read_all(options_for(file, 4, 4));
    ASSERT_EQ(batches.size(), 1u);
    ASSERT_EQ(batches[0].new_docs.size(), 3u);
    EXPECT_EQ(batches[0].windows.at(0).doc, 2);
}

TEST(Dataset, BatchesAreDeterministic) {
    const auto options = options_for(sy::test::examples_dir() / "corpus-sample.jsonl", 128, 1000);
    const auto a = read_all(options), b = read_all(options);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_GT(a.size(), 3u);
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first_token, b[i].first_token);
        EXPECT_LE(a[i].token_count(), 1000);
        ASSERT_EQ(a[i].windows.size(), b[i].windows.size());
        for (std::size_t w = 0; w < a[i].windows.size(); ++w) {
            EXPECT_EQ(a[i].windows[w].ids, b[i].windows[w].ids);
            EXPECT_LE(a[i].windows[w].ids.size(), 128u);
        }
    }
}

TEST(Dataset, ErrorsNameFileAndLine) {
    TempDir tmp;
    const auto neither = write_file(tmp.path() / "n.jsonl", "{\"input_ids\": [1]}\n{\"domain\": \"c\"}\n");
    EXPECT_EQ(error_of(options_for(neither, 8, 8)),
              neither.string() + ":2: record has neither \"text\" nor \"input_ids\"");
    const auto bad_json = write_file(tmp.path() / "j.jsonl", "{\"text\": \"a\"\n");
    EXPECT_NE(error_of(options_for(bad_json, 8, 8)).find(bad_json.string() + ":1: invalid JSON"), std::string::npos);
    const auto bad_id = write_file(tmp.path() / "i.jsonl", "{\"input_ids\": [1, 5000]}\n");
    auto options = options_for(bad_id, 8, 8);
    options.vocab_size = 2048;
    EXPECT_EQ(error_of(options),
              bad_id.string() + ":1: input_ids[1] = 5000 is outside the model's vocabulary (size 2048)");
    const auto bad_type = write_file(tmp.path() / "t.jsonl", "{\"text\": 3}\n");
    EXPECT_EQ(error_of(options_for(bad_type, 8, 8)), bad_type.string() + ":1: \"text\" must be a string");
    const auto csv = write_file(tmp.path() / "d.csv", "a,b\n");
    EXPECT_NE(error_of(options_for(csv, 8, 8)).find("unsupported data file"), std::string::npos);
    EXPECT_NE(error_of(options_for(tmp.path() / "missing.jsonl", 8, 8)).find("no such file"), std::string::npos);
    EXPECT_NE(error_of(options_for(neither, 8, 4)).find("--batch-tokens (4) must be at least --seq-len (8)"),
              std::string::npos);
}

TEST(Dataset, TextWithoutTokenizerIsRefused) {
    TempDir tmp;
    const auto file = write_file(tmp.path() / "d.jsonl", "{\"text\": \"hello\"}\n");
    sy::DatasetReader reader(options_for(file, 8, 8), nullptr);
    sy::DatasetBatch batch;
    EXPECT_THROW(reader.next(batch), sy::UsageError);
}
