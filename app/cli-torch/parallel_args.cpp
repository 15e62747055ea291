// Several ranks from the CLI: flags, launching, joining; see parallel_args.h.
#include "parallel_args.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "launcher.h"
#include "switchyard/compute/parallel_job.h"
#include "switchyard/compute/rank_group.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"

namespace sy::cli {
namespace {

std::vector<std::string> g_arguments;

// Written under a temporary name and renamed, like every output.
void write_text_file(const std::string& path, const std::string& text) {
    const std::string partial = path + ".partial";
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        out << text;
        SY_CHECK(out.good(), IoError, partial + ": cannot write");
    }
    std::error_code ec;
    std::filesystem::rename(partial, path, ec);
    SY_CHECK(!ec, IoError, path + ": cannot write (" + ec.message() + ")");
}

bool launched_rank() {
    const char* marker = std::getenv(k_launcher_variable);
    return marker && *marker;
}

}  // namespace

void remember_arguments(int argc, char** argv) { g_arguments.assign(argv, argv + argc); }

void ParallelArgs::declare(CLI::App* cmd, bool expert_flags) {
    auto* group = cmd->add_option_group("Several GPUs and machines");
    group->add_option("--nproc", nproc, "Ranks on this machine: one per GPU with --device cuda, CPU processes otherwise")
        ->check(CLI::Range(1, 1024));
    group->add_option("--nnodes", nnodes, "Machines, one launcher each (same command, own --node-rank)")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    group->add_option("--node-rank", node_rank, "This machine's index, 0 .. nnodes-1 (node 0 hosts rank 0)")
        ->capture_default_str();
    group->add_option("--master-addr", master_addr, "Address of node 0, reachable from every machine (default 127.0.0.1)");
    group->add_option("--master-port", master_port, "Port of rank 0's rendezvous store (default: a free one; 29500 with --nnodes)")
        ->check(CLI::Range(1, 65535));
    group->add_option("--backend", backend, "auto (nccl on CUDA, gloo on CPU), gloo or nccl")
        ->check(CLI::IsMember({"auto", "gloo", "nccl"}))
        ->capture_default_str();
    group->add_option("--timeout", timeout, "Seconds a rank waits for another before the job stops with an error")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    if (!expert_flags) return;
    group->add_flag("--expert-parallel", expert_parallel,
                    "Each rank holds only its experts of every MoE layer; tokens go to them by all-to-all");
    group->add_option("--placement", placement, "Expert -> rank placement from `switchyard place --gpus N -o PLACE.h5` "
                                                "(default contiguous)");
    group->add_option("--traffic", traffic, "Write the bytes each rank sent to each other rank per MoE layer (JSON)");
}

bool ParallelArgs::launches() const {
    if (launched_rank()) return false;
    const bool wants = nproc > 1 || nnodes > 1;
    SY_CHECK(!wants || !std::getenv("RANK"), UsageError,
             "--nproc/--nnodes inside a torchrun-style launch (RANK is set): start the ranks one way, not both");
    SY_CHECK(nnodes > 1 || node_rank == 0, UsageError, "--node-rank needs --nnodes");
    SY_CHECK(node_rank >= 0 && node_rank < nnodes, UsageError,
             "--node-rank " + std::to_string(node_rank) + ": expected 0 .. " + std::to_string(nnodes - 1));
    SY_CHECK(nnodes == 1 || !master_addr.empty(), UsageError,
             "--nnodes " + std::to_string(nnodes) + " needs --master-addr: the address of node 0, reachable from every machine");
    return wants;
}

int ParallelArgs::launch() const {
    LaunchOptions options;
    options.nproc = std::max(1, nproc);
    options.nnodes = nnodes;
    options.node_rank = node_rank;
    if (!master_addr.empty()) options.master_addr = master_addr;
    options.master_port = master_port ? master_port : nnodes > 1 ? 29500 : 0;
    options.timeout_s = timeout;
    return launch_ranks(options, g_arguments);
}

void ParallelArgs::join(const Model& model, const std::string& verb, const CorpusOptions& corpus,
                        RunnerOptions& runner) const {
    SY_CHECK(expert_parallel || placement.empty(), UsageError, "--placement needs --expert-parallel");
    SY_CHECK(expert_parallel || traffic.empty(), UsageError, "--traffic needs --expert-parallel");
    std::optional<ParallelOptions> options = parallel_options_from_environment();
    const int ranks = options ? options->world_size : 1;
    runner.expert_parallel = expert_parallel;
    if (expert_parallel) {
        SY_CHECK(!model.description.moe_layers.empty(), UsageError,
                 "--expert-parallel: " + model.description.model_type + " has no MoE layers");
        runner.expert_ranks = placement.empty() ? contiguous_expert_ranks(model, ranks)
                                                : read_expert_placement(placement, model, ranks);
        runner.traffic = std::make_shared<ExpertTraffic>();
    }
    if (!options || options->world_size == 1) return;
    options->backend = backend == "auto" ? "" : backend;
    options->timeout_s = timeout;
    runner.device = rank_device(runner.device, *options);
    runner.ranks = join_rank_group(*options, runner.device, parallel_job_signature(model, verb, corpus, runner));
}

std::string ParallelArgs::finish(const RunnerOptions& runner) const {
    if (!runner.traffic || !runner.ranks) return "";
    sum_expert_traffic(*runner.ranks, *runner.traffic);
    if (!is_output_rank(runner)) return "";
    if (!traffic.empty()) write_text_file(traffic, expert_traffic_json(*runner.traffic) + "\n");
    return expert_traffic_summary(*runner.traffic);
}

std::unique_ptr<GradientReducer> ParallelArgs::join_training(const std::string& verb, TrainingOptions& training) const {
    std::optional<ParallelOptions> options = parallel_options_from_environment();
    if (!options || options->world_size == 1) return nullptr;
    options->backend = backend == "auto" ? "" : backend;
    options->timeout_s = timeout;
    training.runner.device = rank_device(training.runner.device, *options);
    std::shared_ptr<RankGroup> group = join_rank_group(*options, training.runner.device, verb + " run " + training.run_id);
    return make_gradient_reducer(std::move(group), training.runner.device);
}

bool is_output_rank(const RunnerOptions& runner) { return !runner.ranks || runner.ranks->rank() == 0; }

bool is_output_rank_from_environment() {
    const std::optional<ParallelOptions> options = parallel_options_from_environment();
    return !options || options->rank == 0;
}

}  // namespace sy::cli
