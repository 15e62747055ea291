// physical_cores on made-up sysfs trees (SMT siblings, two packages, missing topology), and
// use_physical_cores_for_cpu_kernels on this machine: with passive OpenMP waiting LibTorch's
// pool ends up at the kernel's count of physical cores, with spinning it stays, and
// SY_CPU_THREADS overrides both.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "switchyard/compute/cpu_threads.h"

namespace fs = std::filesystem;

namespace {

struct FakeSysfs {
    fs::path root = fs::temp_directory_path() / ("sy-cpu-topology-" + std::to_string(::getpid()));
    FakeSysfs() { fs::remove_all(root); }
    ~FakeSysfs() { fs::remove_all(root); }
    void cpu(int n, int package, int core) {
        const fs::path dir = root / ("cpu" + std::to_string(n)) / "topology";
        fs::create_directories(dir);
        std::ofstream(dir / "physical_package_id") << package << "\n";
        std::ofstream(dir / "core_id") << core << "\n";
    }
};

}  // namespace

TEST(CpuThreads, CountsSmtSiblingsOnceAndPackagesApart) {
    FakeSysfs sys;
    // Two packages with two cores of two threads each; core ids repeat across packages.
    int n = 0;
    for (int package = 0; package < 2; ++package)
        for (int thread = 0; thread < 2; ++thread)
            for (int core = 0; core < 2; ++core) sys.cpu(n++, package, core);
    EXPECT_EQ(sy::physical_cores(sys.root, {0, 1, 2, 3, 4, 5, 6, 7}), 4);
    EXPECT_EQ(sy::physical_cores(sys.root, {0, 2}), 1);        // siblings of one core
    EXPECT_EQ(sy::physical_cores(sys.root, {0, 1, 4}), 3);     // core 0 of each package
    EXPECT_EQ(sy::physical_cores(sys.root, {}), 0);
}

TEST(CpuThreads, CpuWithoutTopologyCountsAsItsOwnCore) {
    FakeSysfs sys;
    sys.cpu(0, 0, 0);
    EXPECT_EQ(sy::physical_cores(sys.root, {0, 1, 2}), 3);
}

TEST(CpuThreads, LibTorchPoolFollowsTheKernelsCoreCountWhenOpenMpWaitsPassively) {
    if (std::getenv("OMP_NUM_THREADS")) GTEST_SKIP() << "OMP_NUM_THREADS is set: LibTorch's own reading wins";
    const int libtorch_default = at::get_num_threads();
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    const int cores = sy::physical_cores("/sys/devices/system/cpu", cpus);
    ASSERT_GT(cores, 0);
    ::unsetenv("SY_CPU_THREADS");
    ::setenv("OMP_WAIT_POLICY", "ACTIVE", 1);   // spinning threads: LibTorch's count stays
    EXPECT_EQ(sy::use_physical_cores_for_cpu_kernels(), libtorch_default);
    ::setenv("OMP_WAIT_POLICY", "passive", 1);
    EXPECT_EQ(sy::use_physical_cores_for_cpu_kernels(), cores);
    EXPECT_EQ(at::get_num_threads(), cores);
    ::setenv("SY_CPU_THREADS", "3", 1);
    EXPECT_EQ(sy::use_physical_cores_for_cpu_kernels(), 3);
    EXPECT_EQ(at::get_num_threads(), 3);
    ::unsetenv("SY_CPU_THREADS");
    EXPECT_EQ(sy::use_physical_cores_for_cpu_kernels(), cores);
    ::unsetenv("OMP_WAIT_POLICY");
    at::set_num_threads(libtorch_default);
}
