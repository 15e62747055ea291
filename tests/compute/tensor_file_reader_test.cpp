// Direct reads (O_DIRECT) of tensor bytes: the file's bytes, in ordered pieces, past the page
// cache; and the streamed f32 loader that uses them.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

#include <torch/torch.h>

#include "runner_fixtures.h"
#include "test_paths.h"
#include "weights/layer_weights.h"
#include "weights/tensor_file_reader.h"
#include "weights/weight_loader.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/tensor_names.h"

using namespace sy;
using namespace sy::test;

namespace {

// Drops a file's pages from the page cache (written back first: dirty pages stay cached).
void evict(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0) << path;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

struct Piece {
    uint64_t offset, bytes;
};

std::size_t open_descriptors() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++count;
    return count;
}

}  // namespace

// Every descriptor counts against the process's limit (a DeepSeek-V3 checkpoint has 163 files):
// a reader holds one per file, plus an O_DIRECT one for each file it was asked to read directly,
// opened on that first request and kept.
TEST(TensorFileReader, OpensADirectDescriptorOnlyForAFileReadDirectly) {
    const Checkpoint checkpoint = Checkpoint::open(fixture_model_dir("tiny-qwen3-moe"));
    const std::size_t files = checkpoint.files().size();
    ASSERT_GT(files, 1u);
    const std::size_t before = open_descriptors();
    {
        const TensorFileReader reader(checkpoint);
        EXPECT_EQ(open_descriptors(), before + files);
        const TensorInfo& tensor = checkpoint.tensors().front();
        const std::size_t direct = reader.reads_direct(tensor) ? 1 : 0;   // 0 where O_DIRECT is refused
        EXPECT_EQ(open_descriptors(), before + files + direct);
        EXPECT_EQ(reader.reads_direct(tensor), direct == 1);
        EXPECT_EQ(open_descriptors(), before + files + direct);
    }
    EXPECT_EQ(open_descriptors(), before);
}

TEST(TensorFileReader, DirectReadsGiveTheFileBytesInOrderedPiecesPastThePageCache) {
    TempDir tmp;
    const std::filesystem::path file = tmp.path() / "model.safetensors";
    // 10 MiB + 246 bytes of bf16 after a 6-byte tensor: the bytes start off any 4 KiB block and
    // span three 4 MiB pieces.
    const int64_t values = (int64_t(5) << 20) + 123;
    {
        SafetensorsWriter writer(file, {{"a", DType::bf16, {3}}, {"b", DType::bf16, {values}}}, {{"format", "pt"}});
        const uint16_t a[3] = {1, 2, 3};
        writer.write(a, sizeof a);
        std::vector<uint16_t> b(static_cast<std::size_t>(values));
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint16_t>(i * 2654435761u >> 7);
        writer.write(b.data(), b.size() * 2);
        writer.finish();
    }
    evict(file);
    const Checkpoint checkpoint = Checkpoint::open(tmp.path());
    const TensorInfo& b = checkpoint.at("b");
    const TensorFileReader reader(checkpoint);
    if (checkpoint.cached_fraction(b) > 0.05) GTEST_SKIP() << "the file system of " << tmp.path() << " keeps evicted pages cached";
    if (!reader.reads_direct(b)) {
        bool called = false;
        EXPECT_FALSE(reader.read_direct(b, 0, b.nbytes(), 2, [&](const char*, uint64_t, uint64_t) { called = true; }));
        EXPECT_FALSE(called);
        GTEST_SKIP() << "the file system of " << tmp.path() << " refuses O_DIRECT";
    }
    const struct { uint64_t begin, length; } ranges[] = {
        {0, b.nbytes()}, {2, (uint64_t(8) << 20) + 6}, {4094, 10}, {b.nbytes() - 2, 2}};
    std::vector<std::vector<char>> got;
    for (const auto& r : ranges) {
        std::vector<char> bytes;
        std::vector<Piece> pieces;
        ASSERT_TRUE(reader.read_direct(b, r.begin, r.length, 2, [&](const char* data, uint64_t offset, uint64_t n) {
            pieces.push_back({offset, n});
            bytes.insert(bytes.end(), data, data + n);
        }));
        uint64_t next = 0;
        for (const Piece& p : pieces) {
            EXPECT_EQ(p.offset, next);
            EXPECT_LE(p.bytes, TensorFileReader::kDirectPiece);
            EXPECT_EQ(p.bytes % 2, 0u);
            next += p.bytes;
        }
        EXPECT_EQ(next, r.length);
        got.push_back(std::move(bytes));
    }
    // Past the page cache: the file's pages were not cached by any of it (checked before the
    // comparison below reads them through the mapping).
    EXPECT_LT(checkpoint.cached_fraction(b), 0.05);
    std::vector<char> buffered(4096);
    reader.read(b, 0, buffered.size(), buffered.data());   // a plain read does cache (the check can fail)
    EXPECT_GT(checkpoint.cached_fraction(b, 0, buffered.size()), 0.99);

    const char* stored = reinterpret_cast<const char*>(checkpoint.view(b).data);
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(std::memcmp(got[i].data(), stored + ranges[i].begin, ranges[i].length), 0) << "range " << i;

    // A range starting inside an element is declined, with nothing consumed.
    bool called = false;
    EXPECT_FALSE(reader.read_direct(b, 1, 4, 2, [&](const char*, uint64_t, uint64_t) { called = true; }));
    EXPECT_FALSE(called);
}

