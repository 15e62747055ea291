// The weight loader's conversions (BF16 read into the f32 result and widened in place, tensors
// loaded on several threads, layers prefetched while the previous one computes) must give
// exactly what a plain conversion of the stored values gives, and a runner's first batch
// exactly what its later batches give.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

#include <torch/torch.h>

#include "runner_fixtures.h"
#include "forward/token_embedding.h"
#include "weights/weight_loader.h"
#include "switchyard/compute/expert_tensors.h"
#include "switchyard/compute/model_patch.h"
#include "switchyard/compute/torch_bridge.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/checkpoint.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/tensor_convert.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/core/trace_store.h"

namespace sy::test {
namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Stored values of expert `e`'s `role` tensor, converted by core's scalar code: the per-expert
// tensor, or slice e of the fused [E, ...] tensor.
std::vector<float> stored_f32(const Model& model, TensorRole role, int layer, int expert, int64_t rows_from = 0,
                              int64_t rows = -1) {
    const FamilySpec& family = *model.description.family;
    const bool fused = model.layout == ExpertLayout::fused;
    const TensorInfo& info = model.checkpoint.at(tensor_name(family, role, layer, fused ? -1 : expert, model.layout));
    std::vector<float> all = to_f32(model.checkpoint.view(info));
    const int64_t per_expert = fused ? info.numel() / info.shape.at(0) : info.numel();
    const int64_t cols = info.shape.back();
    const int64_t begin = (fused ? expert * per_expert : 0) + rows_from * cols;
    const int64_t count = rows < 0 ? per_expert : rows * cols;
    return std::vector<float>(all.begin() + begin, all.begin() + begin + count);
}

class WeightLoadIntegration : public ::testing::TestWithParam<std::string> {};

TEST_P(WeightLoadIntegration, ExpertsAndRoutersAreTheStoredValuesBitForBit) {
    const Model model = open_model(fixture_model_dir(GetParam()));
    const bool fused = model.layout == ExpertLayout::fused;
    for (int layer : model.description.moe_layers) {
        SCOPED_TRACE("layer " + std::to_string(layer));
        const int experts = model.description.experts_in_layer(layer);
        for (int e = 0; e < experts; ++e) {
            const std::vector<float> gate = load_expert_part_f32(model, layer, e, ExpertPart::gate);
            const std::vector<float> up = load_expert_part_f32(model, layer, e, ExpertPart::up);
            const std::vector<float> down = load_expert_part_f32(model, layer, e, ExpertPart::down);
            if (fused) {
                const int64_t width = static_cast<int64_t>(down.size()) / model.description.hidden_size;
                EXPECT_TRUE(same_bits(gate, stored_f32(model, TensorRole::expert_gate_up, layer, e, 0, width))) << "expert " << e;
                EXPECT_TRUE(same_bits(up, stored_f32(model, TensorRole::expert_gate_up, layer, e, width, width))) << "expert " << e;
                EXPECT_TRUE(same_bits(down, stored_f32(model, TensorRole::expert_down, layer, e))) << "expert " << e;
            } else {
                EXPECT_TRUE(same_bits(gate, stored_f32(model, TensorRole::expert_gate, layer, e))) << "expert " << e;
                EXPECT_TRUE(same_bits(up, stored_f32(model, TensorRole::expert_up, layer, e))) << "expert " << e;
                EXPECT_TRUE(same_bits(down, stored_f32(model, TensorRole::expert_down, layer, e))) << "expert " << e;
            }
        }
        const TensorInfo& router = model.checkpoint.at(tensor_name(*model.description.family, TensorRole::router, layer, -1, model.layout));
        EXPECT_TRUE(same_bits(load_router_f32(model, layer), to_f32(model.checkpoint.view(router))));
    }
}

// The first batch overlaps loading with compute (layer l + 1 loads while l runs); later
// batches use the cached layers. Same logits and routing, bit for bit.
TEST_P(WeightLoadIntegration, FirstBatchEqualsLaterBatches) {
    const Model model = open_model(fixture_model_dir(GetParam()));
    const Batch batch = golden_batch(read_goldens(fixture_goldens(GetParam())));
    ModelRunner runner(model, RunnerOptions{});
    RecordingObserver first_routing, second_routing;
    const BatchOutput first = runner.run(batch, &first_routing, true);
    const BatchOutput second = runner.run(batch, &second_routing, true);
    EXPECT_TRUE(same_bits(first.logits, second.logits));
    ASSERT_EQ(first_routing.layers.size(), second_routing.layers.size());
    for (std::size_t l = 0; l < first_routing.layers.size(); ++l) {
        EXPECT_EQ(first_routing.layers[l].ids, second_routing.layers[l].ids) << "layer " << l;
        EXPECT_TRUE(same_bits(first_routing.layers[l].weights, second_routing.layers[l].weights)) << "layer " << l;
    }
}

// Where tensor `role` of (layer, expert) lies in the checkpoint's mapping.
const void* mapped_bytes(const Model& model, TensorRole role, int layer, int expert) {
    return model.checkpoint.view(model.checkpoint.at(tensor_name(*model.description.family, role, layer, expert, model.layout)))
        .data;
}

// Streamed schedules use bf16 experts where they lie in the checkpoint's mapping
// (WeightLoader::SourceMapping::streamed): the tensor is the mapped bytes themselves, equal to a loaded
// copy; other roles, other dtypes and patched loaders copy; and recycle() never hands a mapped
// tensor out as a read destination (the mapping is read-only: writing would crash).
TEST(WeightLoad, StreamedBf16ExpertsAreTheMappedBytesAndNeverReadDestinations) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    WeightLoader mapping(model, ComputeDType::bf16, torch::kCPU), copying(model, ComputeDType::bf16, torch::kCPU);
    mapping.set_source_mapping(WeightLoader::SourceMapping::streamed);
    for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down}) {
        const torch::Tensor mapped = mapping.load(role, 1, 2), copy = copying.load(role, 1, 2);
        EXPECT_EQ(mapped.data_ptr(), mapped_bytes(model, role, 1, 2));
        EXPECT_NE(copy.data_ptr(), mapped_bytes(model, role, 1, 2));
        EXPECT_TRUE(torch::equal(mapped, copy));
    }
    EXPECT_NE(mapping.load(TensorRole::attn_q, 1).data_ptr(), mapped_bytes(model, TensorRole::attn_q, 1, -1));
    WeightLoader f32(model, ComputeDType::f32, torch::kCPU);
    f32.set_source_mapping(WeightLoader::SourceMapping::streamed);
    EXPECT_NE(f32.load(TensorRole::expert_gate, 1, 2).data_ptr(), mapped_bytes(model, TensorRole::expert_gate, 1, 2));

    // A finished layer's tensors go back to the pool; a mapped one must not come out of it.
    torch::Tensor gate = mapping.load(TensorRole::expert_gate, 1, 3);
    const std::vector<int64_t> shape = gate.sizes().vec();
    std::vector<torch::Tensor> finished;
    finished.push_back(std::move(gate));
    mapping.recycle(std::move(finished));
    mapping.set_source_mapping(WeightLoader::SourceMapping::none);
    const torch::Tensor read = mapping.load(TensorRole::expert_gate, 1, 3);   // pread into a pool tensor
    EXPECT_EQ(read.sizes().vec(), shape);
    EXPECT_NE(read.data_ptr(), mapped_bytes(model, TensorRole::expert_gate, 1, 3));
    EXPECT_TRUE(torch::equal(read, copying.load(TensorRole::expert_gate, 1, 3)));
}

