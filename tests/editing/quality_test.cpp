// Quality on the trained tiny-mixtral (4 domains), calibrated on training documents and
// evaluated on held-out ones (docs/surgery.md has the full table): REAP pruning is no worse than
// random pruning, and aligned merging beats averaging the same groups unaligned.
#include <gtest/gtest.h>

#include "editing_fixtures.h"
#include "switchyard/compute/score_job.h"
#include "switchyard/editing/edit_export.h"
#include "switchyard/editing/expert_choice.h"

using namespace sy;
using namespace sy::test;

namespace {

constexpr int64_t k_tokens = 8192;

CorpusOptions data(const std::string& file) {
    CorpusOptions c;
    c.data = {corpus(file)};
    c.max_tokens = k_tokens;
    return c;
}

double held_out_nll(const Model& model, const Edit& edit) {
    NullProgress progress;
    CancelToken cancel;
    TempDir tmp;
    ExportOptions options;
    options.output_dir = tmp.path() / "edited";
    export_edited(model, plan_edits(model, {edit}, progress, cancel), options, EditRecord{}, progress, cancel);
    const Model edited = open_model(options.output_dir);
    EvalOptions eval;
    eval.corpus = data("valid-sample.jsonl");
    return run_eval(edited, eval, progress, cancel).all.mean_nll;
}

class SurgeryQualityIntegration : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        model = new Model(open_model(model_dir("tiny-mixtral")));
        NullProgress progress;
        CancelToken cancel;
        ScoreOptions options;
        options.corpus = data("train-sample.jsonl");
        options.output_tokens = 2048;
        scores = new ExpertScores(run_score(*model, options, progress, cancel));
    }
    static void TearDownTestSuite() {
        delete scores;
        delete model;
    }
    static Model* model;
    static ExpertScores* scores;
};

Model* SurgeryQualityIntegration::model = nullptr;
ExpertScores* SurgeryQualityIntegration::scores = nullptr;

PruneEdit prune_by(const Model& model, const ExpertScores* scores, PruneMethod method, uint64_t seed = 0) {
    PruneEdit p;
    p.experts = choose_pruned_experts(model.description, scores, {method, 0.25, 0, seed});
    return p;
}

}  // namespace

TEST_F(SurgeryQualityIntegration, ReapIsNoWorseThanRandomAtEightToSix) {
    const double reap = held_out_nll(*model, prune_by(*model, scores, PruneMethod::reap));
    double random = 0;
    for (uint64_t seed = 1; seed <= 5; ++seed) random += held_out_nll(*model, prune_by(*model, nullptr, PruneMethod::random, seed)) / 5;
    RecordProperty("reap_nll", std::to_string(reap));
    RecordProperty("random_mean_nll", std::to_string(random));
    EXPECT_LE(reap, random) << "REAP " << reap << " vs mean random " << random;
}

TEST_F(SurgeryQualityIntegration, AlignedMergingBeatsUnalignedAveragingOfTheSameGroups) {
    MergeEdit aligned;
    aligned.groups = choose_merge_groups(model->description, *scores, MergeMethod::hc_smoe, 6, MergeWeights::frequency);
    aligned.align = true;
    MergeEdit plain = aligned;
    plain.align = false;
    const double a = held_out_nll(*model, aligned), p = held_out_nll(*model, plain);
    EXPECT_LT(a, p) << "aligned " << a << " vs unaligned " << p;
}
