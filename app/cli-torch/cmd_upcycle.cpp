// switchyard upcycle DENSE -o OUT --experts E --top-k K [--family F] [--router random|zero|hidden
//   --prompts FILE] [--drop-upcycling R] [--seed S] [--shared-expert] [--granularity G]
//   [--sources DIR...] [--dtype keep|bf16|f32] ...
// Dense checkpoint -> Mixture-of-Experts checkpoint (editing/upcycle.h). Lives in switchyard-torch
// because `--router hidden` runs the dense model's forward pass; the rest is torch-free.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "run_args.h"
#include "switchyard/core/model.h"
#include "switchyard/core/output_paths.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/recipe.h"
#include "switchyard/editing/upcycle.h"
#include "switchyard/editing/upcycle_hidden.h"
#include "torch_verbs_cli.h"

namespace sy::cli {
namespace {

struct Args {
    std::string dense, output, family, router = "random", prompts, hidden_pool = "mean", non_experts = "average";
    std::string dtype = "keep", shard_size = "5GB", device = "cpu", save_recipe;
    std::vector<std::string> sources, prompt_domains;
    int64_t experts = 0, top_k = 0, granularity = 1, seq_len = 512;
    double drop_rate = 0, router_std = 0.02;
    uint64_t seed = 0;
    bool shared_expert = false, no_renormalize = false, force = false, quiet = false, json = false;

