#include "switchyard/compute/router_fit.h"

#include <torch/torch.h>

#include "jobs/corpus_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"

namespace sy {
namespace {

struct LayerNormalEquations {
    std::vector<std::vector<int>> groups;
    torch::Tensor xtx;   // [H, H] f64
    torch::Tensor xty;   // [H, G] f64
};

class FitObserver final : public RoutingObserver {
public:
    FitObserver(const ModelDescription& d, const std::map<int, std::vector<std::vector<int>>>& groups) : m_model(d) {
        for (const auto& [layer, list] : groups) {
            SY_CHECK(d.is_moe_layer(layer), UsageError, "router fit: layer " + std::to_string(layer) + " is not a MoE layer");
            for (const auto& g : list)
                for (int e : g)
                    SY_CHECK(e >= 0 && e < d.experts_in_layer(layer), UsageError,
                             "router fit: layer " + std::to_string(layer) + " has no expert " + std::to_string(e));
            LayerNormalEquations eq;
            eq.groups = list;
            eq.xtx = torch::zeros({d.hidden_size, d.hidden_size}, torch::kFloat64);
            eq.xty = torch::zeros({d.hidden_size, static_cast<int64_t>(list.size())}, torch::kFloat64);
            m_layers.emplace(layer, std::move(eq));
        }
    }
    bool wants_hidden_states() const override { return true; }

    void on_layer_routing(const LayerRouting& r) override {
        auto it = m_layers.find(r.layer);
        if (it == m_layers.end()) return;
        LayerNormalEquations& eq = it->second;
        const torch::Tensor x =
            torch::from_blob(const_cast<float*>(r.hidden_states), {r.tokens, r.hidden_size}, torch::kFloat32).to(torch::kFloat64);
        const torch::Tensor z =
            torch::from_blob(const_cast<float*>(r.router_logits), {r.tokens, r.experts}, torch::kFloat32).to(torch::kFloat64);
        std::vector<torch::Tensor> targets;
        for (const auto& g : eq.groups) {
            const torch::Tensor members = z.index_select(1, torch::tensor(std::vector<int64_t>(g.begin(), g.end())));
            if (m_model.scoring == ScoringFunc::sigmoid) {
                const torch::Tensor mass = torch::sigmoid(members).sum(1).clamp_max(1 - 1e-6);
                targets.push_back(torch::log(mass) - torch::log1p(-mass));
            } else {
                targets.push_back(torch::logsumexp(members, 1));
            }
        }
        eq.xtx += torch::matmul(x.t(), x);
        eq.xty += torch::matmul(x.t(), torch::stack(targets, 1));
        m_tokens_seen = true;
    }

    std::map<int, std::vector<std::vector<float>>> solve() const {
        std::map<int, std::vector<std::vector<float>>> rows;
        for (const auto& [layer, eq] : m_layers) {
            const int64_t h = eq.xtx.size(0);
            const double lambda = 1e-6 * eq.xtx.trace().item<double>() / double(h) + 1e-12;
            const torch::Tensor a = eq.xtx + lambda * torch::eye(h, torch::kFloat64);
            const torch::Tensor solution = torch::cholesky_solve(eq.xty, torch::linalg_cholesky(a)).t().to(torch::kFloat32).contiguous();
            for (int64_t g = 0; g < solution.size(0); ++g)
                rows[layer].emplace_back(solution[g].data_ptr<float>(), solution[g].data_ptr<float>() + h);
        }
        return rows;
    }
    bool saw_tokens() const { return m_tokens_seen; }

private:
    const ModelDescription& m_model;
    std::map<int, LayerNormalEquations> m_layers;
    bool m_tokens_seen = false;
};

}  // namespace

std::map<int, std::vector<std::vector<float>>> fit_group_router_rows(
    const Model& model, const EvalOptions& options, const std::map<int, std::vector<std::vector<int>>>& groups,
    Progress& progress, const CancelToken& cancel) {
    FitObserver observer(model.description, groups);
    if (groups.empty()) return {};
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    ModelRunner runner(model, options.runner);
    RateMeter meter("router fit");
    DatasetBatch batch;
    while (reader.next(batch)) {
        cancel.throw_if_cancelled();
        guard_torch("router fit", [&] { runner.run(runner_batch(batch), &observer, false, &cancel); });
        const double fraction = corpus_fraction(reader, corpus.options.max_tokens);
        progress.report(fraction, meter.stage(reader.tokens_emitted(), reader.tokens_emitted(), fraction));
    }
    cancel.throw_if_cancelled();
    SY_CHECK(observer.saw_tokens(), UsageError, "router fit: the calibration data holds no tokens");
    return guard_torch("router fit: solving", [&] { return observer.solve(); });
}

}  // namespace sy
