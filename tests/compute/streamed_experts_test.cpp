// Experts streamed under a memory bound smaller than their layer: with room for two, the next
// expert loads on a worker thread while one computes. What must hold: every expert is the
// stored one, whatever the order it is asked for in; no more than two experts' tensors exist at
// a time (the load ahead writes into the expert before the current one); and a finished layer
// hands its expert tensors to the next one instead of the kernel allocating fresh pages.
#include <gtest/gtest.h>

#include <algorithm>

#include <torch/torch.h>

#include "runner_fixtures.h"
#include "switchyard/compute/model_patch.h"
#include "switchyard/core/tensor_names.h"
#include "weights/layer_weights.h"
#include "weights/tensor_file_reader.h"
#include "weights/weight_schedule.h"

namespace sy::test {
namespace {

// Where an expert's tensors lie, sorted: gate and up have one shape, so a load may put either
// into either of a recycled expert's two buffers.
using Buffers = std::vector<const void*>;

bool disjoint(const Buffers& a, const Buffers& b) {
    return std::none_of(a.begin(), a.end(), [&](const void* p) { return std::find(b.begin(), b.end(), p) != b.end(); });
}

// Acquires `order` the way the MoE block does (the caller drops each expert before the next),
// checks each against a plain load, and returns where each expert's tensors lie.
std::vector<Buffers> acquire_in_order(StreamedExperts& experts, const WeightLoader& plain, int layer,
                                      const std::vector<int>& order) {
    std::vector<Buffers> where;
    experts.will_acquire(order);
    for (int e : order) {
        const ExpertWeights w = experts.acquire(e);
        EXPECT_TRUE(torch::equal(w.gate, plain.load(TensorRole::expert_gate, layer, e))) << "expert " << e;
        EXPECT_TRUE(torch::equal(w.up, plain.load(TensorRole::expert_up, layer, e))) << "expert " << e;
        EXPECT_TRUE(torch::equal(w.down, plain.load(TensorRole::expert_down, layer, e))) << "expert " << e;
        Buffers buffers = {w.gate.data_ptr(), w.up.data_ptr(), w.down.data_ptr()};
        std::sort(buffers.begin(), buffers.end());
        where.push_back(buffers);
        experts.release(e);
    }
    return where;
}

TEST(StreamedExperts, LoadingAheadGivesTheStoredExpertsInTwoAlternatingBuffers) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    const WeightLoader plain(model, ComputeDType::f32, torch::kCPU);
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    const std::vector<int> order = {0, 3, 4, 9, 15};
    std::vector<Buffers> where;
    {
        StreamedExperts ahead(loader, 1, true);
        where = acquire_in_order(ahead, plain, 1, order);
    }
    // Expert i + 1 was loaded while expert i was held, so they differ; expert i + 2 reuses
    // expert i's tensors (recycled once the caller dropped them), so two sets exist in all.
    for (std::size_t i = 0; i + 1 < where.size(); ++i) EXPECT_TRUE(disjoint(where[i], where[i + 1])) << i;
    for (std::size_t i = 0; i + 2 < where.size(); ++i) EXPECT_EQ(where[i], where[i + 2]) << i;
    // The next layer starts in the tensors the finished one gave back. (Blockers of the same
    // sizes take any memory the finished layer might have freed instead, so that the allocator
    // cannot hand the same addresses back by chance.)
    const int64_t inter = model.description.expert_intermediate_size, hidden = model.description.hidden_size;
    std::vector<torch::Tensor> blockers;
    for (int i = 0; i < 2; ++i)
        for (std::vector<int64_t> shape : {std::vector<int64_t>{inter, hidden}, {inter, hidden}, {hidden, inter}})
            blockers.push_back(torch::empty(shape));
    StreamedExperts next_layer(loader, 2, true);
    Buffers given_back = where[where.size() - 2];
    given_back.insert(given_back.end(), where.back().begin(), where.back().end());
    for (const Buffers& buffers : acquire_in_order(next_layer, plain, 2, {1, 2}))
        for (const void* p : buffers)
            EXPECT_NE(std::find(given_back.begin(), given_back.end(), p), given_back.end())
                << "an expert of the next layer is in fresh memory, not in the finished layer's tensors";
}

TEST(StreamedExperts, WithoutRoomForTwoEachExpertReusesThePreviousOnesTensors) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    const WeightLoader plain(model, ComputeDType::f32, torch::kCPU);
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    StreamedExperts one_at_a_time(loader, 1, false);
    const std::vector<Buffers> where = acquire_in_order(one_at_a_time, plain, 1, {2, 5, 7});
    for (std::size_t i = 0; i + 1 < where.size(); ++i) EXPECT_EQ(where[i], where[i + 1]) << i;
}