// Whether every page of [data, data + bytes) is mapped in this process (/proc/self/pagemap bit
// 63, readable without privileges): release() must leave a resident tensor's pages mapped, or
// every batch would fault them back in.
bool pages_present(const void* data, std::size_t bytes) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<std::uintptr_t>(data) / page, last = (reinterpret_cast<std::uintptr_t>(data) + bytes - 1) / page;
    const int fd = ::open("/proc/self/pagemap", O_RDONLY);   // (an ifstream cannot seek in it)
    bool present = fd >= 0;
    for (std::uintptr_t p = first; present && p <= last; ++p) {
        uint64_t entry = 0;
        present = ::pread(fd, &entry, sizeof(entry), static_cast<off_t>(p * sizeof(entry))) == sizeof(entry) && (entry >> 63);
    }
    if (fd >= 0) ::close(fd);
    return present;
}

// Resident schedules use every tensor stored in its compute dtype where it lies in the
// checkpoint's mapping (WeightLoader::SourceMapping::resident), equal to a loaded copy and kept mapped
// by release(); tensors the loader rewrites (zero-centred norms, gpt-oss's interleaved fused
// experts), other dtypes and patched loaders copy.
TEST(WeightLoad, ResidentTensorsStoredInTheComputeDtypeAreTheMappedBytesAndStayMapped) {
    const Model qwen3 = open_model(fixture_model_dir("tiny-qwen3-moe"));
    WeightLoader mapping(qwen3, ComputeDType::bf16, torch::kCPU), copying(qwen3, ComputeDType::bf16, torch::kCPU);
    mapping.set_source_mapping(WeightLoader::SourceMapping::resident);
    const struct { TensorRole role; int layer, expert; } cases[] = {
        {TensorRole::token_embedding, -1, -1}, {TensorRole::lm_head, -1, -1}, {TensorRole::attn_q, 1, -1},
        {TensorRole::attn_o, 1, -1}, {TensorRole::router, 1, -1}, {TensorRole::expert_gate, 1, 2}, {TensorRole::expert_down, 1, 5}};
    for (const auto& c : cases) {
        const torch::Tensor mapped = mapping.load(c.role, c.layer, c.expert), copy = copying.load(c.role, c.layer, c.expert);
        EXPECT_EQ(mapped.data_ptr(), mapped_bytes(qwen3, c.role, c.layer, c.expert)) << tensor_role_name(c.role);
        EXPECT_NE(copy.data_ptr(), mapped_bytes(qwen3, c.role, c.layer, c.expert)) << tensor_role_name(c.role);
        EXPECT_TRUE(torch::equal(mapped, copy)) << tensor_role_name(c.role);
        mapping.release(c.role, c.layer, c.expert);
        EXPECT_TRUE(pages_present(mapped.data_ptr(), mapped.nbytes())) << tensor_role_name(c.role);
    }
    // The streamed schedule's release does drop them (the check above can fail).
    WeightLoader streamed(qwen3, ComputeDType::bf16, torch::kCPU);
    streamed.set_source_mapping(WeightLoader::SourceMapping::streamed);
    const torch::Tensor expert = streamed.load(TensorRole::expert_up, 0, 1);
    EXPECT_EQ(expert.data_ptr(), mapped_bytes(qwen3, TensorRole::expert_up, 0, 1));
    streamed.release(TensorRole::expert_up, 0, 1);
    EXPECT_FALSE(pages_present(expert.data_ptr(), expert.nbytes()));

    WeightLoader f32(qwen3, ComputeDType::f32, torch::kCPU), patched(qwen3, ComputeDType::bf16, torch::kCPU);
    f32.set_source_mapping(WeightLoader::SourceMapping::resident);
    EXPECT_NE(f32.load(TensorRole::attn_q, 1).data_ptr(), mapped_bytes(qwen3, TensorRole::attn_q, 1, -1));
    const ModelPatch patch;
    patched.set_patch(&patch);
    patched.set_source_mapping(WeightLoader::SourceMapping::resident);
    EXPECT_NE(patched.load(TensorRole::expert_gate, 1, 2).data_ptr(), mapped_bytes(qwen3, TensorRole::expert_gate, 1, 2));

    // Qwen3-Next's norms are stored as w and used as 1 + w (in f32): with them stored in f32,
    // f32 compute needs no conversion, yet they are copies, never the mapping.
    TempDir tmp;
    {
        const Checkpoint source = Checkpoint::open(fixture_model_dir("tiny-qwen3-next"));
        const auto is_norm = [](const std::string& name) { return name.size() > 11 && name.rfind("norm.weight") == name.size() - 11; };
        std::vector<TensorDecl> decls;
        for (const TensorInfo& t : source.tensors()) decls.push_back({t.name, is_norm(t.name) ? DType::f32 : t.dtype, t.shape});
        SafetensorsWriter writer(tmp.path() / "model.safetensors", decls, {{"format", "pt"}});
        for (const TensorInfo& t : source.tensors()) {
            const TensorView view = source.view(t);
            if (!is_norm(t.name)) {
                writer.write(view.data, t.nbytes());
                continue;
            }
            const std::vector<float> values = to_f32(view);
            writer.write(values.data(), values.size() * sizeof(float));
        }
        writer.finish();
        std::filesystem::copy_file(fixture_model_dir("tiny-qwen3-next") / "config.json", tmp.path() / "config.json");
    }
    const Model next = open_model(tmp.path());
    WeightLoader next_loader(next, ComputeDType::f32, torch::kCPU);
    next_loader.set_source_mapping(WeightLoader::SourceMapping::resident);
    for (TensorRole role : {TensorRole::attn_norm, TensorRole::ffn_norm}) {
        const torch::Tensor norm = next_loader.load(role, 0);
        EXPECT_NE(norm.data_ptr(), mapped_bytes(next, role, 0, -1)) << tensor_role_name(role);
        const TensorInfo& stored = next.checkpoint.at(tensor_name(*next.description.family, role, 0, -1, next.layout));
        EXPECT_TRUE(torch::equal(norm, view_as_torch(next.checkpoint.view(stored)) + 1)) << tensor_role_name(role);
    }

    // gpt-oss stores its fused experts interleaved [E, in, out]: rearranged, so copied.
    const Model oss = open_model(fixture_model_dir("tiny-gpt-oss-bf16"));
    WeightLoader oss_loader(oss, ComputeDType::bf16, torch::kCPU);
    oss_loader.set_source_mapping(WeightLoader::SourceMapping::resident);
    EXPECT_NE(oss_loader.load(TensorRole::expert_gate_up, 0).data_ptr(), mapped_bytes(oss, TensorRole::expert_gate_up, 0, -1));
    EXPECT_EQ(oss_loader.load(TensorRole::attn_q, 0).data_ptr(), mapped_bytes(oss, TensorRole::attn_q, 0, -1));
}

