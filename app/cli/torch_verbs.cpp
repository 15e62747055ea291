#include "torch_verbs.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace sy::cli {
namespace {

constexpr const char* k_torch_verbs[] = {"trace", "eval", "similarity", "score", "prune", "merge", "apply", "upcycle", "unlearn", "tune"};

std::filesystem::path own_directory() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path(".") : self.parent_path();
}

}  // namespace

std::string torch_verb_list() {
    std::string list;
    for (const char* verb : k_torch_verbs) list += (list.empty() ? "" : ", ") + std::string(verb);
    return list;
}

int exec_torch_verb(int argc, char** argv) {
    if (argc < 2) return -1;
    bool is_torch_verb = false;
    for (const char* verb : k_torch_verbs) is_torch_verb |= std::strcmp(argv[1], verb) == 0;
    if (!is_torch_verb) return -1;
    const std::string helper = (own_directory() / "switchyard-torch").string();
    std::vector<char*> args(argv, argv + argc);
    args[0] = const_cast<char*>(helper.c_str());
    args.push_back(nullptr);
    // OpenMP threads that sleep when idle instead of spinning: they then leave the cores to
    // OpenBLAS's f32 GEMMs, and switchyard-torch gives LibTorch one OpenMP thread per physical
    // core (use_physical_cores_for_cpu_kernels, compute/cpu_threads.h). Unless the user chose a
    // policy, they first spin briefly (GOMP_SPINCOUNT) so the next small kernel finds them awake,
    // and OpenBLAS's helpers sleep as soon as a GEMM ends instead of yielding for ~0.1 s
    // (OPENBLAS_THREAD_TIMEOUT=4, its minimum); compute/cpu_threads.h has the numbers. libgomp
    // and OpenBLAS read these once, when loaded, hence here and not in switchyard-torch. The
    // user's settings win.
    if (!std::getenv("OMP_WAIT_POLICY")) {
        ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        ::setenv("GOMP_SPINCOUNT", "10000", 0);
    }
    ::setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    ::execv(helper.c_str(), args.data());
    std::cerr << "error: " << argv[1] << " needs " << helper << ", which cannot be started (" << std::strerror(errno)
              << "); build the target switchyard-torch\n";
    return 1;
}

}  // namespace sy::cli