TEST(StreamedExperts, AnOrderNotFollowedStillGivesTheAskedExperts) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    const WeightLoader plain(model, ComputeDType::f32, torch::kCPU);
    const WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    StreamedExperts experts(loader, 0, true);
    experts.will_acquire({1, 2, 3});
    for (int e : {1, 3, 2, 6}) {   // 3 skips the load of 2 ahead; 6 was never announced
        const ExpertWeights w = experts.acquire(e);
        EXPECT_TRUE(torch::equal(w.gate, plain.load(TensorRole::expert_gate, 0, e))) << e;
        EXPECT_TRUE(torch::equal(w.down, plain.load(TensorRole::expert_down, 0, e))) << e;
    }
}

// An edit preview's replaced expert comes from the patch also when it is the one loaded ahead
// (on the worker thread), and the experts around it from the checkpoint.
TEST(StreamedExperts, APatchedExpertLoadedAheadIsThePatchs) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    const WeightLoader plain(model, ComputeDType::f32, torch::kCPU);
    const int64_t inter = model.description.expert_intermediate_size, hidden = model.description.hidden_size;
    ModelPatch patch;
    patch.layers[1].replaced_experts = {4};
    patch.expert_weights = [&](int, int) {
        const auto filled = [](int64_t n, float v) { return std::vector<float>(static_cast<std::size_t>(n), v); };
        return ExpertTensorsF32{filled(inter * hidden, 0.5f), filled(inter * hidden, -0.25f), filled(hidden * inter, 2.0f),
                                {}, {}, {}};
    };
    WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    loader.set_patch(&patch);
    StreamedExperts experts(loader, 1, true);
    experts.will_acquire({3, 4, 5});
    for (int e : {3, 4, 5}) {
        const ExpertWeights w = experts.acquire(e);
        if (e == 4) {
            EXPECT_TRUE(torch::equal(w.gate, torch::full({inter, hidden}, 0.5f)));
            EXPECT_TRUE(torch::equal(w.down, torch::full({hidden, inter}, 2.0f)));
        } else {
            EXPECT_TRUE(torch::equal(w.up, plain.load(TensorRole::expert_up, 1, e))) << e;
        }
    }
}

// The schedule loads experts ahead exactly when the bound holds the layer's other weights and
// two experts besides the resident ones.
TEST(StreamedExperts, ScheduleLoadsAheadOnlyWhenTwoExpertsFit) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    const MemoryPlan plan = plan_memory(model, ComputeDType::f32);
    const uint64_t expert = plan.largest_expert_bytes.at(0);   // every layer alike in this fixture
    const WeightSchedule tight(loader, plan, plan.min_max_memory_bytes);
    const WeightSchedule two(loader, plan, plan.min_max_memory_bytes + expert);
    const WeightSchedule just_under(loader, plan, plan.min_max_memory_bytes + expert - 1);
    for (int l = 0; l < model.description.num_layers; ++l) {
        EXPECT_TRUE(tight.experts_streamed(l) && two.experts_streamed(l)) << l;
        EXPECT_FALSE(tight.experts_loaded_ahead(l)) << l;
        EXPECT_TRUE(two.experts_loaded_ahead(l)) << l;
        EXPECT_FALSE(just_under.experts_loaded_ahead(l)) << l;
    }
}

// The schedule sets the loader's source mapping from its residency before its read-ahead
// starts: resident without a bound; streamed under one, where f32 loads of the BF16 experts
// it does not read ahead are read directly (where the file system allows O_DIRECT).
TEST(StreamedExperts, ScheduleSetsTheLoadersSourceMapping) {
    const Model model = open_model(fixture_model_dir("tiny-qwen3-moe"));
    const MemoryPlan plan = plan_memory(model, ComputeDType::f32);
    const int last = model.description.num_layers - 1;   // layer 0 is read ahead at construction
    const bool direct = TensorFileReader(model.checkpoint)
                            .reads_direct(model.checkpoint.at(tensor_name(*model.description.family, TensorRole::expert_gate, last, 1, model.layout)));
    WeightLoader loader(model, ComputeDType::f32, torch::kCPU);
    {
        const WeightSchedule resident(loader, plan, 0);
        EXPECT_EQ(resident.residency(), Residency::cache_all);
        EXPECT_FALSE(loader.reads_uncached_directly(TensorRole::expert_gate, last, 1));
    }
    const WeightSchedule streamed(loader, plan, plan.min_max_memory_bytes);
    EXPECT_NE(streamed.residency(), Residency::cache_all);
    EXPECT_EQ(loader.reads_uncached_directly(TensorRole::expert_gate, last, 1), direct);
}

}  // namespace
}  // namespace sy::test
