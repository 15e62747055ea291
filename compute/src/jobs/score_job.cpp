// run_score: the calibration pass behind `switchyard score`, `prune --data` and `merge --data`.
// Accumulates in f64 (millions of tokens); the Gram matrix and output sums go through LibTorch.
#include "switchyard/compute/score_job.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "jobs/corpus_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/sha256.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/core/utc_time.h"
#include "torch_errors.h"

namespace sy {
namespace {

// Sums of one MoE layer; turned into LayerExpertScores at the end.
struct LayerSums {
    int layer = 0;
    int64_t experts = 0;
    std::vector<int64_t> count;
    std::vector<double> gate, norm, gated_norm, prob;
    std::map<int, std::vector<int64_t>> domain_count;   // domain id -> [E]
    torch::Tensor gram;                                  // [E, E] f64
    torch::Tensor output_sum;                            // [E, H] f64, when sampling outputs
};

class ScoreObserver final : public RoutingObserver {
public:
    ScoreObserver(const ModelDescription& d, int64_t output_tokens) : m_output_tokens(output_tokens) {
        for (std::size_t i = 0; i < d.moe_layers.size(); ++i) {
            LayerSums s;
            s.layer = d.moe_layers[i];
            s.experts = d.num_experts[i];
            const auto e = static_cast<std::size_t>(s.experts);
            s.count.assign(e, 0);
            s.gate.assign(e, 0), s.norm.assign(e, 0), s.gated_norm.assign(e, 0), s.prob.assign(e, 0);
            s.gram = torch::zeros({s.experts, s.experts}, torch::kFloat64);
            if (output_tokens > 0) s.output_sum = torch::zeros({s.experts, d.hidden_size}, torch::kFloat64);
            m_layers.push_back(std::move(s));
        }
    }

    // Per batch: each token's domain id and the batch rows sampled for output means.
    void start_batch(std::vector<int> token_domains, std::vector<int64_t> sampled_rows) {
        m_token_domains = std::move(token_domains);
        m_sampled_rows = std::move(sampled_rows);
    }

    bool wants_expert_norms() const override { return true; }
    bool wants_hidden_states() const override { return !m_sampled_rows.empty(); }

    void on_layer_routing(const LayerRouting& r) override {
        LayerSums& s = m_layers.at(static_cast<std::size_t>(r.moe_index));
        for (int64_t t = 0; t < r.tokens; ++t) {
            std::vector<int64_t>& per_domain = domain_counts(s, m_token_domains.at(static_cast<std::size_t>(t)));
            for (int64_t j = 0; j < r.top_k; ++j) {
                const int64_t i = t * r.top_k + j, e = r.topk_ids[i];
                const double g = r.topk_weights[i], norm = r.expert_norms[i];
                ++s.count[static_cast<std::size_t>(e)];
                ++per_domain[static_cast<std::size_t>(e)];
                s.gate[static_cast<std::size_t>(e)] += g;
                s.norm[static_cast<std::size_t>(e)] += norm;
                s.gated_norm[static_cast<std::size_t>(e)] += g * norm;
            }
        }
        const torch::Tensor probs = torch::from_blob(const_cast<float*>(r.router_probs), {r.tokens, r.experts}, torch::kFloat32);
        const torch::Tensor prob_sum = probs.to(torch::kFloat64).sum(0).contiguous();
        for (int64_t e = 0; e < r.experts; ++e) s.prob[static_cast<std::size_t>(e)] += prob_sum.data_ptr<double>()[e];
        const torch::Tensor logits =
            torch::from_blob(const_cast<float*>(r.router_logits), {r.tokens, r.experts}, torch::kFloat32).to(torch::kFloat64);
        s.gram += torch::matmul(logits.t(), logits);
        if (!m_sampled_rows.empty()) add_outputs(r, s);
    }

    std::vector<LayerSums>& layers() { return m_layers; }

private:
    std::vector<int64_t>& domain_counts(LayerSums& s, int domain) {
        auto it = s.domain_count.find(domain);
        if (it == s.domain_count.end()) it = s.domain_count.emplace(domain, std::vector<int64_t>(s.count.size(), 0)).first;
        return it->second;
    }

    // HC-SMoE's feature: every expert on every sampled token (not only the routed ones).
    void add_outputs(const LayerRouting& r, LayerSums& s) {
        const int64_t h = r.hidden_size, m = static_cast<int64_t>(m_sampled_rows.size());
        std::vector<float> x(static_cast<std::size_t>(m * h)), y(x.size());
        for (int64_t i = 0; i < m; ++i)
            std::copy_n(r.hidden_states + m_sampled_rows[static_cast<std::size_t>(i)] * h, h, x.data() + i * h);
        for (int64_t e = 0; e < r.experts; ++e) {
            r.probe->run(static_cast<int>(e), x.data(), m, y.data());
            s.output_sum[e] += torch::from_blob(y.data(), {m, h}, torch::kFloat32).to(torch::kFloat64).sum(0);
        }
    }

