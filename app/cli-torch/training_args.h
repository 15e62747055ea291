#pragma once
// Options `unlearn` and `tune` share (the training run, the export, --plan, --resume), and the
// run itself: resolve -> (--plan: print, stop) -> train -> export -> report (docs/training.md).
// With --nproc N (or under torchrun) the run is data parallel: every rank trains on its share of
// each step's windows, rank 0 alone writes the log, the resumable state and the output
// (docs/distributed.md "Training on several ranks").
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "export_flags.h"
#include "parallel_args.h"
#include "progress_stderr.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/model.h"
#include "switchyard/core/output_paths.h"
#include "switchyard/editing/expert_training.h"
#include "switchyard/editing/recipe.h"
#include "switchyard/editing/surgery.h"
#include "verbs.h"

namespace sy::cli {

struct TrainingArgs {
    std::string model_dir, output, device = "cpu", dtype, out_dtype = "keep", shard_size = "5GB", schedule = "cosine";
    std::string checkpoint = "auto", max_memory, save_recipe;
    std::vector<std::string> eval;
    int64_t seq_len = 128, batch_tokens = 2048, accumulation = 1, warmup = 0, max_tokens = 0, steps = 0;
    double lr = 0, clip = 1.0, weight_decay = 0;
    uint64_t seed = 0;
    bool plan = false, resume = false, force = false, quiet = false;
    CLI::Option* steps_option = nullptr;
    CLI::Option* lr_option = nullptr;
    ParallelArgs parallel;

    void declare(CLI::App* cmd) {
        cmd->add_option("MODEL_DIR", model_dir, "Model folder (never modified)")->required();
        cmd->add_option("-o,--output", output, "Output model folder (written under a temporary name, renamed when complete)");
        steps_option = cmd->add_option("--steps", steps, "Optimizer steps");
        lr_option = cmd->add_option("--lr", lr, "Peak learning rate (AdamW)");
        cmd->add_option("--batch-tokens", batch_tokens, "Tokens of each data set per step")->capture_default_str();
        cmd->add_option("--accumulation", accumulation, "Micro-batches per step (gradient accumulation)")
            ->check(positive())->capture_default_str();
        cmd->add_option("--seq-len", seq_len, "Attention window of the training data")->check(positive())->capture_default_str();
        cmd->add_option("--max-tokens", max_tokens, "Read at most this many tokens of each data set")->check(positive());
        cmd->add_option("--seed", seed, "Seed of the data order and held-out split (a CPU run repeats exactly)")
            ->capture_default_str();
        cmd->add_option("--schedule", schedule, "Learning-rate decay after warm-up")
            ->check(CLI::IsMember({"constant", "linear", "cosine"}))->capture_default_str();
        cmd->add_option("--warmup", warmup, "Linear warm-up steps")->capture_default_str();
        cmd->add_option("--clip", clip, "Global gradient-norm bound (0: none)")->capture_default_str();
        cmd->add_option("--weight-decay", weight_decay, "AdamW's decoupled weight decay")->capture_default_str();
        cmd->add_option("--checkpoint-layers", checkpoint,
                        "Activation checkpointing per decoder layer: auto (when the plan needs it), on, off")
            ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
        cmd->add_option("--eval", eval, "Data evaluated before and after (default: the training data), per domain")
            ->allow_extra_args(false);
        cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
        cmd->add_option("--dtype", dtype, "Compute dtype (default f32 on CPU, bf16 autocast with f32 masters on CUDA)")
            ->check(CLI::IsMember({"f32", "bf16"}));
        cmd->add_option("--max-memory", max_memory, "Memory budget of the run, e.g. 8GB (default: what is available)");
        cmd->add_option("--out-dtype", out_dtype, "Stored dtype of float tensors")
            ->check(CLI::IsMember({"keep", "bf16", "f16", "f32"}))->capture_default_str();
        cmd->add_option("--shard-size", shard_size, "Largest output shard, e.g. 5GB")->capture_default_str();
        cmd->add_option("--save-recipe", save_recipe,
                        "Also write the run as a recipe entry (learning rate and steps as used, data sha256); "
                        "`switchyard apply` repeats it");
        cmd->add_flag("--plan", plan, "Print the memory the run needs and whether it fits; train nothing");
        cmd->add_flag("--resume", resume, "Continue the run stopped with Ctrl-C / SIGTERM (same command)");
        cmd->add_flag("--force", force, "Replace a non-empty output folder");
        add_progress_flags(cmd, quiet);
        parallel.declare(cmd, /*expert_flags=*/false);
    }

