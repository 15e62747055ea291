// Several ranks on CPU with Gloo (README "Several GPUs and machines"): a data-parallel trace or
// eval over 2 and 3 local ranks equals the one-process run bit for bit, expert parallelism
// equals it within f32 rounding, two launchers on loopback make one job, and a rank that dies or
// hangs stops the job with one error line naming it, leaving a resumable trace.
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "switchyard/core/result_reader.h"
#include "trace_cli_fixture.h"

namespace sy::test {
namespace {

fs::path tiny_deepseek_v3() { return data_dir() / "models" / "tiny-deepseek-v3"; }

// Batches of one 64-token window; 700 tokens make several rounds over 3 ranks and a partial
// last round, small enough to keep each run under a second or two.
const std::string k_windows = " --seq-len 64 --batch-tokens 64", k_args = " --max-tokens 700 -q";

// Every array of two traces equal; routing weights and losses within `tolerance` (0: bit for bit).
void expect_same_trace(const fs::path& a_path, const fs::path& b_path, float tolerance = 0) {
    const TraceReader a = TraceReader::open(a_path), b = TraceReader::open(b_path);
    const int64_t n = a.token_count();
    ASSERT_EQ(b.token_count(), n);
    ASSERT_EQ(b.doc_count(), a.doc_count());
    EXPECT_EQ(b.token_ids(0, n), a.token_ids(0, n));
    EXPECT_EQ(b.token_docs(0, n), a.token_docs(0, n));
    EXPECT_EQ(b.token_positions(0, n), a.token_positions(0, n));
    EXPECT_EQ(b.doc_domains(0, a.doc_count()), a.doc_domains(0, a.doc_count()));
    const auto close = [&](const std::vector<float>& x, const std::vector<float>& y, const char* what) {
        ASSERT_EQ(x.size(), y.size()) << what;
        float worst = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            ASSERT_EQ(std::isnan(x[i]), std::isnan(y[i])) << what << " " << i;
            if (tolerance == 0 && !std::isnan(x[i])) ASSERT_EQ(x[i], y[i]) << what << " " << i;   // bit for bit
            if (!std::isnan(x[i])) worst = std::max(worst, std::abs(x[i] - y[i]));
        }
        EXPECT_LE(worst, tolerance) << what;
    };
    close(a.nll(0, n), b.nll(0, n), "nll");
    for (int m = 0; m < int(a.meta().moe_layers.size()); ++m) {
        const TraceRouting ra = a.routing(m, 0, n), rb = b.routing(m, 0, n);
        EXPECT_EQ(rb.topk_ids, ra.topk_ids) << "MoE layer " << m;
        close(ra.topk_weights, rb.topk_weights, "topk_weights");
    }
}

std::string trace_command(const fs::path& model, const fs::path& data, const fs::path& out, const std::string& extra) {
    return "trace " + shell_quote(model) + " --data " + shell_quote(data) + " -o " + shell_quote(out) + k_windows +
           (extra.find("--max-tokens") == std::string::npos ? k_args : "") + extra;
}

// A port nobody listens on now (the kernel's pick, released at once).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
    ::close(fd);
    return ntohs(a.sin_port);
}

// The launcher's one `error:` line.
void expect_one_error(const std::string& err, const std::string& fragment) {
    std::size_t lines = 0, at = 0;
    while ((at = err.find("error: ", at)) != std::string::npos) ++lines, ++at;
    EXPECT_EQ(lines, 1u) << err;
    EXPECT_NE(err.find(fragment), std::string::npos) << err;
}

class ParallelIntegration : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path data = corpus(tmp, 100, 2);
    fs::path single = tmp.path() / "single.h5";

    void SetUp() override {
        const CliResult r = run_cli(trace_command(tiny_mixtral(), data, single, ""));
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
};