// An untied token embedding only serves a row lookup: f32 compute keeps the stored BF16 table
// (mapped, under a resident schedule) and widens the rows it gathers, which gives the values a
// widened table would. A tied one is also the lm_head and is converted like it.
TEST(WeightLoad, AnUntiedBf16EmbeddingStaysBf16UnderF32Compute) {
    Model qwen3 = open_model(fixture_model_dir("tiny-qwen3-moe"));
    ASSERT_FALSE(qwen3.description.tie_word_embeddings);
    const TensorRole embedding = TensorRole::token_embedding;
    EXPECT_EQ(loaded_dtype(qwen3, embedding, ComputeDType::f32), torch::kBFloat16);
    EXPECT_EQ(loaded_dtype(qwen3, embedding, ComputeDType::bf16), torch::kBFloat16);
    EXPECT_EQ(loaded_dtype(qwen3, TensorRole::lm_head, ComputeDType::f32), torch::kFloat32);
    const auto table_elements = static_cast<uint64_t>(qwen3.description.vocab_size * qwen3.description.hidden_size);
    EXPECT_EQ(converted_bytes(qwen3, ComputeDType::f32, embedding), 2 * table_elements);
    EXPECT_EQ(converted_bytes(qwen3, ComputeDType::f32, TensorRole::lm_head), 4 * table_elements);

    WeightLoader resident(qwen3, ComputeDType::f32, torch::kCPU), copying(qwen3, ComputeDType::f32, torch::kCPU);
    resident.set_source_mapping(WeightLoader::SourceMapping::resident);
    const torch::Tensor mapped = resident.load(embedding), copy = copying.load(embedding);
    EXPECT_EQ(mapped.data_ptr(), mapped_bytes(qwen3, embedding, -1, -1));
    EXPECT_EQ(copy.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(mapped, copy));
    const torch::Tensor ids = torch::tensor({int64_t{5}, int64_t{0}, int64_t{5}, int64_t{qwen3.description.vocab_size - 1}}, torch::kInt64);
    const torch::Tensor rows = embed_tokens(copy, ids, torch::kFloat32);
    EXPECT_EQ(rows.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(rows, copy.to(torch::kFloat32).index_select(0, ids)));

    qwen3.description.tie_word_embeddings = true;
    EXPECT_EQ(loaded_dtype(qwen3, embedding, ComputeDType::f32), torch::kFloat32);
    EXPECT_EQ(WeightLoader(qwen3, ComputeDType::f32, torch::kCPU).load(embedding).scalar_type(), torch::kFloat32);
}

