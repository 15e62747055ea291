// run_eval: mean next-token NLL and perplexity per domain and overall, over
// the same windows trace would use (same dataset rules and defaults).
#include <cmath>
#include <map>

#include "corpus_job.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {
namespace {

struct LossSum {
    double nll = 0;   // summed in double: millions of f32 losses
    int64_t tokens = 0;

    EvalStats stats() const {
        EvalStats s;
        s.tokens = tokens;
        s.mean_nll = tokens > 0 ? nll / double(tokens) : std::nan("");
        s.perplexity = std::exp(s.mean_nll);
        return s;
    }
};

class LossAccumulator {
public:
    void add_docs(const std::vector<DocumentInfo>& docs) {
        for (const DocumentInfo& doc : docs) {
            const std::string name = doc.domain.empty() ? "(none)" : doc.domain;
            auto [it, inserted] = m_domain_ids.emplace(name, static_cast<int>(m_domains.size()));
            if (inserted) m_domains.push_back({name, {}});
            m_doc_domain.push_back(it->second);
        }
    }

    // nll: [batch tokens] in window order, NaN where a window has no next token.
    void add_losses(const DatasetBatch& batch, const std::vector<float>& nll) {
        SY_CHECK(int64_t(nll.size()) == batch.token_count(), ShapeMismatch,
                 "runner returned " + std::to_string(nll.size()) + " losses for " +
                     std::to_string(batch.token_count()) + " tokens");
        std::size_t i = 0;
        for (const Window& window : batch.windows) {
            LossSum& sum =
                m_domains[static_cast<std::size_t>(m_doc_domain.at(static_cast<std::size_t>(window.doc)))].second;
            for (std::size_t t = 0; t < window.ids.size(); ++t, ++i) {
                if (std::isnan(nll[i])) continue;
                sum.nll += nll[i];
                ++sum.tokens;
            }
        }
    }

    EvalResult result() const {
        EvalResult result;
        LossSum all;
        for (const auto& [name, sum] : m_domains) {
            result.domains[name] = sum.stats();
            all.nll += sum.nll;
            all.tokens += sum.tokens;
        }
        result.all = all.stats();
        result.documents = static_cast<int64_t>(m_doc_domain.size());
        return result;
    }

private:
    std::map<std::string, int> m_domain_ids;
    std::vector<std::pair<std::string, LossSum>> m_domains;
    std::vector<int> m_doc_domain;   // [documents] index into m_domains
};

}  // namespace

EvalResult run_eval(const Model& model, const EvalOptions& options, Progress& progress, const CancelToken& cancel) {
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    ModelRunner runner(model, options.runner);
    LossAccumulator losses;
    RateMeter meter("eval", options.corpus.max_tokens);
    meter.report(progress, 0, 0, 0);
    DatasetBatch batch;
    while (reader.next(batch)) {
        cancel.throw_if_cancelled();
        losses.add_docs(batch.new_docs);
        const BatchOutput output = runner.run(runner_batch(batch), nullptr, false, &cancel);
        losses.add_losses(batch, output.nll);
        const double fraction = corpus_fraction(reader, corpus.options.max_tokens);
        meter.report(progress, reader.tokens_emitted(), reader.tokens_emitted(), fraction);
    }
    cancel.throw_if_cancelled();
    return losses.result();
}

}  // namespace sy
