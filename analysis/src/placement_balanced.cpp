// Load-balancing placements ported from DeepSeek EPLB's eplb.py (analysis.md 4.6): greedy LPT
// packing with a slot cap per GPU, and max-load replication of hot experts (global policy: the
// hierarchical policy needs expert groups, which a trace does not record).
#include <algorithm>
#include <numeric>
#include <string>

#include "placement_internal.h"
#include "switchyard/core/errors.h"

namespace sy::analysis {

using namespace placement_detail;

namespace {

// Items by weight descending, each into the lightest pack with a free slot (eplb.py
// balanced_packing). `item_key[i]`: items with equal keys avoid sharing a pack while another
// non-full pack is free of that key (no two copies of one expert on a GPU).
std::vector<int> balanced_packing(const std::vector<double>& w, const std::vector<int>& item_key, int packs, int cap) {
    const int n = static_cast<int>(w.size());
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return w[a] > w[b]; });
    std::vector<double> load(packs, 0.0);
    std::vector<int> count(packs, 0), pack_of(n, -1);
    std::vector<std::vector<int>> keys(packs);
    for (int item : order) {
        int best = -1;
        bool best_clash = true;
        for (int g = 0; g < packs; ++g) {
            if (count[g] >= cap) continue;
            const bool clash = std::find(keys[g].begin(), keys[g].end(), item_key[item]) != keys[g].end();
            if (best < 0 || (best_clash && !clash) || (clash == best_clash && load[g] < load[best])) {
                best = g;
                best_clash = clash;
            }
        }
        pack_of[item] = best;
        load[best] += w[item];
        ++count[best];
        keys[best].push_back(item_key[item]);
    }
    return pack_of;
}

// eplb.py replicate_experts: one copy each, then repeatedly one more copy for the expert with
// the largest load per copy.
std::vector<int> replica_counts(const std::vector<double>& load, int extra) {
    std::vector<int> count(load.size(), 1);
    for (int r = 0; r < extra; ++r) {
        size_t best = 0;
        for (size_t e = 1; e < load.size(); ++e) {
            if (load[e] / count[e] > load[best] / count[best]) best = e;
        }
        ++count[best];
    }
    return count;
}

}  // namespace

Placement balanced_placement(const PlacementProblem& p, int gpus, int nodes) {
    check_divisible(p.shape, gpus, nodes);
    Placement pl;
    pl.gpus = gpus;
    pl.nodes = nodes;
    for (int l = 0; l < p.shape.layer_count(); ++l) {
        const int experts = p.shape.num_experts[l];
        std::vector<int> keys(experts);
        std::iota(keys.begin(), keys.end(), 0);
        pl.gpu_of_expert.push_back(balanced_packing(p.loads[l], keys, gpus, experts / gpus));
    }
    return pl;
}

Placement eplb_placement(const PlacementProblem& p, int gpus, int nodes, int redundant_per_gpu) {
    check_divisible(p.shape, gpus, nodes);
    // More replica slots per GPU than a layer has experts would only copy experts onto GPUs that
    // already hold them (and the packing grows with the slot count).
    for (int l = 0; l < p.shape.layer_count(); ++l)
        SY_CHECK(redundant_per_gpu >= 0 && redundant_per_gpu <= p.shape.num_experts[l], UsageError,
                 "--redundant: replica slots per GPU must lie in [0, " + std::to_string(p.shape.num_experts[l]) +
                     "] (the experts of a layer), found " + std::to_string(redundant_per_gpu));
    Placement pl;
    pl.gpus = gpus;
    pl.nodes = nodes;
    for (int l = 0; l < p.shape.layer_count(); ++l) {
        const int experts = p.shape.num_experts[l];
        const std::vector<int> count = replica_counts(p.loads[l], redundant_per_gpu * gpus);
        std::vector<double> w;
        std::vector<int> key;
        for (int e = 0; e < experts; ++e) {
            for (int c = 0; c < count[e]; ++c) {
                w.push_back(p.loads[l][e] / count[e]);
                key.push_back(e);
            }
        }
        const std::vector<int> gpu = balanced_packing(w, key, gpus, (experts + redundant_per_gpu * gpus) / gpus);
        std::vector<std::vector<int>> copies(static_cast<size_t>(experts));
        for (size_t r = 0; r < gpu.size(); ++r) copies[key[r]].push_back(gpu[r]);
        std::vector<int> primary;
        for (const auto& c : copies) primary.push_back(c.front());
        pl.gpu_of_expert.push_back(std::move(primary));
        pl.replicas.push_back(std::move(copies));
    }
    return pl;
}

}  // namespace sy::analysis
