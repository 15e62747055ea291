// ProcessGroupGloo is declared only under USE_C10D_GLOO, which LibTorch's CMake package does not
// define for its users; compute/CMakeLists.txt sets SY_HAVE_C10D_GLOO after checking that this
// LibTorch links it (Debian's 1.13 and PyTorch's 2.x builds both do).
#include "gloo_group.h"

#include <cstdlib>

#include "switchyard/core/errors.h"

#if SY_HAVE_C10D_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

namespace sy {
namespace {

bool is_loopback(const std::string& address) {
    return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

}  // namespace

bool gloo_available() { return SY_HAVE_C10D_GLOO; }

#if SY_HAVE_C10D_GLOO
c10::intrusive_ptr<C10dGroup> make_gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const ParallelOptions& options,
                                              std::chrono::milliseconds timeout) {
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    // Which interface Gloo's sockets use, as torch.distributed picks it: GLOO_SOCKET_IFNAME when
    // set; loopback when rank 0 is on this machine's loopback (a single-machine job, or tests
    // of several "nodes" on one host); else the address the host name resolves to.
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    if (interface && *interface) gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    else if (is_loopback(options.master_addr))
        gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    try {
        return c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size, gloo);
    } catch (const std::exception& e) {
        throw PeerError("rank " + std::to_string(options.rank) + " could not connect to the other ranks (Gloo): " +
                        std::string(e.what()).substr(0, std::string(e.what()).find('\n')));
    }
}
#else
c10::intrusive_ptr<C10dGroup> make_gloo_group(const c10::intrusive_ptr<c10d::Store>&, const ParallelOptions&,
                                              std::chrono::milliseconds) {
    throw UsageError("this build's LibTorch has no Gloo: ranks cannot talk to each other");
}
#endif

}  // namespace sy
