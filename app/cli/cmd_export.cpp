// switchyard export MODEL_DIR -o OUT_DIR [--shard-size 5GB] [--dtype keep|bf16|f16|f32] [--force]
#include "export_flags.h"
#include "progress_stderr.h"
#include "switchyard/core/model.h"
#include "switchyard/editing/export.h"
#include "verbs.h"

namespace sy::cli {

Verb add_export(CLI::App& root) {
    auto* cmd = root.add_subcommand("export", "Write the model in Hub layout (per-expert names, sharded, with index)");
    struct Args {
        std::string model_dir, output_dir, shard_size = "5GB", dtype = "keep";
        bool force = false, quiet = false;
    };
    auto args = std::make_shared<Args>();
    cmd->add_option("MODEL_DIR", args->model_dir, "Checkpoint folder (never modified)")->required();
    cmd->add_option("-o,--output", args->output_dir, "Output folder (created; written under a temporary name first)")->required();
    cmd->add_option("--shard-size", args->shard_size, "Largest shard, e.g. 5GB, 500MB, 2GiB")->capture_default_str();
    cmd->add_option("--dtype", args->dtype, "Output dtype for float tensors")
        ->check(CLI::IsMember({"keep", "bf16", "f16", "f32"}))
        ->capture_default_str();
    cmd->add_flag("--force", args->force, "Replace a non-empty output folder");
    add_progress_flags(cmd, args->quiet);
    return {cmd, [args, &root]() {
                const ExportOptions options =
                    export_options_from_flags(args->output_dir, args->dtype, args->shard_size, args->force);
                const Model model = open_model(args->model_dir);
                StderrProgress progress(args->quiet);
                ProgressLineGuard line{progress};
                const CancelToken& cancel = install_cancel_handler();
                const ExportResult result = export_checkpoint(model, options, progress, cancel);
                progress.done();
                std::printf("exported %zu tensors (%.1f MB) in %zu file(s) to %s\n", result.tensor_count,
                            double(result.total_bytes) / 1e6, result.files.size(), args->output_dir.c_str());
                return 0;
            }};
}

}  // namespace sy::cli
