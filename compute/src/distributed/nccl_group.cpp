// ProcessGroupNCCL, for CUDA tensors between GPUs. Declared only under USE_C10D_NCCL and linked
// only from a CUDA LibTorch built with NCCL (PyTorch 2.x's); compute/CMakeLists.txt sets
// SY_HAVE_C10D_NCCL after checking that this LibTorch links it. Debian's LibTorch has none, so
// there this file compiles to "unavailable".
#include "rank_group_impl.h"
#include "switchyard/core/errors.h"

#if SY_HAVE_C10D_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace sy {

bool nccl_available() { return SY_HAVE_C10D_NCCL; }

#if SY_HAVE_C10D_NCCL
c10::intrusive_ptr<C10dGroup> make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                              std::chrono::milliseconds timeout) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    try {
        return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, options);
    } catch (const std::exception& e) {
        throw PeerError("rank " + std::to_string(rank) + " could not create its NCCL communicator: " +
                        std::string(e.what()).substr(0, std::string(e.what()).find('\n')));
    }
}
#else
c10::intrusive_ptr<C10dGroup> make_nccl_group(const c10::intrusive_ptr<c10d::Store>&, int, int,
                                              std::chrono::milliseconds) {
    throw UsageError("--backend nccl: this build's LibTorch has no NCCL");
}
#endif

}  // namespace sy
