// Scalable affinity placement: seeded restarts, each an anchor layer grouped by
// similarity and propagated outwards, then block-coordinate descent in which every layer is
// re-placed exactly (capacitated assignment) given both neighbours; perturbation kicks once the
// anchors are used up. Stops at zero cost, at the deadline, or after a run of restarts that do
// not improve.
#include <algorithm>
#include <random>

#include "placement_internal.h"

namespace sy::analysis::placement_detail {

namespace {

constexpr int max_stale_restarts = 12;

// Re-places dirty layers until no layer improves (or the deadline / cancel).
void descend(const PlacementProblem& p, Placement& pl, Clock::time_point deadline, const CancelToken& cancel) {
    const int layers = p.shape.layer_count();
    std::vector<char> dirty(static_cast<size_t>(layers), 1);
    for (bool any = true; any;) {
        any = false;
        for (int pass = 0; pass < 2; ++pass) {
            for (int s = 0; s < layers; ++s) {
                const int l = pass == 0 ? s : layers - 1 - s;
                if (!dirty[l]) continue;
                cancel.throw_if_cancelled();
                if (Clock::now() > deadline) return;
                dirty[l] = 0;
                if (!reassign_layer(p, pl, l, true, true)) continue;
                any = true;
                if (l > 0) dirty[l - 1] = 1;
                if (l + 1 < layers) dirty[l + 1] = 1;
            }
        }
    }
}

// Anchor layer grouped by similarity, the other layers placed outwards from it.
Placement seeded(const PlacementProblem& p, const Placement& shape_of, int anchor) {
    Placement pl = shape_of;
    pl.gpu_of_expert[anchor] = similarity_groups(p, anchor, pl.gpus);
    for (int l = anchor + 1; l < p.shape.layer_count(); ++l) reassign_layer(p, pl, l, true, false);
    for (int l = anchor - 1; l >= 0; --l) reassign_layer(p, pl, l, false, true);
    return pl;
}

// Swaps `swaps` random expert pairs (on different GPUs) in `window` consecutive layers.
void kick(Placement& pl, std::mt19937_64& rng, int window, int swaps) {
    const int layers = static_cast<int>(pl.gpu_of_expert.size());
    const int first = static_cast<int>(rng() % static_cast<uint64_t>(std::max(1, layers - window + 1)));
    for (int l = first; l < std::min(layers, first + window); ++l) {
        auto& g = pl.gpu_of_expert[l];
        for (int s = 0; s < swaps; ++s) {
            const size_t a = rng() % g.size(), b = rng() % g.size();
            std::swap(g[a], g[b]);
        }
    }
}

std::vector<int> anchor_layers(int layers) {
    std::vector<int> a = {0, layers - 1, layers / 2, layers / 4, (3 * layers) / 4};
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
    return a;
}

}  // namespace

Placement affinity_heuristic(const PlacementProblem& p, const Placement& start, Clock::time_point deadline,
                             uint64_t seed, Progress& progress, const CancelToken& cancel) {
    const Clock::time_point begin = Clock::now();
    const double budget = std::chrono::duration<double>(deadline - begin).count();
    Placement best = start;
    descend(p, best, deadline, cancel);
    double best_cost = placement_cost(p, best);
    const std::vector<int> anchors = anchor_layers(p.shape.layer_count());
    std::mt19937_64 rng(seed);
    int stale = 0;
    for (size_t attempt = 0; best_cost > 0 && stale < max_stale_restarts && Clock::now() < deadline; ++attempt) {
        Placement pl = best;
        if (attempt < anchors.size()) {
            pl = seeded(p, best, anchors[attempt]);
        } else {
            kick(pl, rng, 1 + static_cast<int>(rng() % 4), 1 + static_cast<int>(rng() % 3));
        }
        descend(p, pl, deadline, cancel);
        const double cost = placement_cost(p, pl);
        if (cost < best_cost - 1e-9 * (1 + best_cost)) {
            best = std::move(pl);
            best_cost = cost;
            stale = 0;
        } else {
            ++stale;
        }
        const double used = std::chrono::duration<double>(Clock::now() - begin).count();
        progress.report(budget > 0 ? std::min(1.0, used / budget) : 1.0, "placement search");
    }
    return best;
}

}  // namespace sy::analysis::placement_detail
