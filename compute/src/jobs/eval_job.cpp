// run_eval: mean next-token NLL and perplexity per domain and overall, over the same windows
// trace would use (same dataset rules and defaults). Over several ranks the batches go round
// (distributed/batch_rounds.h) and rank 0 adds the losses in dataset order, so the sums, and the
// result, are those of one process.
#include "distributed/batch_rounds.h"
#include "jobs/corpus_job.h"
#include "jobs/loss_accumulator.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/model.h"

namespace sy {

EvalResult run_eval(const Model& model, const EvalOptions& options, Progress& progress, const CancelToken& cancel) {
    PreparedCorpus corpus = prepare_corpus(model, options.corpus);
    DatasetReader reader(corpus.options, corpus.tokenizer ? &*corpus.tokenizer : nullptr);
    ModelRunner runner(model, options.runner);
    BatchRounds rounds(options.runner.ranks.get());
    const bool lockstep = options.runner.expert_parallel && rounds.size() > 1;
    LossAccumulator losses;
    RateMeter meter("eval", options.corpus.max_tokens);
    if (rounds.collector()) meter.report(progress, 0, 0, 0);
    std::vector<DatasetBatch> round;
    std::optional<DatasetBatch> none;
    int64_t tokens = 0;
    while (rounds.read_round(reader, round, none)) {
        rounds.run_round(
            round, cancel, lockstep,
            [&](const DatasetBatch* batch) {
                std::vector<uint8_t> bytes;
                const BatchOutput output = runner.run(batch ? runner_batch(*batch) : Batch{}, nullptr, false,
                                                      lockstep ? nullptr : &cancel);
                if (batch) append_bytes(bytes, output.nll);
                return bytes;
            },
            [&](int i, std::vector<uint8_t>& bytes) {
                const DatasetBatch& batch = round[static_cast<std::size_t>(i)];
                std::size_t offset = 0;
                const std::vector<float> nll = read_bytes<float>(bytes, offset, static_cast<std::size_t>(batch.token_count()));
                losses.add_docs(batch.new_docs);
                losses.add_losses(batch, nll);
                tokens += batch.token_count();
                meter.report(progress, tokens, tokens, corpus_fraction(reader, corpus.options.max_tokens));
            });
    }
    cancel.throw_if_cancelled();
    if (rounds.collector() && tokens == 0) throw_no_tokens(reader, "evaluate");
    return losses.result();
}

}  // namespace sy