// A trace given a loaded runner uses it (the token inspector's requests share one): the same
// routing as a trace that loads its own, and the runner's options in /meta.
TEST(WeightLoad, TraceReusesAGivenRunner) {
    const Model model = open_model(fixture_model_dir("tiny-mixtral"));
    TempDir tmp;
    TraceOptions options;
    options.corpus.data = {data_dir() / "corpus" / "valid-sample.jsonl"};
    options.corpus.max_tokens = 512;
    options.corpus.seq_len = 256;
    NullProgress progress;
    CancelToken cancel;
    options.output = tmp.path() / "own.h5";
    run_trace(model, options, progress, cancel);
    RunnerOptions bf16;
    bf16.dtype = ComputeDType::bf16;
    options.reuse_runner = std::make_shared<ModelRunner>(model, RunnerOptions{});
    options.runner = bf16;   // ignored: the reused runner's options apply
    for (const char* name : {"reused-1.h5", "reused-2.h5"}) {
        options.output = tmp.path() / name;
        run_trace(model, options, progress, cancel);
    }
    const TraceReader own = TraceReader::open(tmp.path() / "own.h5");
    for (const char* name : {"reused-1.h5", "reused-2.h5"}) {
        const TraceReader reused = TraceReader::open(tmp.path() / name);
        EXPECT_EQ(reused.meta().dtype, "f32") << name;
        ASSERT_EQ(reused.token_count(), own.token_count()) << name;
        for (int m = 0; m < static_cast<int>(own.meta().moe_layers.size()); ++m) {
            EXPECT_EQ(reused.routing(m, 0, own.token_count()).topk_ids, own.routing(m, 0, own.token_count()).topk_ids)
                << name << " MoE layer " << m;
        }
    }
}

// BF16 checkpoints of both layouts, several families (gpt-oss's interleaved experts and
// DeepSeek FP8 go through other conversions, tested with their families).
INSTANTIATE_TEST_SUITE_P(Bf16Fixtures, WeightLoadIntegration,
                         ::testing::Values("tiny-qwen3-moe", "tiny-qwen3-moe-fused", "tiny-olmoe", "tiny-deepseek-v3",
                                           "tiny-glm4-moe"),
                         fixture_test_name);

}  // namespace
}  // namespace sy::test