    int64_t m_output_tokens;
    std::vector<LayerSums> m_layers;
    std::vector<int> m_token_domains;
    std::vector<int64_t> m_sampled_rows;
};

std::vector<double> to_vector(const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kFloat64).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

LayerExpertScores finish_layer(LayerSums& s, int64_t tokens, int64_t top_k, std::size_t domains, int64_t output_tokens) {
    LayerExpertScores l;
    l.layer = s.layer;
    l.experts = s.experts;
    l.count = s.count;
    const double nan = std::nan("");
    for (std::size_t e = 0; e < s.count.size(); ++e) {
        const double n = static_cast<double>(s.count[e]);
        l.frequency.push_back(tokens > 0 ? n / double(top_k * tokens) : nan);
        l.gate_mass.push_back(s.gate[e]);
        l.mean_prob.push_back(tokens > 0 ? s.prob[e] / double(tokens) : nan);
        l.ean.push_back(n > 0 ? s.norm[e] / n : nan);
        l.reap.push_back(n > 0 ? s.gated_norm[e] / n : nan);
    }
    l.domain_count.assign(domains * s.count.size(), 0);
    for (const auto& [domain, counts] : s.domain_count)
        std::copy(counts.begin(), counts.end(), l.domain_count.begin() + static_cast<std::ptrdiff_t>(domain * counts.size()));
    l.router_logit_gram = to_vector(s.gram);
    if (output_tokens > 0) l.output_mean = to_vector(s.output_sum / double(output_tokens));
    return l;
}

// Domains in order of first appearance, with a token count each.
class DomainTable {
public:
    int id_of(const std::string& domain) {
        const std::string name = domain.empty() ? "(none)" : domain;
        auto [it, inserted] = m_ids.emplace(name, static_cast<int>(m_names.size()));
        if (inserted) m_names.push_back(name), m_tokens.push_back(0);
        return it->second;
    }
    void add_tokens(int id, int64_t n) { m_tokens[static_cast<std::size_t>(id)] += n; }
    const std::vector<std::string>& names() const { return m_names; }
    const std::vector<int64_t>& tokens() const { return m_tokens; }

private:
    std::map<std::string, int> m_ids;
    std::vector<std::string> m_names;
    std::vector<int64_t> m_tokens;
};

std::string data_digest(const std::vector<std::filesystem::path>& files) {
    Sha256 hash;
    for (const auto& file : files) {
        const std::string digest = sha256_file(file);
        hash.update(digest);
    }
    return hash.hex_digest();
}

}  // namespace

ExpertScores run_score(const Model& model, const ScoreOptions& options, Progress& progress, const CancelToken& cancel) {
    const ModelDescription& d = model.description;
    SY_CHECK(!d.moe_layers.empty(), UsageError,
             model.checkpoint.dir().string() + ": " + d.model_type + " is a dense model (no MoE layers): there are no experts to score");
    SY_CHECK(options.output_tokens >= 0, UsageError, "--outputs must be a positive number of tokens");
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    ModelRunner runner(model, options.runner);
    ScoreObserver observer(d, options.output_tokens);
    const int64_t max_tokens = corpus.options.max_tokens;
    const int64_t stride = options.output_tokens > 0 && max_tokens > 0 ? std::max<int64_t>(1, max_tokens / options.output_tokens) : 1;
    DomainTable domains;
    std::vector<int> doc_domain;   // global document index -> domain id
    int64_t tokens = 0, sampled = 0;
    RateMeter meter("score");
    progress.report(0, meter.stage(0, 0, 0));
    DatasetBatch batch;
    while (reader.next(batch)) {
        cancel.throw_if_cancelled();
        for (const DocumentInfo& doc : batch.new_docs) doc_domain.push_back(domains.id_of(doc.domain));
        std::vector<int> token_domains;
        std::vector<int64_t> rows;
        for (const Window& window : batch.windows) {
            const int id = doc_domain.at(static_cast<std::size_t>(window.doc));
            domains.add_tokens(id, static_cast<int64_t>(window.ids.size()));
            for (std::size_t i = 0; i < window.ids.size(); ++i) {
                const int64_t global = tokens + static_cast<int64_t>(token_domains.size());
                if (sampled < options.output_tokens && global % stride == 0) rows.push_back(int64_t(token_domains.size())), ++sampled;
                token_domains.push_back(id);
            }
        }
        observer.start_batch(std::move(token_domains), std::move(rows));
        guard_torch("score", [&] { runner.run(runner_batch(batch), &observer, false, &cancel); });
        tokens += batch.token_count();
        const double fraction = corpus_fraction(reader, max_tokens);
        progress.report(fraction, meter.stage(tokens, tokens, fraction));
    }
    cancel.throw_if_cancelled();
    SY_CHECK(tokens > 0, UsageError, "the calibration data holds no tokens");
    ExpertScores scores;
    scores.model_path = std::filesystem::absolute(model.checkpoint.dir()).lexically_normal().string();
    scores.model_fingerprint = model_fingerprint(model);
    scores.model_type = d.model_type;
    scores.command_line = options.command_line;
    scores.created = utc_now_iso8601();
    scores.tool_version = std::string("switchyard ") + SWITCHYARD_VERSION;
    for (const auto& file : reader.files()) scores.data_files.push_back(std::filesystem::absolute(file).lexically_normal().string());
    scores.data_sha256 = data_digest(reader.files());
    scores.masked_experts = format_layer_experts(options.runner.masked_experts);
    scores.top_k = d.top_k;
    scores.hidden_size = d.hidden_size;
    scores.tokens = tokens;
    scores.output_tokens = sampled;
    scores.domains = domains.names();
    scores.domain_tokens = domains.tokens();
    for (LayerSums& s : observer.layers())
        scores.layers.push_back(finish_layer(s, tokens, d.top_k, scores.domains.size(), sampled));
    return scores;
}

}  // namespace sy
