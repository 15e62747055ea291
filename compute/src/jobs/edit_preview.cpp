// run_edit_preview: two runners over the same batches; the original one's observer hands each
// MoE block's input to the edited runner's block (ModelRunner::run_moe_block).
#include "switchyard/compute/edit_preview.h"

#include <algorithm>
#include <cmath>

#include "jobs/corpus_job.h"
#include "jobs/loss_accumulator.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy {
namespace {

class LayerErrorObserver final : public RoutingObserver {
public:
    LayerErrorObserver(const ModelDescription& d, ModelRunner& edited)
        : m_edited(edited), m_diff(d.moe_layers.size(), 0.0), m_ref(d.moe_layers.size(), 0.0) {}

    bool wants_hidden_states() const override { return true; }
    bool wants_moe_output() const override { return true; }

    void on_layer_routing(const LayerRouting& r) override {
        const std::vector<float> edited = m_edited.run_moe_block(r.layer, r.hidden_states, r.tokens);
        double diff = 0, ref = 0;
        for (std::size_t i = 0; i < edited.size(); ++i) {
            const double y = r.moe_output[i], d = double(edited[i]) - y;
            diff += d * d;
            ref += y * y;
        }
        m_diff[static_cast<std::size_t>(r.moe_index)] += diff;
        m_ref[static_cast<std::size_t>(r.moe_index)] += ref;
    }

    std::vector<double> relative_errors() const {
        std::vector<double> out;
        for (std::size_t i = 0; i < m_diff.size(); ++i)
            out.push_back(m_ref[i] > 0 ? std::sqrt(m_diff[i] / m_ref[i]) : (m_diff[i] > 0 ? INFINITY : 0.0));
        return out;
    }

private:
    ModelRunner& m_edited;
    std::vector<double> m_diff, m_ref;
};

ExpertMask merged_masks(ExpertMask a, const ExpertMask& b) {
    for (const auto& [layer, experts] : b) {
        std::vector<int>& list = a[layer];
        list.insert(list.end(), experts.begin(), experts.end());
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
    }
    return a;
}

}  // namespace

PreviewResult run_edit_preview(const Model& model, const ExpertMask& edited_masks, std::shared_ptr<const ModelPatch> patch,
                               const EvalOptions& options, Progress& progress, const CancelToken& cancel) {
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    RunnerOptions edited_options = options.runner;
    edited_options.masked_experts = merged_masks(options.runner.masked_experts, edited_masks);
    edited_options.patch = std::move(patch);
    ModelRunner original(model, options.runner);
    ModelRunner edited(model, edited_options);
    LayerErrorObserver errors(model.description, edited);
    LossAccumulator before, after;
    RateMeter meter("preview");
    progress.report(0, meter.stage(0, 0, 0));
    DatasetBatch batch;
    while (reader.next(batch)) {
        cancel.throw_if_cancelled();
        before.add_docs(batch.new_docs);
        after.add_docs(batch.new_docs);
        const Batch run_batch = runner_batch(batch);
        before.add_losses(batch, original.run(run_batch, model.description.moe_layers.empty() ? nullptr : &errors, false, &cancel).nll);
        after.add_losses(batch, edited.run(run_batch, nullptr, false, &cancel).nll);
        const double fraction = corpus_fraction(reader, corpus.options.max_tokens);
        progress.report(fraction, meter.stage(reader.tokens_emitted(), reader.tokens_emitted(), fraction));
    }
    cancel.throw_if_cancelled();
    PreviewResult result;
    result.layers = model.description.moe_layers;
    result.relative_error = errors.relative_errors();
    result.before = before.result();
    result.after = after.result();
    result.tokens = reader.tokens_emitted();
    return result;
}

}  // namespace sy
