// HDF5 trace store: round trip, appends, a concurrent SWMR reader in another
// process sees consistent lengths after every flush, resume after a clean stop and after a
// killed writer, refusal of mismatched resumes; plus SHA-256 and float16 helpers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>

#include "switchyard/core/sha256.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using sy::test::TempDir;

namespace {

constexpr int k_layers = 2, k_top = 2, k_experts = 4;

sy::TraceMeta test_meta(bool router_logits = true) {
    sy::TraceMeta meta;
    meta.tool_version = "switchyard test";
    meta.command_line = "switchyard trace m --data d.jsonl -o t.h5";
    meta.model_path = "/models/m";
    meta.model_fingerprint = "abc123";
    meta.model_type = "mixtral";
    meta.num_layers = 3;
    meta.top_k = k_top;
    meta.dtype = "f32";
    meta.device = "cpu";
    meta.bos = "auto";
    meta.created = "2025-01-01T00:00:00Z";
    meta.seq_len = 4;
    meta.batch_tokens = 8;
    meta.data = "/data/d.jsonl";
    meta.data_bytes = 100;
    meta.router_logits = router_logits;
    meta.moe_layers = {0, 2};
    meta.num_experts = {k_experts, k_experts - 1};
    meta.token_strings = {"a", "Ġthe", "", "<|endoftext|>"};
    return meta;
}

// Batch b holds n tokens numbered from `first`; every value is a function of the token number so
// reads can be checked without keeping the batches. `docs` new documents.
sy::TraceBatchData make_batch(int64_t first, int64_t n, int64_t first_doc, int docs, bool logits = true) {
    sy::TraceBatchData batch;
    for (int d = 0; d < docs; ++d) {
        batch.doc_domains.push_back(d % 2 ? "python" : "c");
        batch.doc_sources.push_back("d.jsonl:" + std::to_string(first_doc + d + 1));
    }
    for (int64_t t = first; t < first + n; ++t) {
        batch.ids.push_back(int32_t(t % 4));
        batch.doc.push_back(int32_t(first_doc));
        batch.pos.push_back(int32_t(t));
        batch.nll.push_back(t % 4 == 3 ? NAN : float(t) / 8);
    }
    for (int l = 0; l < k_layers; ++l)
        for (int64_t t = first; t < first + n; ++t)
            for (int j = 0; j < k_top; ++j) {
                batch.topk_ids.push_back(int16_t((t + l + j) % k_experts));
                batch.topk_weights.push_back(float(t) + 0.5f * j + 100.f * l);
            }
    if (logits)
        for (int l = 0; l < k_layers; ++l)
            for (int64_t t = first; t < first + n; ++t)
                for (int e = 0; e < k_experts; ++e)
                    batch.router_logits.push_back(sy::float_to_half(float(t % 16) + 0.25f * e - l));
    return batch;
}

// Checks every committed row of `reader` against make_batch's formulas.
void expect_rows(const sy::TraceReader& reader) {
    const int64_t n = reader.token_count();
    const auto ids = reader.token_ids(0, n), pos = reader.token_positions(0, n);
    const auto nll = reader.nll(0, n);
    for (int64_t t = 0; t < n; ++t) {
        ASSERT_EQ(ids[t], t % 4) << t;
        ASSERT_EQ(pos[t], t) << t;
        if (t % 4 == 3) ASSERT_TRUE(std::isnan(nll[t])) << t;
        else ASSERT_FLOAT_EQ(nll[t], float(t) / 8) << t;
    }
    for (int l = 0; l < k_layers; ++l) {
        const auto routing = reader.routing(l, 0, n);
        ASSERT_EQ(routing.tokens, n);
        for (int64_t t = 0; t < n; ++t)
            for (int j = 0; j < k_top; ++j) {
                ASSERT_EQ(routing.topk_ids[t * k_top + j], (t + l + j) % k_experts);
                ASSERT_FLOAT_EQ(routing.topk_weights[t * k_top + j], float(t) + 0.5f * j + 100.f * l);
            }
        if (!reader.has_router_logits()) continue;
        const auto logits = reader.router_logits(l, 0, n);
        for (int64_t t = 0; t < n; ++t)
            for (int e = 0; e < k_experts; ++e)
                ASSERT_FLOAT_EQ(logits[t * k_experts + e], float(t % 16) + 0.25f * e - l);
    }
}

// Writes batches of sizes {8, 5, 8} (docs 1, 2, 1) starting after `skip` batches.
void append_batches(sy::TraceWriter& writer, int skip = 0, int count = 3, bool logits = true) {
    const int64_t sizes[] = {8, 5, 8};
    const int docs[] = {1, 2, 1};
    int64_t first = 0, first_doc = 0;
    for (int b = 0; b < skip + count; ++b) {
        if (b >= skip) writer.append(make_batch(first, sizes[b], first_doc, docs[b], logits));
        first += sizes[b];
        first_doc += docs[b];
    }
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const sy::Error& e) {
        return e.what();
    }
    return "";
}

