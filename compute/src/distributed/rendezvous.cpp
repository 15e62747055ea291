// Joining a parallel job: the environment torchrun-style launchers set, the TCPStore at
// MASTER_ADDR:MASTER_PORT, a check that every rank agrees on the job, and the process groups.
//
// The check (before any process group exists, so a misconfigured launch fails in one clear
// line instead of a Gloo timeout): each rank appends "rank|world|signature|host" to a list in
// the store; rank 0 reads the list as it grows and writes a verdict ("ok" or the first problem)
// that every rank waits for.
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "gloo_group.h"
#include "rank_group_impl.h"
#include "switchyard/core/errors.h"

namespace sy {
namespace {

using std::chrono::milliseconds;

constexpr double k_start_s = 120;   // see join_rank_group

int env_int(const char* name, int fallback, int min, int max) {
    const char* text = std::getenv(name);
    if (!text || !*text) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    SY_CHECK(*end == '\0' && value >= min && value <= max, UsageError,
             std::string(name) + "=\"" + text + "\": expected a whole number in [" + std::to_string(min) + ", " +
                 std::to_string(max) + "]");
    return static_cast<int>(value);
}

std::string env_text(const char* name) {
    const char* text = std::getenv(name);
    return text ? text : "";
}

std::string host_name() {
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return name;
}

std::string where(const ParallelOptions& o) { return o.master_addr + ":" + std::to_string(o.master_port); }

c10::intrusive_ptr<c10d::Store> connect_store(const ParallelOptions& o, milliseconds timeout) {
    c10d::TCPStoreOptions store;
    store.port = static_cast<std::uint16_t>(o.master_port);
    store.isServer = o.rank == 0 && !o.agent_store;
    store.waitWorkers = false;   // the verdict below waits, with a message that names who is missing
    store.timeout = timeout;
    try {
        return c10::make_intrusive<c10d::TCPStore>(o.master_addr, store);
    } catch (const std::exception& e) {
        const std::string text = e.what();
        if (store.isServer)
            throw UsageError("rank 0 cannot listen on port " + std::to_string(o.master_port) +
                             (text.find("in use") != std::string::npos ? ": the port is in use (another job, or a "
                                                                         "previous run still holding it); pick a free "
                                                                         "one with --master-port or MASTER_PORT"
                                                                       : ": " + text.substr(0, text.find('\n'))));
        throw PeerError("rank " + std::to_string(o.rank) + " could not reach the rendezvous store at " + where(o) +
                        " within " + std::to_string(timeout.count() / 1000) +
                        " s (--timeout, at least 120 s at the start): is rank 0 running (the launcher with --node-rank 0), with the same "
                        "--master-addr and --master-port?");
    }
}

struct Arrival {
    int rank = 0, world = 0;
    std::string signature, host;
};

std::string encode(const Arrival& a) {
    return std::to_string(a.rank) + "|" + std::to_string(a.world) + "|" + a.host + "|" + a.signature;
}

Arrival decode(const std::vector<uint8_t>& bytes) {
    std::istringstream in(std::string(bytes.begin(), bytes.end()));
    Arrival a;
    std::string field;
    std::getline(in, field, '|'), a.rank = std::stoi(field);
    std::getline(in, field, '|'), a.world = std::stoi(field);
    std::getline(in, a.host, '|');
    std::getline(in, a.signature);
    return a;
}

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// Rank 0's judgement of the ranks that arrived so far: "" while all is well.
std::string judge(const Arrival& mine, const std::map<int, Arrival>& seen, const Arrival& a) {
    const std::string who = "rank " + std::to_string(a.rank) + " (on " + a.host + ")";
    if (a.world != mine.world)
        return who + " was started with WORLD_SIZE " + std::to_string(a.world) + ", rank 0 with " +
               std::to_string(mine.world) + ": every launcher must give the same --nnodes and --nproc";
    if (seen.count(a.rank))
        return "RANK " + std::to_string(a.rank) + " was started twice (on " + seen.at(a.rank).host + " and " + a.host +
               "): does each launcher have its own --node-rank?";
    if (a.signature != mine.signature)
        return who + " runs a different job than rank 0: " + a.signature + " there, " + mine.signature +
               " on rank 0 (same model, data and options on every rank)";
    return "";
}

std::string missing_ranks(const std::map<int, Arrival>& seen, int world) {
    std::string missing;
    for (int r = 0; r < world; ++r)
        if (!seen.count(r)) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    return missing;
}

// Rank 0: reads arrivals until all ranks are there, one is wrong, or the timeout passes.
std::string collect_arrivals(c10d::Store& store, const Arrival& mine, milliseconds timeout) {
    std::map<int, Arrival> seen;
    int64_t read = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (int64_t(seen.size()) < mine.world) {
        const int64_t count = store.add("sy/arrivals", 0);
        for (; read < count; ++read) {
            const Arrival a = decode(store.get("sy/arrival/" + std::to_string(read + 1)));
            const std::string problem = judge(mine, seen, a);
            if (!problem.empty()) return problem;
            seen.emplace(a.rank, a);
        }
        if (int64_t(seen.size()) == mine.world) break;
        if (std::chrono::steady_clock::now() > deadline)
            return "only " + std::to_string(seen.size()) + " of " + std::to_string(mine.world) +
                   " ranks joined within " + std::to_string(timeout.count() / 1000) +
                   " s (--timeout, at least 120 s at the start); missing rank(s) " +
                   missing_ranks(seen, mine.world) + ": are all launchers started, with the same --master-addr and --master-port?";
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "ok";
}

void agree_on_job(c10d::Store& store, const ParallelOptions& o, const std::string& signature, milliseconds timeout) {
    const Arrival mine{o.rank, o.world_size, signature, host_name()};
    const int64_t index = store.add("sy/arrivals", 1);
    store.set("sy/arrival/" + std::to_string(index), bytes_of(encode(mine)));
    std::string verdict;
    if (o.rank == 0) {
        verdict = collect_arrivals(store, mine, timeout);
        store.set("sy/verdict", bytes_of(verdict));
    } else {
        try {
            store.wait({"sy/verdict"}, timeout + milliseconds(10000));
        } catch (const std::exception&) {
            throw PeerError("rank 0 gave no answer within " + std::to_string(timeout.count() / 1000) +
                            " s (--timeout, at least 120 s at the start) at the rendezvous " + where(o));
        }
        const auto bytes = store.get("sy/verdict");
        verdict.assign(bytes.begin(), bytes.end());
    }
    SY_CHECK(verdict == "ok", UsageError, verdict);
}

}  // namespace

std::optional<ParallelOptions> parallel_options_from_environment() {
    const bool has_rank = !env_text("RANK").empty(), has_world = !env_text("WORLD_SIZE").empty();
    if (!has_rank && !has_world) return std::nullopt;
    SY_CHECK(has_rank && has_world, UsageError,
             std::string(has_rank ? "RANK" : "WORLD_SIZE") + " is set but " + (has_rank ? "WORLD_SIZE" : "RANK") +
                 " is not: a torchrun-style launch sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT");
    ParallelOptions o;
    o.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
    o.rank = env_int("RANK", 0, 0, o.world_size - 1);
    o.local_rank = env_int("LOCAL_RANK", o.rank, 0, o.world_size - 1);
    o.local_world_size = env_int("LOCAL_WORLD_SIZE", o.world_size, 1, o.world_size);
    SY_CHECK(o.local_rank < o.local_world_size, UsageError,
             "LOCAL_RANK " + std::to_string(o.local_rank) + " is not below LOCAL_WORLD_SIZE " +
                 std::to_string(o.local_world_size));
    o.master_addr = env_text("MASTER_ADDR");
    SY_CHECK(o.world_size == 1 || !o.master_addr.empty(), UsageError,
             "RANK and WORLD_SIZE are set but MASTER_ADDR is not: the ranks need rank 0's address");
    o.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
    o.agent_store = env_text("TORCHELASTIC_USE_AGENT_STORE") == "True";
    return o;
}

std::string rank_device(const std::string& device, const ParallelOptions& o) {
    if (device == "cuda") return "cuda:" + std::to_string(o.local_rank);
    SY_CHECK(device.rfind("cuda:", 0) != 0 || o.local_world_size == 1, UsageError,
             "--device " + device + " with " + std::to_string(o.local_world_size) +
                 " ranks on this machine: use --device cuda (each rank takes the GPU of its LOCAL_RANK)");
    return device;
}

bool rank_backend_available(const std::string& backend) {
    if (backend == "gloo") return gloo_available();
    if (backend == "nccl") return nccl_available();
    return false;
}

std::shared_ptr<RankGroup> join_rank_group(const ParallelOptions& options, const std::string& device,
                                           const std::string& job_signature) {
    const bool cuda = device.rfind("cuda", 0) == 0;
    const std::string backend = !options.backend.empty() ? options.backend : cuda && nccl_available() ? "nccl" : "gloo";
    SY_CHECK(backend == "gloo" || backend == "nccl", UsageError, "--backend: expected gloo or nccl, got " + backend);
    SY_CHECK(backend != "nccl" || cuda, UsageError,
             "--backend nccl needs --device cuda: NCCL only moves GPU memory (use gloo on CPU)");
    SY_CHECK(backend != "nccl" || nccl_available(), UsageError,
             "--backend nccl: this build's LibTorch has no NCCL (Debian's libtorch-dev is CPU-only); build against "
             "PyTorch 2.x's LibTorch (README \"Building for GPU\") or use --backend gloo");
    SY_CHECK(gloo_available(), UsageError, "this build's LibTorch has no Gloo: ranks cannot talk to each other");
    auto impl = std::make_unique<RankGroup::Impl>();
    impl->options = options;
    impl->backend = backend;
    impl->timeout = milliseconds(int64_t(options.timeout_s * 1000));
    const std::string prefix = "switchyard/" + env_text("TORCHELASTIC_RESTART_COUNT") + "/";
    // Starting a rank (loading LibTorch, opening the model) may take longer than a short --timeout
    // on a busy machine; the ranks wait for each other's arrival at least k_start_s.
    const milliseconds arrival = std::max(impl->timeout, milliseconds(int64_t(k_start_s * 1000)));
    impl->store = c10::make_intrusive<c10d::PrefixStore>(prefix, connect_store(options, arrival));
    agree_on_job(*impl->store, options, job_signature, arrival);
    impl->host = make_gloo_group(c10::make_intrusive<c10d::PrefixStore>("gloo/", impl->store), options, impl->timeout);
    impl->device = backend == "nccl" ? make_nccl_group(c10::make_intrusive<c10d::PrefixStore>("nccl/", impl->store),
                                                      options.rank, options.world_size, impl->timeout)
                                     : impl->host;
    return std::make_shared<RankGroup>(std::move(impl));
}

}  // namespace sy
