#pragma once
// Options trace and eval share (same dataset rules and defaults), declared once.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "progress_stderr.h"
#include "verbs.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/editing/export.h"

namespace sy::cli {

struct RunArgs {
    std::string model_dir, device = "cpu", dtype, bos = "auto", max_memory, mask_experts;
    std::vector<std::string> data;
    int64_t seq_len = 512, batch_tokens = 0, max_tokens = 0;
    bool quiet = false;

    // `data_required`: false for the edit verbs, whose --data (calibration) is optional;
    // `model_required`: false for apply, whose recipe names its model.
    void declare(CLI::App* cmd, bool data_required = true, bool model_required = true) {
        cmd->add_option("MODEL_DIR", model_dir, "Model folder (config.json, *.safetensors, tokenizer.json)")
            ->required(model_required);
        auto* data_option =
            cmd->add_option("--data", data,
                            ".jsonl records ({\"text\"|\"input_ids\", \"domain\"}) or .txt files, or folders; repeatable")
                ->allow_extra_args(false);  // `--data a MODEL_DIR` must not swallow MODEL_DIR
        if (data_required) data_option->required();
        cmd->add_option("--seq-len", seq_len, "Attention window; longer documents are cut into windows")
            ->check(positive())
            ->capture_default_str();
        cmd->add_option("--batch-tokens", batch_tokens, "Tokens per forward batch (default max(seq-len, 4096))")
            ->check(positive());
        cmd->add_option("--max-tokens", max_tokens, "Stop after this many tokens")->check(positive());
        cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
        cmd->add_option("--dtype", dtype, "Compute dtype (default f32 on CPU, bf16 on CUDA)")
            ->check(CLI::IsMember({"f32", "bf16"}));
        cmd->add_option("--bos", bos, "BOS for text records: auto (what the tokenizer's post-processor does), on, off")
            ->check(CLI::IsMember({"auto", "on", "off"}))
            ->capture_default_str();
        cmd->add_option("--max-memory", max_memory, "Bound on resident weights, e.g. 4GB: layers are streamed");
        cmd->add_option("--mask-experts", mask_experts,
                        "Experts never selected, L:E[,L:E...] (model-layer:expert); no weights change");
        add_progress_flags(cmd, quiet);
    }

    CorpusOptions corpus() const {
        CorpusOptions corpus;
        corpus.data.assign(data.begin(), data.end());
        corpus.seq_len = seq_len;
        corpus.batch_tokens = batch_tokens;
        corpus.max_tokens = max_tokens;
        corpus.bos = parse_bos_mode(bos);
        return corpus;
    }

    RunnerOptions runner() const {
        RunnerOptions runner;
        runner.device = device;
        runner.dtype = parse_compute_dtype(!dtype.empty() ? dtype : device.rfind("cuda", 0) == 0 ? "bf16" : "f32");
        runner.max_memory_bytes = max_memory.empty() ? 0 : parse_byte_size(max_memory);
        if (!mask_experts.empty()) runner.masked_experts = parse_layer_experts(mask_experts, "--mask-experts");
        return runner;
    }
};

}  // namespace sy::cli