bool have_tool(const std::string& tool) {
    return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

std::string run_output(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        while (std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, got);
        ::pclose(pipe);
    }
    return out;
}

}  // namespace

TEST(TraceStore, RoundTripKeepsMetaAndRows) {
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    {
        auto writer = sy::TraceWriter::create(file, test_meta(), false);
        append_batches(writer);
        EXPECT_EQ(writer.token_count(), 21);
        EXPECT_EQ(writer.doc_count(), 4);
        writer.close();
    }
    const auto reader = sy::TraceReader::open(file);
    const sy::TraceMeta& meta = reader.meta();
    EXPECT_EQ(meta.command_line, test_meta().command_line);
    EXPECT_EQ(meta.model_fingerprint, "abc123");
    EXPECT_EQ(meta.top_k, k_top);
    EXPECT_EQ(meta.moe_layers, (std::vector<int32_t>{0, 2}));
    EXPECT_EQ(meta.num_experts, (std::vector<int32_t>{4, 3}));
    EXPECT_EQ(meta.token_strings, test_meta().token_strings);
    EXPECT_EQ(meta.format_version, sy::trace_format_version);
    EXPECT_TRUE(meta.router_logits);
    EXPECT_EQ(reader.token_count(), 21);
    ASSERT_EQ(reader.doc_count(), 4);
    EXPECT_EQ(reader.doc_domains(0, 4), (std::vector<std::string>{"c", "c", "python", "c"}));
    EXPECT_EQ(reader.doc_sources(3, 4), (std::vector<std::string>{"d.jsonl:4"}));
    expect_rows(reader);
    EXPECT_THROW(reader.token_ids(0, 22), sy::UsageError);
    EXPECT_THROW(reader.routing(2, 0, 1), sy::UsageError);
}

TEST(TraceStore, LayoutIsTheDocumentedOne) {
    if (!have_tool("h5ls")) GTEST_SKIP() << "h5ls (hdf5-tools) not installed";
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    {
        auto writer = sy::TraceWriter::create(file, test_meta(), false);
        append_batches(writer, 0, 2);
    }
    const std::string listing = run_output("h5ls -r " + file.string());
    for (const char* line :
         {"/docs/domain             Dataset {3/Inf}", "/docs/source             Dataset {3/Inf}",
          "/eval/nll                Dataset {13/Inf}", "/meta/moe_layers         Dataset {2}",
          "/meta/num_experts        Dataset {2}", "/meta/token_strings      Dataset {4}",
          "/routing/router_logits   Dataset {2, 13/Inf, 4}", "/routing/topk_ids        Dataset {2, 13/Inf, 2}",
          "/routing/topk_weights    Dataset {2, 13/Inf, 2}", "/tokens/doc              Dataset {13/Inf}",
          "/tokens/ids              Dataset {13/Inf}", "/tokens/pos              Dataset {13/Inf}"})
        EXPECT_NE(listing.find(line), std::string::npos) << line << "\n" << listing;
    const std::string types = run_output("h5dump -H " + file.string());
    EXPECT_NE(types.find("DATATYPE  H5T_STD_I16LE"), std::string::npos);
    EXPECT_NE(types.find("ATTRIBUTE \"model_fingerprint\""), std::string::npos);
}

