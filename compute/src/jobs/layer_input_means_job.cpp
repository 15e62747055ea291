// mean_layer_inputs: the prompts through ModelRunner with the layer-input hook of
// RoutingObserver; sums in double per (domain, layer), divided at the end.
#include "switchyard/compute/layer_input_means.h"

#include <algorithm>
#include <map>
#include <optional>

#include "jobs/corpus_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {
namespace {

class LayerInputPool final : public RoutingObserver {
public:
    LayerInputPool(std::size_t domains, int layers, int64_t hidden, bool last_token)
        : m_sums(domains, std::vector<std::vector<double>>(static_cast<std::size_t>(layers),
                                                            std::vector<double>(static_cast<std::size_t>(hidden), 0.0))),
          m_tokens(domains, 0), m_hidden(hidden), m_last_token(last_token) {}

    // Which batch rows count, and for which domain (-1: none), before the batch runs.
    void set_batch(const DatasetBatch& batch, const std::vector<int>& doc_domain, std::optional<int32_t> bos_id) {
        m_row_domain.clear();
        for (const Window& w : batch.windows) {
            const int domain = doc_domain.at(static_cast<std::size_t>(w.doc));
            for (std::size_t t = 0; t < w.ids.size(); ++t) {
                const bool bos = w.first_pos + int64_t(t) == 0 && bos_id && w.ids[t] == *bos_id;
                const bool last = t + 1 == w.ids.size();
                const bool counted = m_last_token ? last : !bos;
                m_row_domain.push_back(counted ? domain : -1);
                if (counted && domain >= 0) ++m_tokens[static_cast<std::size_t>(domain)];
            }
        }
    }

    void on_layer_routing(const LayerRouting&) override {}
    bool wants_layer_inputs() const override { return true; }
    void on_layer_input(int layer, const float* hidden, int64_t tokens, int64_t hidden_size) override {
        SY_CHECK(hidden_size == m_hidden && tokens == int64_t(m_row_domain.size()), ShapeMismatch,
                 "layer input: expected [" + std::to_string(m_row_domain.size()) + ", " + std::to_string(m_hidden) +
                     "], got [" + std::to_string(tokens) + ", " + std::to_string(hidden_size) + "]");
        for (int64_t i = 0; i < tokens; ++i) {
            const int domain = m_row_domain[static_cast<std::size_t>(i)];
            if (domain < 0) continue;
            std::vector<double>& sum = m_sums[static_cast<std::size_t>(domain)][static_cast<std::size_t>(layer)];
            const float* row = hidden + i * hidden_size;
            for (int64_t h = 0; h < hidden_size; ++h) sum[static_cast<std::size_t>(h)] += row[h];
        }
    }

    LayerInputMeans result() const {
        LayerInputMeans out;
        out.tokens = m_tokens;
        for (std::size_t d = 0; d < m_sums.size(); ++d) {
            out.means.emplace_back();
            for (const auto& sum : m_sums[d]) {
                std::vector<float> mean(sum.size());
                for (std::size_t h = 0; h < sum.size(); ++h) mean[h] = static_cast<float>(sum[h] / double(m_tokens[d]));
                out.means.back().push_back(std::move(mean));
            }
        }
        return out;
    }

private:
    std::vector<std::vector<std::vector<double>>> m_sums;   // [domains][layers][H]
    std::vector<int64_t> m_tokens;
    std::vector<int> m_row_domain;                          // [batch tokens] domain index or -1
    int64_t m_hidden;
    bool m_last_token;
};

std::string file_list(const std::vector<std::filesystem::path>& files) {
    std::string list;
    for (const auto& f : files) list += (list.empty() ? "" : ", ") + f.string();
    return list;
}

void check_every_domain_seen(const LayerInputMeansOptions& options, const std::vector<int64_t>& tokens,
                             const std::map<std::string, int64_t>& seen) {
    for (std::size_t d = 0; d < options.domains.size(); ++d) {
        if (tokens[d] > 0) continue;
        std::string found;
        for (const auto& [name, count] : seen) found += (found.empty() ? "" : ", ") + (name.empty() ? "(none)" : name);
        throw UsageError(file_list(options.corpus.data) + ": no tokens for domain \"" + options.domains[d] +
                         "\"; the records' domains are: " + (found.empty() ? "none" : found));
    }
}

}  // namespace

LayerInputMeans mean_layer_inputs(const Model& model, const LayerInputMeansOptions& options, Progress& progress,
                                  const CancelToken& cancel) {
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    ModelRunner runner(model, options.runner);
    LayerInputPool pool(options.domains.size(), model.description.num_layers, model.description.hidden_size,
                        options.last_token);
    std::vector<int> doc_domain;            // [documents] index into options.domains, -1 when not wanted
    std::map<std::string, int64_t> seen;    // every domain in the files, for the error message
    RateMeter meter("hidden states");
    DatasetBatch batch;
    while (reader.next(batch)) {
        cancel.throw_if_cancelled();
        for (const DocumentInfo& doc : batch.new_docs) {
            const auto it = std::find(options.domains.begin(), options.domains.end(), doc.domain);
            doc_domain.push_back(it == options.domains.end() ? -1 : static_cast<int>(it - options.domains.begin()));
            ++seen[doc.domain];
        }
        pool.set_batch(batch, doc_domain, corpus.options.text.bos_id);
        runner.run(runner_batch(batch), &pool, false, &cancel);
        const double fraction = corpus_fraction(reader, corpus.options.max_tokens);
        progress.report(fraction, meter.stage(reader.tokens_emitted(), reader.tokens_emitted(), fraction));
    }
    cancel.throw_if_cancelled();
    LayerInputMeans out = pool.result();
    check_every_domain_seen(options, out.tokens, seen);
    return out;
}

}  // namespace sy
