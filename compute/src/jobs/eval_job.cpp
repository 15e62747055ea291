// run_eval: mean next-token NLL and perplexity per domain and overall, over the same windows
// trace would use (same dataset rules and defaults).
#include "jobs/corpus_job.h"
#include "jobs/loss_accumulator.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/model.h"

namespace sy {

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
