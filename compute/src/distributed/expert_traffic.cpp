// What expert parallelism moved between ranks, summed and reported; see parallel_job.h.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "switchyard/compute/parallel_job.h"
#include "switchyard/compute/rank_group.h"

namespace sy {
namespace {

using Matrix = std::vector<std::vector<int64_t>>;

Matrix square(const std::vector<int64_t>& flat, int w, int64_t scale) {
    Matrix m(static_cast<std::size_t>(w), std::vector<int64_t>(static_cast<std::size_t>(w)));
    for (int a = 0; a < w; ++a)
        for (int b = 0; b < w; ++b) m[std::size_t(a)][std::size_t(b)] = flat[std::size_t(a * w + b)] * scale;
    return m;
}

// Pairs each rank received to run (its experts' load) and the busiest rank against the mean.
std::vector<int64_t> received(const std::vector<int64_t>& flat, int w) {
    std::vector<int64_t> r(static_cast<std::size_t>(w), 0);
    for (int a = 0; a < w; ++a)
        for (int b = 0; b < w; ++b) r[std::size_t(b)] += flat[std::size_t(a * w + b)];
    return r;
}

double max_over_mean(const std::vector<int64_t>& loads) {
    int64_t max = 0, sum = 0;
    for (int64_t v : loads) max = std::max(max, v), sum += v;
    return sum > 0 ? double(max) * double(loads.size()) / double(sum) : 0;
}

double fraction(int64_t part, int64_t whole) { return whole > 0 ? double(part) / double(whole) : 0; }

}  // namespace

int64_t ExpertTraffic::cross_pairs(std::size_t layer) const {
    int64_t n = 0;
    for (int a = 0; a < ranks; ++a)
        for (int b = 0; b < ranks; ++b)
            if (a != b) n += pairs.at(layer)[std::size_t(a * ranks + b)];
    return n;
}

int64_t ExpertTraffic::all_pairs(std::size_t layer) const {
    int64_t n = 0;
    for (int64_t v : pairs.at(layer)) n += v;
    return n;
}

double ExpertTraffic::transition_cross_fraction() const {
    int64_t cross = 0, all = 0;
    for (const auto& layer : transitions)
        for (int a = 0; a < ranks; ++a)
            for (int b = 0; b < ranks; ++b) {
                const int64_t n = layer.at(std::size_t(a * ranks + b));
                all += n;
                if (a != b) cross += n;
            }
    return fraction(cross, all);
}

void sum_expert_traffic(RankGroup& ranks, ExpertTraffic& traffic) {
    std::vector<int64_t> flat{traffic.tokens, traffic.row_bytes};
    for (const auto& layer : traffic.pairs) flat.insert(flat.end(), layer.begin(), layer.end());
    for (const auto& layer : traffic.transitions) flat.insert(flat.end(), layer.begin(), layer.end());
    ranks.sum(flat, "summing the expert-parallel traffic");
    traffic.tokens = flat[0];
    traffic.row_bytes = flat[1] / ranks.size();
    std::size_t i = 2;
    for (auto& layer : traffic.pairs)
        for (int64_t& v : layer) v = flat[i++];
    for (auto& layer : traffic.transitions)
        for (int64_t& v : layer) v = flat[i++];
}

std::string expert_traffic_json(const ExpertTraffic& t) {
    nlohmann::json layers = nlohmann::json::array();
    int64_t cross = 0, all = 0;
    for (std::size_t l = 0; l < t.pairs.size(); ++l) {
        const std::vector<int64_t> load = received(t.pairs[l], t.ranks);
        cross += t.cross_pairs(l), all += t.all_pairs(l);
        layers.push_back({{"layer", t.moe_layers[l]},
                          {"pairs", square(t.pairs[l], t.ranks, 1)},
                          {"dispatch_bytes", square(t.pairs[l], t.ranks, t.row_bytes)},
                          {"cross_rank_fraction", fraction(t.cross_pairs(l), t.all_pairs(l))},
                          {"received_pairs", load},
                          {"received_max_over_mean", max_over_mean(load)},
                          {"first_choice_transitions", square(t.transitions.at(l), t.ranks, 1)}});
    }
    // Combine bytes are the dispatch matrix transposed: each output goes back where its row came from.
    for (auto& layer : layers) {
        Matrix combine = layer["dispatch_bytes"].get<Matrix>();
        for (std::size_t a = 0; a < combine.size(); ++a)
            for (std::size_t b = 0; b < combine.size(); ++b) combine[a][b] = layer["dispatch_bytes"][b][a].get<int64_t>();
        layer["combine_bytes"] = combine;
    }
    const nlohmann::json out{{"ranks", t.ranks},
                             {"tokens", t.tokens},
                             {"row_bytes", t.row_bytes},
                             {"placement", t.expert_ranks},
                             {"layers", layers},
                             {"cross_rank_fraction", fraction(cross, all)},
                             {"cross_rank_bytes_per_token", t.tokens > 0 ? 2.0 * double(cross * t.row_bytes) / double(t.tokens) : 0},
                             {"first_choice_cross_fraction", t.transition_cross_fraction()}};
    return out.dump(2);
}

std::string expert_traffic_summary(const ExpertTraffic& t) {
    std::string out = "expert parallelism over " + std::to_string(t.ranks) + " ranks: " + std::to_string(t.tokens) +
                      " tokens; (token, expert) pairs run on another rank, bytes moved per token (dispatch + combine), "
                      "busiest rank's pairs / mean\n";
    char line[160];
    int64_t cross = 0, all = 0;
    for (std::size_t l = 0; l < t.pairs.size(); ++l) {
        const double per_token = t.tokens > 0 ? 2.0 * double(t.cross_pairs(l) * t.row_bytes) / double(t.tokens) : 0;
        std::snprintf(line, sizeof line, "  layer %-4d %6.1f%% of pairs cross ranks  %10.0f B/token  load max/mean %.3f\n",
                      t.moe_layers[l], 100 * fraction(t.cross_pairs(l), t.all_pairs(l)), per_token,
                      max_over_mean(received(t.pairs[l], t.ranks)));
        out += line;
        cross += t.cross_pairs(l), all += t.all_pairs(l);
    }
    std::snprintf(line, sizeof line, "  all        %6.1f%% of pairs cross ranks  %10.0f B/token\n", 100 * fraction(cross, all),
                  t.tokens > 0 ? 2.0 * double(cross * t.row_bytes) / double(t.tokens) : 0);
    out += line;
    std::snprintf(line, sizeof line,
                  "  first-choice transitions between layers that change rank: %.1f%% (`switchyard place`'s "
                  "cross_gpu_fraction)\n",
                  100 * t.transition_cross_fraction());
    return out + line;
}

}  // namespace sy
