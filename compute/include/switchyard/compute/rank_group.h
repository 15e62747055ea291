#pragma once
// Several processes ("ranks") on one job, on one machine or several: LibTorch's c10d does the
// work (TCPStore rendezvous, ProcessGroupGloo on CPU, ProcessGroupNCCL on CUDA where the LibTorch
// has it); this is the small torch-free face the jobs and the CLI use. Ranks find each other the
// way torch.distributed's env:// does: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
// so `switchyard --nproc N` and torchrun start the same processes (README "Several GPUs and
// machines").
//
// Thread rules: one thread per rank uses its RankGroup (the job's thread).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sy {

struct ParallelOptions {
    int rank = 0;                      // RANK: 0 .. world_size-1
    int world_size = 1;                // WORLD_SIZE
    int local_rank = 0;                // LOCAL_RANK: rank on this machine (picks the GPU)
    int local_world_size = 1;          // LOCAL_WORLD_SIZE: ranks on this machine
    std::string master_addr = "127.0.0.1";   // MASTER_ADDR: where rank 0's rendezvous store listens
    int master_port = 29500;           // MASTER_PORT
    std::string backend;               // "gloo" | "nccl"; "" picks nccl on CUDA, gloo on CPU
    double timeout_s = 300;            // rendezvous, every collective, every wait on another rank
    bool agent_store = false;          // TORCHELASTIC_USE_AGENT_STORE: the launcher hosts the store
};

// The options torchrun-style launchers put in the environment, or nullopt when RANK and
// WORLD_SIZE are not both set. Throws UsageError for malformed or inconsistent values (RANK
// outside [0, WORLD_SIZE), a non-numeric MASTER_PORT, ...).
std::optional<ParallelOptions> parallel_options_from_environment();

// Whether this build's LibTorch provides the c10d backend ("gloo", "nccl").
bool rank_backend_available(const std::string& backend);

// A message between two ranks: a kind and bytes.
struct RankMessage {
    enum class Kind : int64_t { data = 0, cancelled = 1, failed = 2, go = 3, stop = 4 };
    Kind kind = Kind::data;
    std::vector<uint8_t> bytes;   // data: the payload; failed: the error text
};

class RankGroup {
public:
    struct Impl;
    explicit RankGroup(std::unique_ptr<Impl> impl);
    ~RankGroup();
    RankGroup(const RankGroup&) = delete;
    RankGroup& operator=(const RankGroup&) = delete;

    int rank() const;
    int size() const;
    const ParallelOptions& options() const;
    const std::string& backend() const;   // the backend in use: "gloo" or "nccl"
    double timeout_s() const;

    // Point to point, always through host memory (Gloo). A dead peer or a wait longer than
    // `timeout_s` (0: the group's timeout) throws PeerError naming the peer and `what`.
    void send(int to, const RankMessage& message, const std::string& what);
    RankMessage receive(int from, const std::string& what, double timeout_s = 0);

    // Element-wise sums over all ranks, result on every rank (host memory).
    void sum(std::vector<double>& values, const std::string& what);
    void sum(std::vector<int64_t>& values, const std::string& what);
    // `count` f32 values at `values` in `device` memory ("cpu", "cuda:N"): NCCL sums CUDA
    // memory in place, Gloo host memory (CUDA values under gloo go through a host copy).
    void sum(float* values, int64_t count, const std::string& device, const std::string& what);

    Impl& impl() { return *m_impl; }

private:
    std::unique_ptr<Impl> m_impl;
};

// Joins the job: TCPStore rendezvous at master_addr:master_port (rank 0 hosts it unless
// agent_store), then checks that every rank agrees on WORLD_SIZE and on `job_signature` (the
// model and options that decide the result, see parallel_job_signature) and that no rank number
// is taken twice, and creates the process groups. `device` is this rank's compute device
// ("cpu", "cuda:1"): nccl needs CUDA. Every failure is one UsageError/PeerError naming ranks,
// address and port.
std::shared_ptr<RankGroup> join_rank_group(const ParallelOptions& options, const std::string& device,
                                           const std::string& job_signature);

// The compute device of this rank: "cuda" becomes cuda:<local_rank>; an explicit cuda:N with
// several ranks on the machine is refused (each rank takes the GPU of its LOCAL_RANK).
std::string rank_device(const std::string& device, const ParallelOptions& options);

}  // namespace sy
