#pragma once
// What compute/ itself needs of a RankGroup: the c10d objects. Only compute/src includes this.
//
// LibTorch 2.x split process groups into a ProcessGroup facade over per-device `Backend`s; 1.13
// (Debian's) has ProcessGroupGloo deriving from ProcessGroup directly. Both expose the
// collectives we use (send, recv, allreduce, alltoall_base) with the same signatures, so the
// group is held through whichever base class this LibTorch has.
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/version.h>

#include <chrono>
#include <string>

#include "switchyard/compute/rank_group.h"

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#endif

namespace sy {

#if TORCH_VERSION_MAJOR >= 2
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

struct RankGroup::Impl {
    ParallelOptions options;
    std::string backend;                     // "gloo" | "nccl"
    std::chrono::milliseconds timeout{0};
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<C10dGroup> host;      // Gloo: messages, sums, all-to-all of host tensors
    c10::intrusive_ptr<C10dGroup> device;    // NCCL on CUDA; the Gloo group otherwise

    // Waits for `work`, turning c10d/Gloo failures into PeerError naming `peer` (-1: any rank)
    // and `what`.
    void wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what, int peer,
              std::chrono::milliseconds timeout_override = std::chrono::milliseconds(0)) const;
    // Runs `start` (which issues a c10d call) and waits for its work, translating errors.
    template <class F>
    void run(F&& start, const std::string& what, int peer = -1) const {
        c10::intrusive_ptr<c10d::Work> work;
        try {
            work = start();
        } catch (const std::exception& e) {
            rethrow(e, what, peer);
        }
        wait(work, what, peer);
    }
    [[noreturn]] void rethrow(const std::exception& error, const std::string& what, int peer) const;
};

// Creates the NCCL group (nccl_group.cpp); throws UsageError when this LibTorch has no NCCL.
c10::intrusive_ptr<C10dGroup> make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                              std::chrono::milliseconds timeout);
bool nccl_available();

}  // namespace sy