    UpcycleOptions options() const {
        UpcycleOptions o;
        o.family = family;
        o.experts = experts, o.top_k = top_k, o.granularity = granularity;
        o.router = parse_upcycle_router(router);
        o.router_std = router_std;
        o.prompts = prompts;
        o.prompt_domains = prompt_domains;
        o.hidden_pool = parse_hidden_pool(hidden_pool);
        o.drop_rate = drop_rate, o.seed = seed;
        o.shared_expert = shared_expert;
        o.sources.assign(sources.begin(), sources.end());
        o.non_experts = parse_non_expert_source(non_experts);
        o.dtype = parse_export_dtype(dtype);
        o.renormalize = !no_renormalize;
        return o;
    }
};

void declare(CLI::App* cmd, Args& a) {
    cmd->add_option("DENSE", a.dense, "Dense model folder (Llama, Mistral, Qwen2, ...; never modified)")->required();
    cmd->add_option("-o,--output", a.output, "Output folder (written under a temporary name, renamed when complete)")->required();
    cmd->add_option("--experts", a.experts, "Routed experts per layer (E)")->required();
    cmd->add_option("--top-k", a.top_k, "Experts per token (k <= E)")->required();
    cmd->add_option("--family", a.family, "Target MoE family: mixtral, qwen2_moe, qwen3_moe, deepseek_v3, ... "
                                          "(default: the first that holds the source's attention unchanged)");
    cmd->add_option("--router", a.router, "Router init: random (N(0, std^2), seeded), zero, hidden (from --prompts)")
        ->check(CLI::IsMember({"random", "zero", "hidden"}))->capture_default_str();
    cmd->add_option("--router-std", a.router_std, "Standard deviation of the random router")->capture_default_str();
    cmd->add_option("--prompts", a.prompts, "With --router hidden: .jsonl records {\"text\"|\"input_ids\", \"domain\"}");
    cmd->add_option("--prompt-domains", a.prompt_domains,
                    "Domain of each expert's prompts (E names) or of each source's (one per source); "
                    "default: expert e's prompts have domain \"e\"")->delimiter(',');
    cmd->add_option("--hidden-pool", a.hidden_pool, "mean (every token) or last (last token of each prompt)")
        ->check(CLI::IsMember({"mean", "last"}))->capture_default_str();
    cmd->add_option("--drop-upcycling", a.drop_rate, "Drop-Upcycling: re-initialise this fraction R of each expert's neurons");
    cmd->add_option("--seed", a.seed, "Seed of every random draw (router, partition, Drop-Upcycling)")->capture_default_str();
    cmd->add_flag("--shared-expert", a.shared_expert, "Add an always-on shared expert, a copy of the dense FFN");
    cmd->add_option("--granularity", a.granularity, "Fine-grained experts: each holds 1/G of the FFN's neurons")
        ->capture_default_str();
    cmd->add_option("--sources", a.sources, "Further fine-tunes of the same base: expert FFNs in equal blocks per source");
    cmd->add_option("--non-experts", a.non_experts, "With --sources: attention/norms/embeddings averaged or from the first")
        ->check(CLI::IsMember({"average", "first"}))->capture_default_str();
    cmd->add_option("--dtype", a.dtype, "Output dtype of float tensors")
        ->check(CLI::IsMember({"keep", "bf16", "f32"}))->capture_default_str();
    cmd->add_flag("--no-renormalize", a.no_renormalize, "Write norm_topk_prob = false (Qwen1.5-MoE style; not exact)");
    cmd->add_option("--shard-size", a.shard_size, "Largest shard, e.g. 5GB, 500MB")->capture_default_str();
    cmd->add_option("--device", a.device, "With --router hidden: cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--seq-len", a.seq_len, "With --router hidden: longest prompt window")
        ->check(positive())->capture_default_str();
    cmd->add_flag("--force", a.force, "Replace a non-empty output folder");
    cmd->add_option("--save-recipe", a.save_recipe, "Also write the resolved options as a recipe for `switchyard apply`");
    add_progress_flags(cmd, a.quiet);
    cmd->add_flag("--json", a.json, R"(Print {"family", "exact", "output_at_init", "notes", "files", ...})");
}

void print(const Args& a, const UpcycleResult& r) {
    if (a.json) {
        const nlohmann::json out{{"family", r.resolved.family},   {"options", r.resolved},
                                 {"exact", r.exactness.exact},    {"output_at_init", r.exactness.output},
                                 {"notes", r.notes},              {"files", r.files},
                                 {"tensors", r.tensor_count},     {"bytes", r.total_bytes}};
        std::printf("%s\n", out.dump(2).c_str());
        return;
    }
    std::printf("upcycled %s -> %s: %s, %lld experts, top-%lld; %zu tensors (%.1f MB) in %zu file(s)\n", a.dense.c_str(),
                a.output.c_str(), r.resolved.family.c_str(), static_cast<long long>(r.resolved.experts),
                static_cast<long long>(r.resolved.top_k), r.tensor_count, double(r.total_bytes) / 1e6, r.files.size());
    std::printf("%s%s\n", r.exactness.exact ? "exact at initialisation: " : "", r.exactness.output.c_str());
    for (const std::string& note : r.notes) std::printf("note: %s\n", note.c_str());
}

}  // namespace

Verb add_upcycle(CLI::App& root) {
    auto* cmd = root.add_subcommand("upcycle", "Turn a dense model (or several fine-tunes of one) into an MoE checkpoint");
    auto args = std::make_shared<Args>();
    declare(cmd, *args);
    return {cmd, [args]() {
                const CancelToken& cancel = install_cancel_handler();
                EditOutput output;
                output.dir = args->output;
                output.shard_size_bytes = parse_byte_size(args->shard_size);
                output.force = args->force;
                output.command_line = command_line();
                if (!args->save_recipe.empty()) {
                    check_recipe_destination(args->save_recipe, args->dense, args->output, args->force);
                    for (const std::string& source : args->sources) check_output_outside_model(args->save_recipe, source, "--save-recipe");
                }
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                const UpcycleResult result =
                    upcycle(args->dense, args->options(), output, hidden_state_fn(args->device, args->seq_len, progress, cancel),
                            progress, cancel);
                progress.done();
                if (!args->save_recipe.empty()) {
                    Recipe recipe;
                    const Model dense = open_model(args->dense);
                    recipe.source_path = std::filesystem::absolute(args->dense).lexically_normal().string();
                    recipe.source_fingerprint = model_fingerprint(dense);
                    recipe.export_settings = {args->dtype, args->shard_size};
                    recipe.edits.push_back(UpcycleEdit{nlohmann::json(result.resolved).dump()});
                    write_recipe(recipe, args->save_recipe);
                }
                print(*args, result);
                return 0;
            }};
}

}  // namespace sy::cli