// --nproc 2 and 3: the one trace in dataset order, bit for bit the one-process trace, with the
// same --max-tokens meaning (700 tokens whatever the number of ranks).
TEST_F(ParallelIntegration, DataParallelTraceEqualsOneProcess) {
    for (int ranks : {2, 3}) {
        const fs::path out = tmp.path() / ("dp" + std::to_string(ranks) + ".h5");
        const CliResult r = run_cli(trace_command(tiny_mixtral(), data, out, " --nproc " + std::to_string(ranks)));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("traced 700 tokens"), std::string::npos) << r.out;
        EXPECT_EQ(r.err, "");   // -q, and no rank adds anything
        expect_same_trace(single, out);
        expect_consistent_trace(TraceReader::open(out), 64);
    }
}

// A DeepSeek-V3 fixture (dense first layer, shared expert, grouped sigmoid routing) too, over 2
// ranks data-parallel and 3 ranks expert-parallel.
TEST_F(ParallelIntegration, DeepSeekV3DataAndExpertParallel) {
    const fs::path one = tmp.path() / "ds1.h5", dp = tmp.path() / "ds-dp2.h5", ep = tmp.path() / "ds-ep3.h5";
    for (const auto& [out, extra] : {std::pair{one, std::string()}, {dp, std::string(" --nproc 2")},
                                     {ep, std::string(" --nproc 3 --expert-parallel")}}) {
        const CliResult r = run_cli(trace_command(tiny_deepseek_v3(), data, out, extra));
        ASSERT_EQ(r.exit_code, 0) << extra << ": " << r.err;
    }
    expect_same_trace(one, dp);
    expect_same_trace(one, ep, 1e-5f);
}

// Expert parallelism over 2 and 3 ranks: routing ids equal, weights and losses within f32
// rounding (expert rows are batched differently); the traffic file counts every (token,
// expert) pair once and splits them by rank as the placement says.
TEST_F(ParallelIntegration, ExpertParallelTraceMatchesAndCountsTraffic) {
    for (int ranks : {2, 3}) {
        const fs::path out = tmp.path() / ("ep" + std::to_string(ranks) + ".h5");
        const fs::path traffic = tmp.path() / ("ep" + std::to_string(ranks) + ".json");
        const CliResult r = run_cli(trace_command(tiny_mixtral(), data, out,
                                                  " --nproc " + std::to_string(ranks) + " --expert-parallel --traffic " +
                                                      shell_quote(traffic)));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("of pairs cross ranks"), std::string::npos) << r.out;
        expect_same_trace(single, out, 1e-5f);
        const auto json = nlohmann::json::parse(slurp(traffic));
        EXPECT_EQ(json["ranks"], ranks);
        EXPECT_EQ(json["tokens"], 700);
        EXPECT_EQ(json["row_bytes"], 128 * 4);   // hidden 128, f32
        ASSERT_EQ(json["layers"].size(), 4u);
        for (const auto& layer : json["layers"]) {
            int64_t pairs = 0;
            for (const auto& row : layer["pairs"])
                for (int64_t v : row) pairs += v;
            EXPECT_EQ(pairs, 700 * 2);   // top-2
            // Contiguous: experts 0..3 on rank 0 of 2; every rank received what ran on its experts.
            EXPECT_EQ(layer["received_pairs"].size(), std::size_t(ranks));
        }
        EXPECT_GT(json["cross_rank_fraction"].get<double>(), 0.2);
    }
}

