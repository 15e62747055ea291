#pragma once
// Next-token loss summed per domain over the windows of a dataset: what eval reports, and what
// the edit preview compares before and after an edit.
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/compute/trace_job.h"
#include "switchyard/core/dataset.h"
#include "switchyard/core/errors.h"

namespace sy {

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

}  // namespace sy
