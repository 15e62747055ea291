#include "switchyard/compute/cpu_threads.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <strings.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace sy {
namespace {

long read_number(const std::filesystem::path& file) {
    std::ifstream in(file);
    long value = -1;
    if (!(in >> value)) return -1;
    return value;
}

std::vector<int> allowed_cpus() {
    std::vector<int> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    return cpus;
}

int positive_number(const char* text) {
    if (!text || !*text) return 0;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    return (*end == '\0' && value > 0 && value < 4096) ? int(value) : 0;
}

bool openmp_waits_passively() {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    return policy && ::strcasecmp(policy, "passive") == 0;
}

}  // namespace

int physical_cores(const std::filesystem::path& sysfs_cpu_root, const std::vector<int>& cpus) {
    std::set<std::pair<long, long>> cores;
    long lone = -2;   // CPUs without topology: each its own core, keys that cannot collide
    for (const int cpu : cpus) {
        const auto topology = sysfs_cpu_root / ("cpu" + std::to_string(cpu)) / "topology";
        const long package = read_number(topology / "physical_package_id");
        const long core = read_number(topology / "core_id");
        if (package < 0 || core < 0) cores.emplace(lone--, cpu);
        else cores.emplace(package, core);
    }
    return int(cores.size());
}

int use_physical_cores_for_cpu_kernels() {
    if (const int forced = positive_number(std::getenv("SY_CPU_THREADS"))) {
        at::set_num_threads(forced);
        return forced;
    }
    if (positive_number(std::getenv("OMP_NUM_THREADS")) || !openmp_waits_passively()) return at::get_num_threads();
    const int cores = physical_cores("/sys/devices/system/cpu", allowed_cpus());
    if (cores > 0 && cores != at::get_num_threads()) at::set_num_threads(cores);
    return at::get_num_threads();
}

}  // namespace sy
