// Branch-Train-MiX in miniature through the CLI (docs/upcycling.md "Branch-Train-MiX"): the
// bundled dense tiny-llama fine-tuned on each of the four domains (`tune --select all`), the four
// upcycled into one MoE (`upcycle --sources`, `hidden` router from each domain's prompts), then
// traced and evaluated on held-out documents. Real properties: each domain's tokens route mostly
// to the expert trained on that domain, and the one mixture beats the single fine-tunes (over
// all domains, and on each domain their mean). Then the MiX phase (continued training) trains
// the routers with the load-balancing loss and logs the per-layer load CV.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "domain_records.h"
#include "run_cli.h"
#include "switchyard/core/training_log.h"

using namespace sy::test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

const std::vector<std::string> k_domains = {"english", "c", "python", "json"};

fs::path tiny_llama() { return data_dir() / "models" / "tiny-llama"; }

// The records of `file` whose domain is `domain`, as a new file.
fs::path domain_file(const fs::path& dir, const fs::path& file, const std::string& domain) {
    return domain_records(file, dir / (domain + ".jsonl"), domain);
}

Json run_json(const std::string& args) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r.exit_code == 0 ? Json::parse(r.out) : Json();
}

std::map<std::string, double> domain_nll(const fs::path& model, const fs::path& data) {
    const Json j = run_json("eval " + shell_quote(model) + " --data " + shell_quote(data) + " --seq-len 128 -q --json");
    std::map<std::string, double> out;
    for (const std::string& d : k_domains) out[d] = j["domains"][d]["mean_nll"].get<double>();
    out["all"] = j["all"]["mean_nll"].get<double>();
    return out;
}

}  // namespace

TEST(CliBranchTrainMix, DomainsRouteToTheirExpertAndTheMixtureBeatsTheSingleFineTunes) {
    TempDir tmp;
    const fs::path train = data_dir() / "corpus" / "train-spread.jsonl";
    const fs::path valid = data_dir() / "corpus" / "valid-spread.jsonl";
    const std::string steps = " --batch-tokens 1024 --seq-len 128 --lr 1e-3 --warmup 3 --holdout 0 --seed 1";
    std::string sources;
    std::map<std::string, std::map<std::string, double>> fine_tuned;   // fine-tune domain -> NLL per domain
    for (const std::string& d : k_domains) {
        const fs::path out = tmp.path() / ("ft-" + d);
        const CliResult r = run_cli("tune " + shell_quote(tiny_llama()) + " --data " +
                                    shell_quote(domain_file(tmp.path(), train, d)) + " --eval " + shell_quote(valid) +
                                    " --select all --steps 24" + steps + " -q -o " + shell_quote(out));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        if (d != k_domains.front()) sources += " " + shell_quote(out);
        fine_tuned[d] = domain_nll(out, valid);
    }
    const fs::path btx = tmp.path() / "btx";
    const CliResult up = run_cli("upcycle " + shell_quote(tmp.path() / "ft-english") + " --sources" + sources + " -o " +
                                 shell_quote(btx) + " --experts 4 --top-k 2 --router hidden --prompts " +
                                 shell_quote(train) + " --prompt-domains english,c,python,json -q");
    ASSERT_EQ(up.exit_code, 0) << up.err;

    // Routing: expert e is the fine-tune on domain e. Top-2 of 4 (each row of `frequency` sums
    // to 2): in the last layer each domain's own expert serves most of its tokens and more than
    // any other expert; over all layers it is chosen more often than uniform (0.5).
    const fs::path trace = tmp.path() / "btx.h5";
    ASSERT_EQ(run_cli("trace " + shell_quote(btx) + " --data " + shell_quote(valid) + " -q -o " + shell_quote(trace)).exit_code, 0);
    const Json stats = run_json("stats " + shell_quote(trace) + " --json")["domains"];
    const std::vector<std::string> names = stats["names"].get<std::vector<std::string>>();
    const Json& layers = stats["layers"];
    ASSERT_FALSE(layers.empty());
    for (std::size_t e = 0; e < k_domains.size(); ++e) {
        const std::size_t row = std::find(names.begin(), names.end(), k_domains[e]) - names.begin();
        ASSERT_LT(row, names.size()) << k_domains[e];
        const std::vector<double> last = layers.back()["frequency"][row].get<std::vector<double>>();
        EXPECT_GT(last[e], 0.7) << k_domains[e];
        for (std::size_t o = 0; o < last.size(); ++o)
            if (o != e) EXPECT_GT(last[e], last[o] + 0.1) << k_domains[e] << " vs expert " << o;
        double mean = 0;
        for (const Json& layer : layers) mean += layer["frequency"][row][e].get<double>() / double(layers.size());
        EXPECT_GT(mean, 0.55) << k_domains[e];
    }

    // One model for every domain: the mixture's NLL over all held-out tokens is below every
    // single fine-tune's, and on each domain below the fine-tunes' mean there (a specialist of
    // another domain loses more there than the mixture does).
    const auto mixed = domain_nll(btx, valid);
    for (const std::string& d : k_domains) {
        EXPECT_LT(mixed.at("all"), fine_tuned[d].at("all") - 0.005) << "vs the fine-tune on " << d;
        double mean = 0;
        for (const std::string& ft : k_domains) mean += fine_tuned[ft].at(d) / double(k_domains.size());
        EXPECT_LT(mixed.at(d), mean - 0.005) << d;
    }

    // MiX: continued training of the mixture trains its routers with the load-balancing loss and
    // logs the per-layer load CV.
    const fs::path mix = tmp.path() / "btx-mix";
    const CliResult r = run_cli("tune " + shell_quote(btx) + " --data " + shell_quote(train) + " --eval " + shell_quote(valid) +
                                " --select all --steps 8" + steps + " -o " + shell_quote(mix));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("trained routers  layers 0, 1, 2, 3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("routing loss     train: load_balance, weight 0.01"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("expert load CV per MoE layer"), std::string::npos) << r.err;
    const sy::TrainingLogContents log = sy::read_training_log(mix / "training-log.h5");
    EXPECT_EQ(log.meta.load_layers, (std::vector<int32_t>{0, 1, 2, 3}));
    ASSERT_EQ(log.steps.size(), 8u);
    for (const sy::TrainingStepRow& row : log.steps) {
        ASSERT_EQ(row.load_cv.size(), 4u);
        for (double cv : row.load_cv) EXPECT_TRUE(cv >= 0 && cv <= 1.0) << cv;   // 4 experts top-2: collapse is 1
    }
}