TEST(TraceStore, ExistingFileIsRefusedUnlessOverwrite) {
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    sy::TraceWriter::create(file, test_meta(), false).close();
    EXPECT_NE(error_of([&] { sy::TraceWriter::create(file, test_meta(), false); }).find("already exists"),
              std::string::npos);
    auto writer = sy::TraceWriter::create(file, test_meta(false), true);
    append_batches(writer, 0, 1, false);
    writer.close();
    const auto reader = sy::TraceReader::open(file);
    EXPECT_FALSE(reader.has_router_logits());
    EXPECT_THROW(reader.router_logits(0, 0, 1), sy::UsageError);
    expect_rows(reader);
}

// A writer in a child process appends batches; this process reads with SWMR after each flush.
TEST(TraceStore, ConcurrentSwmrReaderSeesEveryFlushedBatch) {
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    int to_parent[2], to_child[2];
    ASSERT_EQ(::pipe(to_parent), 0);
    ASSERT_EQ(::pipe(to_child), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int status = 0;
        try {
            auto writer = sy::TraceWriter::create(file, test_meta(), false);
            for (int b = 0; b < 3; ++b) {
                append_batches(writer, b, 1);
                char go = 'b';
                if (::write(to_parent[1], &go, 1) != 1 || ::read(to_child[0], &go, 1) != 1) status = 2;
            }
            writer.close();
        } catch (...) {
            status = 1;
        }
        ::_exit(status);
    }
    const int64_t expected[] = {8, 13, 21};
    std::optional<sy::TraceReader> reader;
    for (int b = 0; b < 3; ++b) {
        char signal = 0;
        ASSERT_EQ(::read(to_parent[0], &signal, 1), 1);
        if (!reader) reader.emplace(sy::TraceReader::open(file));   // opened while the writer is active
        else EXPECT_TRUE(reader->refresh());
        EXPECT_EQ(reader->token_count(), expected[b]);
        expect_rows(*reader);
        EXPECT_FALSE(reader->refresh());
        ASSERT_EQ(::write(to_child[1], &signal, 1), 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(reader->doc_count(), 4);
}

TEST(TraceStore, ResumeContinuesAfterTheLastBatch) {
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    {
        auto writer = sy::TraceWriter::create(file, test_meta(), false);
        append_batches(writer, 0, 2);
    }   // closed as by Ctrl-C
    {
        sy::TraceMeta meta = test_meta();
        meta.device = "cuda:0";
        meta.max_tokens = 1000;
        auto writer = sy::TraceWriter::resume(file, meta);
        EXPECT_EQ(writer.token_count(), 13);
        EXPECT_EQ(writer.doc_count(), 3);
        writer.start(3);
        append_batches(writer, 2, 1);
        writer.close();
    }
    const auto reader = sy::TraceReader::open(file);
    EXPECT_EQ(reader.token_count(), 21);
    EXPECT_EQ(reader.doc_count(), 4);
    EXPECT_EQ(reader.meta().device, "cuda:0");
    EXPECT_EQ(reader.meta().max_tokens, 1000);
    EXPECT_EQ(reader.meta().created, test_meta().created);
    expect_rows(reader);
}

TEST(TraceStore, ResumeRefusesOtherModelOrOptions) {
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    sy::TraceWriter::create(file, test_meta(), false).close();
    sy::TraceMeta other = test_meta();
    other.model_fingerprint = "different";
    EXPECT_NE(error_of([&] { sy::TraceWriter::resume(file, other); }).find("cannot resume: the model"),
              std::string::npos);
    other = test_meta();
    other.seq_len = 8;
    EXPECT_NE(error_of([&] { sy::TraceWriter::resume(file, other); }).find("--seq-len differs"), std::string::npos);
    other = test_meta();
    other.router_logits = false;
    EXPECT_NE(error_of([&] { sy::TraceWriter::resume(file, other); }).find("--router-logits"), std::string::npos);
    EXPECT_NE(
        error_of([&] { sy::TraceWriter::resume(tmp.path() / "none.h5", test_meta()); }).find("no trace to resume"),
        std::string::npos);
}

// A writer killed after two flushed batches leaves a file a SWMR reader opens; --resume names
// h5clear, and after `h5clear -s` it continues.
TEST(TraceStore, KilledWriterLeavesAReadableResumableFile) {
    TempDir tmp;
    const fs::path file = tmp.path() / "t.h5";
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        try {
            auto writer = sy::TraceWriter::create(file, test_meta(), false);
            append_batches(writer, 0, 2);
            ::_exit(0);   // no close: as if killed
        } catch (...) {
            ::_exit(1);
        }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    {
        const auto reader = sy::TraceReader::open(file);
        EXPECT_EQ(reader.token_count(), 13);
        expect_rows(reader);
    }
    if (!have_tool("h5clear")) GTEST_SKIP() << "h5clear (hdf5-tools) not installed";
    const std::string refused = error_of([&] { sy::TraceWriter::resume(file, test_meta()); });
    EXPECT_NE(refused.find("h5clear -s"), std::string::npos) << refused;
    ASSERT_EQ(std::system(("h5clear -s " + file.string()).c_str()), 0);
    auto writer = sy::TraceWriter::resume(file, test_meta());
    EXPECT_EQ(writer.token_count(), 13);
    writer.start(3);
    append_batches(writer, 2, 1);
    writer.close();
    const auto reader = sy::TraceReader::open(file);
    EXPECT_EQ(reader.token_count(), 21);
    expect_rows(reader);
}

TEST(TraceStore, NotATraceIsRefused) {
    TempDir tmp;
    const fs::path file = tmp.path() / "x.h5";
    std::ofstream(file) << "not hdf5";
    EXPECT_THROW(sy::TraceReader::open(file), sy::IoError);
    EXPECT_THROW(sy::TraceReader::open(tmp.path() / "missing.h5"), sy::IoError);
}

TEST(TraceStore, Sha256MatchesFipsVectors) {
    sy::Sha256 empty;
    EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sy::Sha256 abc;
    abc.update("abc");
    EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sy::Sha256 two_blocks;
    two_blocks.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    EXPECT_EQ(two_blocks.hex_digest(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sy::Sha256 million;
    const std::string chunk(1000, 'a');
    for (int i = 0; i < 1000; ++i) million.update(chunk);
    EXPECT_EQ(million.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(TraceStore, ModelFingerprintDependsOnTheModel) {
    const auto a = sy::open_model(sy::test::examples_dir() / "tiny-mixtral");
    const auto b = sy::open_model(sy::test::data_dir() / "models" / "tiny-llama");
    const std::string fa = sy::model_fingerprint(a);
    EXPECT_EQ(fa.size(), 64u);
    EXPECT_EQ(fa, sy::model_fingerprint(a));
    EXPECT_NE(fa, sy::model_fingerprint(b));
}

TEST(TraceStore, HalfConversionRoundTripsAndRoundsToNearestEven) {
    for (uint32_t bits = 0; bits < 0x10000; ++bits) {
        const float value = sy::half_to_float(uint16_t(bits));
        if (std::isnan(value)) {
            EXPECT_TRUE(std::isnan(sy::half_to_float(sy::float_to_half(value))));
            continue;
        }
        ASSERT_EQ(sy::float_to_half(value), bits) << std::hex << bits;
    }
    EXPECT_EQ(sy::float_to_half(1.0f + 1.0f / 2048), sy::float_to_half(1.0f));           // tie -> even
    EXPECT_EQ(sy::float_to_half(1.0f + 3.0f / 2048), sy::float_to_half(1.0f + 2.0f / 1024));
    EXPECT_EQ(sy::float_to_half(65520.f), 0x7c00);                                       // overflow -> inf
    EXPECT_EQ(sy::float_to_half(65519.f), 0x7bff);
    EXPECT_EQ(sy::float_to_half(1e-8f), 0);
    EXPECT_EQ(sy::float_to_half(std::ldexp(1.0f, -24)), 1);                              // smallest subnormal
}
