// Output similarity of one layer's experts: the data goes through the one
// forward implementation (ModelRunner), a RoutingObserver keeps the MoE-block input at the
// chosen layer, and every routed expert is run on every such token. Only the [E, E] Gram matrix
// of the outputs is kept across batches, so memory does not grow with the data. Over several
// ranks the batches go round (distributed/batch_rounds.h): each batch's Gram matrix is computed
// on its rank and rank 0 adds them in dataset order, as one process adds its own, so the sums
// (and the cosines) are those of one process.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "distributed/batch_rounds.h"
#include "jobs/corpus_job.h"
#include "jobs/expert_alignment.h"
#include "jobs/expert_similarity_internal.h"
#include "forward/mlp.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "torch_errors.h"

namespace sy {
namespace {

// Keeps a copy of the hidden states reaching the MoE block of one layer (after its norm).
class MoeInputCapture final : public RoutingObserver {
public:
    explicit MoeInputCapture(int layer) : m_layer(layer) {}
    void on_layer_routing(const LayerRouting& r) override {
        if (r.layer != m_layer) return;
        m_input = torch::from_blob(const_cast<float*>(r.hidden_states), {r.tokens, r.hidden_size}, torch::kFloat32)
                      .clone();   // the observer's arrays are valid only during the call
    }
    bool wants_hidden_states() const override { return true; }
    torch::Tensor take() { return std::exchange(m_input, torch::Tensor()); }

private:
    int m_layer;
    torch::Tensor m_input;   // [N, H] f32, CPU
};

// Accumulates G[i][j] = sum over tokens of <y_i(t), y_j(t)> (f64 sums, see accumulate_gram),
// one batch's matrix at a time.
class OutputGram {
public:
    OutputGram(const SimilarityExperts& experts, int64_t hidden)
        : m_experts(experts), m_hidden(hidden), m_gram(torch::zeros({experts_count(), experts_count()}, torch::kFloat64)) {}

    int64_t experts_count() const { return static_cast<int64_t>(m_experts.features.size()); }

    // The [E, E] f64 Gram matrix of one batch's outputs, x [N, H] f32.
    std::vector<double> batch(const torch::Tensor& x) const {
        const int64_t e_count = experts_count();
        torch::Tensor gram = torch::zeros({e_count, e_count}, torch::kFloat64);
        // Token blocks keep the stacked outputs [E, n, H] near 32 MB whatever E and N are.
        const int64_t block = std::max<int64_t>(1, (int64_t(1) << 23) / std::max<int64_t>(e_count * m_hidden, 1));
        const torch::Tensor on_device = x.to(m_experts.router.device());
        for (int64_t begin = 0; begin < x.size(0); begin += block) {
            const torch::Tensor part = on_device.narrow(0, begin, std::min(block, x.size(0) - begin));
            std::vector<torch::Tensor> outputs;
            for (const torch::Tensor& f : m_experts.features) outputs.push_back(expert_output(f, part).reshape({-1}));
            accumulate_gram(gram, torch::stack(outputs));
        }
        return std::vector<double>(gram.data_ptr<double>(), gram.data_ptr<double>() + gram.numel());
    }

    void add(std::vector<double>& batch_gram, int64_t tokens) {
        m_gram += torch::from_blob(batch_gram.data(), m_gram.sizes(), torch::kFloat64);
        m_tokens += tokens;
    }

    std::vector<double> cosines() const { return gram_cosines(m_gram); }

    int64_t tokens() const { return m_tokens; }

private:
    // f = [gate | up | down^T] as in neuron_features.
    torch::Tensor expert_output(const torch::Tensor& f, const torch::Tensor& x) const {
        return silu_mlp(x, f.narrow(1, 0, m_hidden), f.narrow(1, m_hidden, m_hidden),
                        f.narrow(1, 2 * m_hidden, m_hidden).t());
    }

    const SimilarityExperts& m_experts;
    int64_t m_hidden;
    torch::Tensor m_gram;
    int64_t m_tokens = 0;
};

}  // namespace

void output_similarity(const Model& model, const SimilarityOptions& options, const SimilarityExperts& experts,
                       ExpertSimilarity& out, Progress& progress, const CancelToken& cancel) {
    // The outputs are recomputed from [gate | up | down] features with SiLU; gpt-oss's biased,
    // clamped experts would need their biases too.
    SY_CHECK(model.description.family->expert_mlp == ExpertMlp::silu, UsageError,
             model.description.model_type + ": output similarity needs SiLU experts (" +
                 model.description.model_type + " experts have biases and a clamped SwiGLU); weight similarity works");
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    ModelRunner runner(model, options.runner);
    MoeInputCapture capture(out.layer);
    OutputGram gram(experts, out.hidden_size);
    BatchRounds rounds(options.runner.ranks.get());
    RateMeter meter("similarity: outputs   ", options.corpus.max_tokens);   // padded to the width of the aligning stage
    if (rounds.collector()) meter.report(progress, 0, 0, 0);
    const std::size_t cells = static_cast<std::size_t>(gram.experts_count() * gram.experts_count());
    std::vector<DatasetBatch> round;
    std::optional<DatasetBatch> none;
    while (rounds.read_round(reader, round, none)) {
        rounds.run_round(
            round, cancel, false,
            [&](const DatasetBatch* batch) {
                std::vector<uint8_t> bytes;
                if (!batch) return bytes;
                // The runner runs every layer (it has no early stop); the layers after L cost time only.
                runner.run(runner_batch(*batch), &capture, false, &cancel);
                const torch::Tensor x = capture.take();
                if (!x.defined()) throw std::logic_error("the runner reported no routing for layer " + std::to_string(out.layer));
                guard_torch("layer " + std::to_string(out.layer) + ": expert outputs", [&] {
                    torch::NoGradGuard no_grad;
                    append_bytes(bytes, std::vector<int64_t>{x.size(0)});
                    append_bytes(bytes, gram.batch(x));
                });
                return bytes;
            },
            [&](int, std::vector<uint8_t>& bytes) {
                std::size_t offset = 0;
                const int64_t tokens = read_bytes<int64_t>(bytes, offset, 1).front();
                std::vector<double> batch_gram = read_bytes<double>(bytes, offset, cells);
                gram.add(batch_gram, tokens);
                meter.report(progress, gram.tokens(), gram.tokens(), corpus_fraction(reader, corpus.options.max_tokens));
            });
    }
    cancel.throw_if_cancelled();
    if (!rounds.collector()) return;   // rank 0 holds the sums
    SY_CHECK(gram.tokens() > 0, UsageError, "the data holds no tokens: output similarity needs some");
    out.tokens = gram.tokens();
    out.outputs = gram.cosines();
}

}  // namespace sy
