// An expert merged with a neuron-permuted copy of itself comes back as that expert with
// --align, and visibly not without it (editing.md §7 merge acceptance test (a)).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "editing_fixtures.h"
#include "switchyard/core/tensor_names.h"
#include "switchyard/editing/edit_export.h"

using namespace sy;
using namespace sy::test;

namespace {

// Expert 1 of every layer := expert 0 with its intermediate neurons permuted by `perm`.
void write_permuted_copy(const std::filesystem::path& out, const std::vector<int>& perm) {
    const std::filesystem::path source = model_dir("tiny-mixtral");
    const Model model = open_model(source);
    const FamilySpec& spec = *model.description.family;
    const int64_t inter = model.description.expert_intermediate_size, hidden = model.description.hidden_size;
    copy_model(source, out, [&](const TensorInfo& info, std::vector<unsigned char>& bytes) {
        for (int layer : model.description.moe_layers)
            for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down}) {
                if (info.name != tensor_name(spec, role, layer, 1)) continue;
                const auto e0 = tensor_bytes(source, tensor_name(spec, role, layer, 0));
                for (int64_t n = 0; n < inter; ++n) {
                    const auto p = static_cast<int64_t>(perm[size_t(n)]);
                    if (role == TensorRole::expert_down)   // column n of [H, I]
                        for (int64_t r = 0; r < hidden; ++r)
                            std::copy_n(e0.begin() + 2 * (r * inter + p), 2, bytes.begin() + 2 * (r * inter + n));
                    else   // row n of [I, H]
                        std::copy_n(e0.begin() + 2 * p * hidden, 2 * hidden, bytes.begin() + 2 * n * hidden);
                }
            }
    });
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::fabs(a[i] - b[i])));
    return worst;
}

std::vector<float> merged_part(const std::filesystem::path& dir, bool align, TensorRole role, int layer,
                               const std::filesystem::path& out) {
    const Model model = open_model(dir);
    MergeEdit merge;
    merge.align = align;
    for (int l : model.description.moe_layers) merge.groups[l] = {MergeGroup{{0, 1}, 0, {0.5, 0.5}}};
    NullProgress progress;
    CancelToken cancel;
    const EditPlan plan = plan_edits(model, {merge}, progress, cancel);
    ExportOptions options;
    options.output_dir = out;
    export_edited(model, plan, options, EditRecord{}, progress, cancel);
    return bf16_values(tensor_bytes(out, tensor_name(*model.description.family, role, layer, 0)));
}

}  // namespace

TEST(MergeAlignment, PermutedCopyMergesBackIntoTheExpertOnlyWhenAligned) {
    TempDir tmp;
    std::vector<int> perm(256);
    std::iota(perm.begin(), perm.end(), 0);
    std::mt19937 rng(7);
    std::shuffle(perm.begin(), perm.end(), rng);
    const auto model = tmp.path() / "permuted";
    write_permuted_copy(model, perm);
    const std::string spec_name = "tiny-mixtral";
    for (TensorRole role : {TensorRole::expert_gate, TensorRole::expert_up, TensorRole::expert_down}) {
        const std::string name = tensor_name(*open_model(model).description.family, role, 2, 0);
        const std::vector<float> original = bf16_values(tensor_bytes(model, name));
        const auto aligned = merged_part(model, true, role, 2, tmp.path() / ("aligned-" + std::string(tensor_role_name(role))));
        const auto plain = merged_part(model, false, role, 2, tmp.path() / ("plain-" + std::string(tensor_role_name(role))));
        // Aligned: 0.5 a + 0.5 P(P^-1 a) = a, exactly representable.
        EXPECT_EQ(max_abs_diff(aligned, original), 0.0) << name;
        double scale = 0;
        for (float v : original) scale = std::max(scale, double(std::fabs(v)));
        EXPECT_GT(max_abs_diff(plain, original), 0.2 * scale) << name << ": unaligned averaging must visibly differ";
    }
}