// Fraction of the tensor of (role, layer, expert) in the page cache, once `wanted` holds or
// after 3 s.
template <class Wanted>
double cached_when(const Model& model, TensorRole role, int layer, int expert, Wanted wanted) {
    const TensorInfo& info = model.checkpoint.at(tensor_name(*model.description.family, role, layer, expert, model.layout));
    double fraction = model.checkpoint.cached_fraction(info);
    for (int i = 0; i < 300 && !wanted(fraction); ++i) {
        ::usleep(10 * 1000);
        fraction = model.checkpoint.cached_fraction(info);
    }
    return fraction;
}

// A streamed schedule's f32 loads of BF16 tensors read uncached files directly: the same values
// as a copying load, without putting the pages in the page cache; once cached (read ahead), they
// are widened from the mapping instead (same values), as are tensors announced for read-ahead.
// A layer whose experts load ahead reads ahead its first expert only.
TEST(TensorFileReader, StreamedF32LoadsOfUncachedBf16ReadPastThePageCache) {
    TempDir tmp;
    for (const auto& entry : std::filesystem::directory_iterator(fixture_model_dir("tiny-qwen3-moe")))
        std::filesystem::copy(entry.path(), tmp.path() / entry.path().filename());
    for (const auto& entry : std::filesystem::directory_iterator(tmp.path())) evict(entry.path());
    const Model model = open_model(tmp.path());
    WeightLoader streamed(model, ComputeDType::f32, torch::kCPU);
    streamed.set_source_mapping(WeightLoader::SourceMapping::streamed);
    if (!streamed.reads_uncached_directly(TensorRole::expert_gate, 1, 2))
        GTEST_SKIP() << "the file system of " << tmp.path() << " refuses O_DIRECT";
    const TensorInfo& gate_info =
        model.checkpoint.at(tensor_name(*model.description.family, TensorRole::expert_gate, 1, 2, model.layout));
    if (model.checkpoint.cached_fraction(gate_info) > 0.05)
        GTEST_SKIP() << "the file system of " << tmp.path() << " keeps evicted pages cached";
    WeightLoader bf16(model, ComputeDType::bf16, torch::kCPU), resident(model, ComputeDType::f32, torch::kCPU);
    bf16.set_source_mapping(WeightLoader::SourceMapping::streamed);
    resident.set_source_mapping(WeightLoader::SourceMapping::resident);
    EXPECT_FALSE(bf16.reads_uncached_directly(TensorRole::expert_gate, 1, 2));   // mapped, not read
    EXPECT_FALSE(resident.reads_uncached_directly(TensorRole::expert_gate, 1, 2));
    const auto uncached = [](double f) { return f < 0.5; };
    const auto cached = [](double f) { return f > 0.99; };

    const torch::Tensor gate = streamed.load(TensorRole::expert_gate, 1, 2), q = streamed.load(TensorRole::attn_q, 1);
    EXPECT_LT(cached_when(model, TensorRole::expert_gate, 1, 2, uncached), 0.5);
    EXPECT_LT(cached_when(model, TensorRole::attn_q, 1, -1, uncached), 0.5);
    WeightLoader copying(model, ComputeDType::f32, torch::kCPU);   // buffered reads: caches the pages
    EXPECT_TRUE(torch::equal(gate, copying.load(TensorRole::expert_gate, 1, 2)));
    EXPECT_TRUE(torch::equal(q, copying.load(TensorRole::attn_q, 1)));
    EXPECT_GT(cached_when(model, TensorRole::expert_gate, 1, 2, cached), 0.99);
    EXPECT_TRUE(torch::equal(streamed.load(TensorRole::expert_gate, 1, 2), gate));   // now from the mapping

    // A tensor announced for read-ahead is read through the page cache even before the
    // read-ahead reaches it (a direct read would fetch it twice).
    EXPECT_TRUE(streamed.reads_uncached_directly(TensorRole::expert_up, 1, 3));
    streamed.expect_read_ahead({{TensorRole::expert_up, 1, 3}});
    EXPECT_FALSE(streamed.reads_uncached_directly(TensorRole::expert_up, 1, 3));
    const torch::Tensor up = streamed.load(TensorRole::expert_up, 1, 3);
    EXPECT_GT(cached_when(model, TensorRole::expert_up, 1, 3, cached), 0.99);
    EXPECT_TRUE(torch::equal(up, copying.load(TensorRole::expert_up, 1, 3)));

    // A layer whose experts load one ahead reads ahead its common tensors and first expert
    // only; one whose experts load synchronously, every tensor; so does a bf16 run (mapped
    // experts are populated, not read).
    ASSERT_EQ(model.description.moe_layers.front(), 0);
    const int experts = static_cast<int>(model.description.num_experts.front());
    const auto count = [](const std::vector<WeightLoader::Source>& sources, int expert) {
        return std::count_if(sources.begin(), sources.end(), [&](const WeightLoader::Source& s) { return s.expert == expert; });
    };
    const auto ahead = layer_sources_to_read_ahead(streamed, 0, /*experts_loaded_ahead=*/true);
    const auto all = layer_sources_to_read_ahead(streamed, 0, /*experts_loaded_ahead=*/false);
    EXPECT_EQ(count(ahead, 0), 3);
    EXPECT_EQ(count(ahead, -1), count(all, -1));
    EXPECT_GT(count(ahead, -1), 0);
    for (int e = 1; e < experts; ++e) {
        EXPECT_EQ(count(ahead, e), 0) << "expert " << e;
        EXPECT_EQ(count(all, e), 3) << "expert " << e;
    }
    EXPECT_EQ(layer_sources_to_read_ahead(bf16, 0, true).size(), all.size());
}
