// Upcycle checks without writing: bad options and sources give one clear error, the family is
// resolved from the table, what the output computes at initialisation is stated, and the recipe
// form of the options round-trips.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "upcycle_fixtures.h"

using namespace sy;
using namespace sy::test;
namespace fs = std::filesystem;

namespace {

const Model& llama() {
    static const Model model = open_model(tiny_llama());
    return model;
}

UpcycleResult check(UpcycleOptions o, const std::vector<const Model*>& extra = {}) {
    std::vector<const Model*> sources{&llama()};
    sources.insert(sources.end(), extra.begin(), extra.end());
    return check_upcycle(sources, o);
}

// The UsageError message of `o`, or "" when it passes.
std::string error_of(const UpcycleOptions& o, const std::vector<const Model*>& extra = {}) {
    try {
        check(o, extra);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

void expect_error(const UpcycleOptions& o, const std::vector<std::string>& fragments,
                  const std::vector<const Model*>& extra = {}) {
    const std::string message = error_of(o, extra);
    ASSERT_FALSE(message.empty()) << "no error; expected: " << fragments.front();
    for (const auto& f : fragments) EXPECT_NE(message.find(f), std::string::npos) << message << "\n  lacks: " << f;
}

TEST(UpcycleChecks, BadNumbersAreRefusedWithTheFlagAndTheRule) {
    expect_error(upcycle_options(4, 5), {"--top-k 5 exceeds --experts 4"});
    expect_error(upcycle_options(0, 1), {"--experts 0"});
    for (double r : {-0.1, 1.5, std::nan("")}) {
        UpcycleOptions o = upcycle_options(4, 2);
        o.drop_rate = r;
        expect_error(o, {"--drop-upcycling", "[0, 1]"});
    }
    UpcycleOptions g = upcycle_options(6, 2);
    g.granularity = 3;   // 6 experts = 2 copies x 3 parts, but 3 does not divide I = 512
    expect_error(g, {"--granularity 3 does not divide the dense FFN width 512", "intermediate_size"});
    g = upcycle_options(6, 2);
    g.granularity = 4;
    expect_error(g, {"--experts 6 is not a multiple of --granularity 4"});
    UpcycleOptions hidden = upcycle_options(4, 2);
    hidden.router = UpcycleRouter::hidden;
    expect_error(hidden, {"--router hidden needs --prompts"});
    UpcycleOptions prompts = upcycle_options(4, 2);
    prompts.prompts = "p.jsonl";
    expect_error(prompts, {"only used with --router hidden"});
}

TEST(UpcycleChecks, AlreadyMoeSourceIsRefused) {
    const Model mixtral = open_model(examples_dir() / "tiny-mixtral");
    try {
        check_upcycle({&mixtral}, upcycle_options(4, 2));
        FAIL() << "expected UsageError";
    } catch (const UsageError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("already a Mixture-of-Experts model (mixtral, 8 experts in 4 layers)"), std::string::npos) << m;
        EXPECT_NE(m.find("llama, mistral, qwen2"), std::string::npos) << m;
    }
}

TEST(UpcycleChecks, FamilyDefaultsToTheFirstThatHoldsTheAttention) {
    const UpcycleResult r = check(upcycle_options(4, 2));
    EXPECT_EQ(r.resolved.family, "mixtral");
    ASSERT_FALSE(r.notes.empty());
    EXPECT_NE(r.notes.front().find("family mixtral"), std::string::npos);
}

TEST(UpcycleChecks, FamiliesThatCannotHoldTheAttentionAreRefusedWithTheReason) {
    UpcycleOptions o = upcycle_options(4, 2);
    o.family = "qwen3_moe";
    expect_error(o, {"--family qwen3_moe", "qk-norm", "families that fit this source: mixtral, qwen2_moe"});
    o.family = "deepseek_v3";
    expect_error(o, {"multi-head latent attention (MLA)"});
    o.family = "llama";
    expect_error(o, {"--family llama is a dense family"});
    o.family = "gpt2";
    EXPECT_THROW(check(o), UnknownArchitecture);
}

TEST(UpcycleChecks, SharedExpertAndRenormalisationFollowTheFamily) {
    UpcycleOptions o = upcycle_options(4, 2);
    o.shared_expert = true;
    expect_error(o, {"--shared-expert: mixtral has no shared experts", "qwen2_moe"});
    o = upcycle_options(4, 2);
    o.renormalize = false;
    expect_error(o, {"mixtral always renormalises"});
    o = upcycle_options(4, 2);
    o.family = "qwen2_moe";   // Qwen2-MoE always has its gated shared expert
    const UpcycleResult r = check(o);
    EXPECT_TRUE(r.resolved.shared_expert);
    EXPECT_FALSE(r.exactness.exact);
    EXPECT_NE(r.exactness.output.find("1.5 FFN(x)"), std::string::npos) << r.exactness.output;
}

TEST(UpcycleChecks, ExactOnlyForWholeCopiesUnderRenormalisedTopK) {
    const UpcycleResult plain = check(upcycle_options(8, 2));
    EXPECT_TRUE(plain.exactness.exact);
    EXPECT_NE(plain.exactness.output.find("y = FFN(x)"), std::string::npos);
    UpcycleOptions o = upcycle_options(8, 2);
    o.router = UpcycleRouter::zero;
    EXPECT_TRUE(check(o).exactness.exact);   // any router
    o = upcycle_options(8, 2);
    o.drop_rate = 0.5;
    EXPECT_FALSE(check(o).exactness.exact);
    o = upcycle_options(8, 2);
    o.granularity = 4;
    const UpcycleResult fine = check(o);
    EXPECT_FALSE(fine.exactness.exact);
    EXPECT_NE(fine.exactness.output.find("1/4 of the neurons"), std::string::npos) << fine.exactness.output;
    o = upcycle_options(8, 2);
    o.family = "qwen2_moe";
    o.renormalize = false;
    const UpcycleResult unnormalised = check(o);
    EXPECT_FALSE(unnormalised.exactness.exact);
    EXPECT_NE(unnormalised.exactness.output.find("k/E = 0.25"), std::string::npos) << unnormalised.exactness.output;
    EXPECT_NE(unnormalised.exactness.output.find("without top-k renormalisation"), std::string::npos);
}

class DenseVariants : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path variant(const std::string& name, const std::vector<std::pair<std::string, std::string>>& edits,
                     DType dtype = DType::bf16) {
        const fs::path dir = tmp.path() / name;
        write_dense_variant(dir, [](const std::string&, std::vector<float>&) {}, dtype, edits);
        return dir;
    }
};

TEST_F(DenseVariants, SourcesMustAgreeOnArchitectureAndDtype) {
    const Model theta = open_model(variant("theta", {{"\"rope_theta\": 10000.0", "\"rope_theta\": 500000.0"}}));
    expect_error(upcycle_options(4, 2), {"sources disagree", "theta/config.json: rope_theta = 500000", "has 10000"},
                 {&theta});
    const Model f32 = open_model(variant("f32", {}, DType::f32));
    expect_error(upcycle_options(4, 2), {"sources disagree", "dtype F32, but the first source has BF16", "--dtype"},
                 {&f32});
    UpcycleOptions converted = upcycle_options(4, 2);
    converted.dtype = ExportDType::f32;
    EXPECT_EQ(error_of(converted, {&f32}), "");
    const Model same = open_model(variant("same", {}));
    expect_error(upcycle_options(3, 2), {"3 copies of the FFN, which 2 sources cannot share equally"}, {&same});
    UpcycleOptions domains = upcycle_options(4, 2);
    domains.router = UpcycleRouter::hidden;
    domains.prompts = "p.jsonl";
    domains.prompt_domains = {"a", "b", "c"};
    expect_error(domains, {"--prompt-domains lists 3 domains", "one per expert (4)", "one per source (2)"}, {&same});
}

TEST(UpcycleOptionsJson, RoundTripsEveryParameter) {
    UpcycleOptions o = upcycle_options(16, 4);
    o.family = "qwen2_moe";
    o.router = UpcycleRouter::hidden;
    o.router_std = 0.5;
    o.prompts = "/data/prompts.jsonl";
    o.prompt_domains = {"c", "python"};
    o.hidden_pool = HiddenPool::last;
    o.drop_rate = 0.25;
    o.seed = 18446744073709551615ULL;
    o.shared_expert = true;
    o.granularity = 4;
    o.sources = {"/m/a", "/m/b"};
    o.non_experts = NonExpertSource::first;
    o.dtype = ExportDType::bf16;
    o.renormalize = false;
    const nlohmann::json j = o;
    EXPECT_EQ(j.at("op"), "upcycle");
    const UpcycleOptions back = j.get<UpcycleOptions>();
    EXPECT_EQ(nlohmann::json(back), j);
    EXPECT_EQ(back.seed, o.seed);
    EXPECT_EQ(back.sources, o.sources);
}

TEST(UpcycleOptionsJson, DefaultsAndErrorsNameTheKey) {
    const auto parsed = nlohmann::json::parse(R"({"op": "upcycle", "experts": 8, "top_k": 2})").get<UpcycleOptions>();
    EXPECT_EQ(parsed.router, UpcycleRouter::random);
    EXPECT_DOUBLE_EQ(parsed.router_std, 0.02);
    EXPECT_TRUE(parsed.renormalize);
    EXPECT_EQ(parsed.granularity, 1);
    const auto message = [](const char* text) {
        try {
            nlohmann::json::parse(text).get<UpcycleOptions>();
        } catch (const UsageError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(message(R"({"top_k": 2})").find("\"experts\" is missing"), std::string::npos);
    EXPECT_NE(message(R"({"experts": 8, "top_k": "2"})").find("\"top_k\" must be an integer"), std::string::npos);
    EXPECT_NE(message(R"({"experts": 8, "top_k": 2, "expert": 1})").find("unknown key \"expert\""), std::string::npos);
    EXPECT_NE(message(R"({"op": "prune", "experts": 8, "top_k": 2})").find("expected \"upcycle\""), std::string::npos);
    EXPECT_NE(message(R"({"experts": 8, "top_k": 2, "router": "noisy"})").find("random, zero, hidden"),
              std::string::npos);
    EXPECT_NE(message(R"({"experts": 8, "top_k": 2, "seed": -1})").find("\"seed\""), std::string::npos);
}

}  // namespace