// Expert parallelism with a `switchyard place -o` file: same routing, every pair lands on the
// rank the file names for its expert, and what `place` predicted on the same tokens is what was
// measured: each GPU's load (token slots) and the share of first-choice transitions between
// consecutive MoE layers that change GPU.
TEST_F(ParallelIntegration, ExpertParallelFollowsPlacementFile) {
    const fs::path place = tmp.path() / "place.h5", out = tmp.path() / "placed.h5", traffic = tmp.path() / "t.json";
    const CliResult p = run_cli("place " + shell_quote(single) + " --gpus 2 --method affinity --json -q -o " + shell_quote(place));
    ASSERT_EQ(p.exit_code, 0) << p.err;
    const auto predicted = nlohmann::json::parse(p.out);
    const CliResult r = run_cli(trace_command(tiny_mixtral(), data, out,
                                              " --nproc 2 --expert-parallel --placement " + shell_quote(place) +
                                                  " --traffic " + shell_quote(traffic)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_same_trace(single, out, 1e-5f);
    const auto json = nlohmann::json::parse(slurp(traffic));
    const TraceReader reader = TraceReader::open(single);
    for (int m = 0; m < 4; ++m) {
        const auto& placement = json["placement"][m];
        std::vector<int64_t> expected(2, 0);
        for (int16_t e : reader.routing(m, 0, 700).topk_ids) ++expected[placement[e].get<std::size_t>()];
        EXPECT_EQ(json["layers"][m]["received_pairs"].get<std::vector<int64_t>>(), expected) << m;
        for (int g = 0; g < 2; ++g)
            EXPECT_EQ(predicted["evaluation"]["gpu_load"][m][g].get<double>(), double(expected[std::size_t(g)]));
    }
    EXPECT_DOUBLE_EQ(json["first_choice_cross_fraction"].get<double>(), predicted["cross_gpu_fraction"].get<double>());
    EXPECT_LT(predicted["cross_gpu_fraction"].get<double>(), predicted["baseline_cross_gpu_fraction"].get<double>());
    // A placement for another number of GPUs is refused before anything runs.
    const CliResult wrong = run_cli(trace_command(tiny_mixtral(), data, tmp.path() / "w.h5",
                                                  " --nproc 4 --expert-parallel --placement " + shell_quote(place)));
    EXPECT_EQ(wrong.exit_code, 1);
    expect_one_error(wrong.err, "placement for 2 GPUs, but the job has 4 ranks");
    EXPECT_FALSE(fs::exists(tmp.path() / "w.h5"));
}

// eval over 2 ranks: the same numbers to the last digit, data- and expert-parallel.
TEST_F(ParallelIntegration, DataParallelEvalEqualsOneProcess) {
    const std::string eval = "eval " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(data) + k_windows + k_args + " --json";
    const CliResult one = run_cli(eval), two = run_cli(eval + " --nproc 2"), three = run_cli(eval + " --nproc 3");
    ASSERT_EQ(one.exit_code, 0) << one.err;
    ASSERT_EQ(two.exit_code, 0) << two.err;
    ASSERT_EQ(three.exit_code, 0) << three.err;
    EXPECT_EQ(two.out, one.out);
    EXPECT_EQ(three.out, one.out);
    const CliResult ep = run_cli(eval + " --nproc 2 --expert-parallel");
    ASSERT_EQ(ep.exit_code, 0) << ep.err;
    const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(ep.out);
    EXPECT_EQ(b["all"]["tokens"], a["all"]["tokens"]);
    EXPECT_NEAR(b["all"]["mean_nll"].get<double>(), a["all"]["mean_nll"].get<double>(), 1e-6);
}

// score over 2 and 3 ranks: the same counts, per-domain counts and sampled outputs; the f64
// sums agree up to their summation order.
TEST_F(ParallelIntegration, DataParallelScoreEqualsOneProcess) {
    const std::string score = "score " + shell_quote(tiny_mixtral()) + " --data " + shell_quote(data) + k_windows + k_args +
                              " --outputs 50 -o ";
    const fs::path one = tmp.path() / "s1.h5";
    ASSERT_EQ(run_cli(score + shell_quote(one)).exit_code, 0);
    const ResultReader a = ResultReader::open(one);
    for (int ranks : {2, 3}) {
        const fs::path out = tmp.path() / ("s" + std::to_string(ranks) + ".h5");
        const CliResult r = run_cli(score + shell_quote(out) + " --nproc " + std::to_string(ranks));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const ResultReader b = ResultReader::open(out);
        EXPECT_EQ(b.ints("/meta/domain_tokens"), a.ints("/meta/domain_tokens"));
        for (int layer = 0; layer < 4; ++layer) {
            const std::string g = "/scores/layer_" + std::to_string(layer) + "/";
            for (const char* name : {"count", "domain_count"}) EXPECT_EQ(b.ints(g + name), a.ints(g + name)) << g << name;
            for (const char* name : {"frequency", "gate_mass", "mean_prob", "ean", "reap", "router_logit_gram", "output_mean"}) {
                const std::vector<double> x = a.doubles(g + name), y = b.doubles(g + name);
                ASSERT_EQ(x.size(), y.size()) << g << name;
                for (std::size_t i = 0; i < x.size(); ++i) {
                    if (std::isnan(x[i])) EXPECT_TRUE(std::isnan(y[i])) << g << name << i;   // expert never routed
                    else EXPECT_NEAR(y[i], x[i], 1e-9 * (1 + std::abs(x[i]))) << g << name << i;
                }
            }
        }
    }
}

// Two "machines" on loopback: two launchers of 2 ranks each, node 0 hosting the rendezvous.
TEST_F(ParallelIntegration, TwoLaunchersOnLoopbackMakeOneJob) {
    const fs::path out = tmp.path() / "nodes.h5", err0 = tmp.path() / "err0", err1 = tmp.path() / "err1";
    const std::string nodes = " --nproc 2 --nnodes 2 --master-addr 127.0.0.1 --master-port " + std::to_string(free_port()) +
                              " --timeout 60 --node-rank ";
    const pid_t node1 = start_cli(trace_command(tiny_mixtral(), data, out, nodes + "1"), err1);   // waits for node 0
    const pid_t node0 = start_cli(trace_command(tiny_mixtral(), data, out, nodes + "0"), err0);
    EXPECT_EQ(wait_exit(node0), 0) << slurp(err0);
    EXPECT_EQ(wait_exit(node1), 0) << slurp(err1);
    expect_same_trace(single, out);
}

// The same binary under a torchrun-style launcher: processes started with RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT. A WORLD_SIZE that differs between them is one clear error.
TEST_F(ParallelIntegration, TorchrunEnvironmentAndWorldSizeMismatch) {
    const auto run_ranks = [&](const fs::path& out, int world_of_rank_1) {
        const std::string port = std::to_string(free_port());
        const auto env = [&](int rank, int world) {
            return "env RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
                   " LOCAL_RANK=" + std::to_string(rank) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " ";
        };
        const fs::path e1 = tmp.path() / "rank1.err";
        const std::string rank1 = env(1, world_of_rank_1) + shell_quote(SY_CLI_BINARY) + " " +
                                  trace_command(tiny_mixtral(), data, out, " --timeout 20") + " >/dev/null 2>" + shell_quote(e1) + " &";
        const std::string rank0 = env(0, 2) + shell_quote(SY_CLI_BINARY) + " " + trace_command(tiny_mixtral(), data, out, " --timeout 20");
        TempDir t;
        const int status = std::system(("sh -c " + shell_quote(rank1 + " " + rank0 + " >/dev/null 2>" + shell_quote(t.path() / "e0") +
                                                             "; r=$?; wait; exit $r"))
                                           .c_str());
        return std::pair{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(t.path() / "e0")};
    };
    const fs::path out = tmp.path() / "torchrun.h5";
    const auto [code, err] = run_ranks(out, 2);
    ASSERT_EQ(code, 0) << err;
    expect_same_trace(single, out);
    const fs::path bad = tmp.path() / "mismatch.h5";
    const auto [bad_code, bad_err] = run_ranks(bad, 3);
    EXPECT_EQ(bad_code, 1);
    expect_one_error(bad_err, "WORLD_SIZE 3, rank 0 with 2");
    EXPECT_FALSE(fs::exists(bad));
}

// Starts `args` (a --nproc 2 run) and, once a batch is done, sends `signal` to rank 1; returns
// the launcher's stderr after it exited with 1 within 30 s.
std::string signal_rank_1(const std::string& args, const fs::path& err, int signal) {
    const pid_t launcher = start_cli(args, err);
    EXPECT_TRUE(wait_for_text(err, "tok/s"));
    const std::vector<pid_t> ranks = children_of(launcher);
    EXPECT_EQ(ranks.size(), 2u);
    if (ranks.size() == 2) ::kill(ranks[1], signal);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(wait_exit(launcher), 1);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    return slurp(err);
}

// kill -9 on a rank mid-run: the launcher names it in one line, the trace keeps every batch
// finished before and `--resume` (again over 2 ranks) completes it to the one-process trace.
TEST_F(ParallelIntegration, KilledRankStopsJobAndTraceResumes) {
    const fs::path long_single = tmp.path() / "long1.h5", out = tmp.path() / "killed.h5";
    const std::string size = " --max-tokens 6000";
    ASSERT_EQ(run_cli(trace_command(tiny_mixtral(), data, long_single, size)).exit_code, 0);
    const std::string err = signal_rank_1(trace_command(tiny_mixtral(), data, out, size + " --nproc 2"), tmp.path() / "err", SIGKILL);
    expect_one_error(err, "rank 1 was killed by SIGKILL");
    {
        const TraceReader partial = TraceReader::open(out);
        EXPECT_GT(partial.token_count(), 0);
        EXPECT_LT(partial.token_count(), 6000);
    }
    const CliResult resumed = run_cli(trace_command(tiny_mixtral(), data, out, size + " --nproc 2 --resume"));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    expect_same_trace(long_single, out);
}

// Ctrl-C on the launcher: every rank stops after its batch, exit 130, the trace is readable and
// `--resume` over another number of ranks (3) completes it to the one-process trace.
TEST_F(ParallelIntegration, CtrlCStopsEveryRankAndTraceResumes) {
    const fs::path long_single = tmp.path() / "long1.h5", out = tmp.path() / "cancelled.h5", err = tmp.path() / "err";
    const std::string size = " --max-tokens 6000";
    ASSERT_EQ(run_cli(trace_command(tiny_mixtral(), data, long_single, size)).exit_code, 0);
    EXPECT_EQ(run_cli_and_interrupt(trace_command(tiny_mixtral(), data, out, size + " --nproc 2"), err), 130);
    EXPECT_EQ(slurp(err).find("rank"), std::string::npos) << slurp(err);   // no rank's echo
    EXPECT_LT(TraceReader::open(out).token_count(), 6000);
    const CliResult resumed = run_cli(trace_command(tiny_mixtral(), data, out, size + " --nproc 3 --resume"));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    expect_same_trace(long_single, out);
}

// A rank that hangs (SIGSTOP): the others give up after --timeout and the job ends with one
// line naming it, well before the default timeout.
TEST_F(ParallelIntegration, HungRankTimesOut) {
    const fs::path out = tmp.path() / "hung.h5";
    const std::string err = signal_rank_1(trace_command(tiny_mixtral(), data, out, " --max-tokens 6000 --nproc 2 --timeout 2"),
                                          tmp.path() / "err", SIGSTOP);
    expect_one_error(err, "rank 1 did not answer within 2 s (--timeout)");
    EXPECT_GT(TraceReader::open(out).token_count(), 0);
}

// Misconfigurations: one line each, nothing written.
TEST_F(ParallelIntegration, ClearErrorsForPortInUseAndNcclOnCpu) {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    socklen_t size = sizeof a;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &size);
    const fs::path out = tmp.path() / "x.h5";
    const CliResult busy =
        run_cli(trace_command(tiny_mixtral(), data, out, " --nproc 2 --master-port " + std::to_string(ntohs(a.sin_port))));
    ::close(listener);
    EXPECT_EQ(busy.exit_code, 1);
    expect_one_error(busy.err, "the port is in use");
    const CliResult nccl = run_cli(trace_command(tiny_mixtral(), data, out, " --nproc 2 --backend nccl"));
    EXPECT_EQ(nccl.exit_code, 1);
    expect_one_error(nccl.err, "--backend nccl needs --device cuda");
    EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace sy::test