    // Ranks but rank 0 keep quiet (known before the job is joined).
    bool progress_quiet() const { return quiet || !is_output_rank_from_environment(); }

    SurgeryTraining training() const {
        SurgeryTraining t;
        t.runner.device = device;
        t.runner.dtype = parse_compute_dtype(!dtype.empty() ? dtype : device.rfind("cuda", 0) == 0 ? "bf16" : "f32");
        t.runner.max_memory_bytes = max_memory.empty() ? 0 : parse_byte_size(max_memory);
        t.seq_len = seq_len;
        if (steps_option->count()) t.steps = steps;
        if (lr_option->count()) t.lr = lr;
        t.max_tokens = max_tokens;
        t.batch_tokens = batch_tokens;
        t.accumulation = accumulation;
        t.seed = seed;
        t.schedule = parse_lr_schedule(schedule);
        t.warmup_steps = warmup;
        t.clip_norm = clip;
        t.weight_decay = weight_decay;
        t.checkpointing = checkpoint == "on"    ? ActivationCheckpointing::on
                          : checkpoint == "off" ? ActivationCheckpointing::off
                                                : ActivationCheckpointing::automatic;
        t.eval_data.assign(eval.begin(), eval.end());
        return t;
    }

    ExportOptions export_options() const { return export_options_from_flags(output, out_dtype, shard_size, force); }

    // Checks what can be checked before the data is read (output folder, its dtype).
    void check_output(const Model& model) const {
        SY_CHECK(plan || !output.empty(), UsageError, "-o OUT_DIR is required (or --plan)");
        SY_CHECK(clip >= 0 && weight_decay >= 0 && warmup >= 0, UsageError, "--clip, --weight-decay and --warmup must be >= 0");
        if (plan) return;
        check_export_target(model, export_options());
        if (!save_recipe.empty()) {
            check_recipe_destination(save_recipe, model.checkpoint.dir(), output, force);
            // The run's resumable state is removed once the output is complete.
            SY_CHECK(!path_is_within(save_recipe, training_work_dir(output)), UsageError,
                     "--save-recipe " + save_recipe + ": inside " + training_work_dir(output).string() +
                         ", the run's working folder, removed when it finishes; save the recipe elsewhere");
        }
    }
};

// The report of a finished training run (`unlearn`, `tune`, `apply` of a training recipe).
inline void report_surgery(const SurgeryJobResult& done, const std::string& output, StderrProgress& progress) {
    const SurgeryPlan& plan = done.plan;
    const ExportResult& exported = done.exported;
    const TrainingResult& result = done.training;
    progress.done();
    if (progress.takes_text()) std::fputs(format_load_summary(result).c_str(), stderr);
    std::fputs(surgery_report(plan, result).c_str(), stdout);
    std::printf("wrote %zu tensors (%.1f MB) to %s; %zu trained tensors, %lld parameters\n", exported.tensor_count,
                double(exported.total_bytes) / 1e6, output.c_str(), plan.parameters.size(),
                static_cast<long long>(done.trained_parameters));
}

// Trains, exports and reports; prints the plan instead with --plan. A cancelled run leaves its
// resumable state in OUT.training/ and no output folder.
inline int run_surgery(const Model& model, SurgeryPlan& plan, const TrainingArgs& args, StderrProgress& progress,
                       const CancelToken& cancel) {
    const ExportOptions export_options = args.export_options();
    if (args.plan) {
        if (!is_output_rank_from_environment()) return 0;
        std::fputs(format_training_plan(model, plan.training, plan_training(model, plan.training)).c_str(), stdout);
        return 0;
    }
    SurgeryJobOptions job;
    job.export_options = export_options;
    job.export_options.command_line = command_line();
    job.resume = args.resume;
    job.save_recipe = args.save_recipe;
    job.recipe_export = {args.out_dtype, args.shard_size};
    job.join_ranks = [&](TrainingOptions& training) { return args.parallel.join_training(plan.op, training); };
    const bool output_rank = is_output_rank_from_environment();
    SurgeryJobResult done;
    try {
        done = run_surgery_job(model, plan, job, progress, cancel);
    } catch (const Cancelled&) {
        progress.done();
        if (output_rank)
            std::fprintf(stderr, "stopped at a step boundary; the state is in %s: run the same command with --resume\n",
                         plan.training.state_dir.string().c_str());
        throw;
    }
    if (!done.output_rank) return 0;   // rank 0 exports the (equal) trained tensors
    report_surgery(done, args.output, progress);
    if (!args.save_recipe.empty()) std::printf("recipe: %s\n", args.save_recipe.c_str());
    return 0;
}

}  // namespace sy::cli
