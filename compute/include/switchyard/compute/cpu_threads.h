#pragma once
// How many threads LibTorch's CPU kernels use (its intra-op pool: OpenMP, which oneDNN's bf16
// matmuls and the element-wise kernels run on; f32 GEMMs run on OpenBLAS's own threads).
#include <filesystem>
#include <vector>

namespace sy {

// Physical cores among `cpus` (logical CPU numbers), counted from the kernel's topology:
// distinct (physical_package_id, core_id) pairs under `sysfs_cpu_root`/cpuN/topology/. A CPU
// whose files are missing or unreadable counts as a core of its own. 0 for an empty list.
int physical_cores(const std::filesystem::path& sysfs_cpu_root, const std::vector<int>& cpus);

// Sets LibTorch's intra-op threads to one per physical core this process may run on
// (sched_getaffinity, topology from /sys/devices/system/cpu) when OpenMP's threads wait
// passively (OMP_WAIT_POLICY=PASSIVE, which `switchyard` sets for the torch verbs it starts),
// and returns the count in use. Why: LibTorch sizes its pool from cpuinfo's reading of CPUID
// topology (c10's TaskThreadPoolBase::defaultNumThreads), which a VM may report differently
// from the kernel: the 2-vCPU dev VM (two cores of one thread each per sysfs) gets one thread,
// which halves oneDNN's AMX bf16 matmuls (588 vs 1162 GFLOP/s on 1024x2048x768) and every
// element-wise kernel. Why only with passive waiting: f32 GEMMs run on OpenBLAS's own threads
// right after element-wise kernels on OpenMP's, and OpenMP threads that spin after a parallel
// region (libgomp's default, GOMP_SPINCOUNT 300000) take the cores from them: a second
// spinning thread made f32 batches 1.6x slower, a passive one left them as they were
// (bench/README.md#load). libgomp reads the policy once, when it is loaded, so a process cannot
// change its own. OMP_NUM_THREADS in the environment wins (LibTorch reads it; the --nproc
// launcher sets it per rank), as does SY_CPU_THREADS=N (intra-op threads only, for A/B runs).
// `switchyard` also sets, unless the user did: GOMP_SPINCOUNT=10000 (with its passive policy:
// a thread spins that long before it sleeps, so the next of a forward's many small kernels finds
// it awake instead of waking it through the kernel) and OPENBLAS_THREAD_TIMEOUT=4 (OpenBLAS's
// helpers sleep as soon as a GEMM ends instead of yielding for ~2^28 cycles, which took the
// cores from OpenMP's threads: the f64 router GEMM runs on OpenBLAS in every dtype). Marginal
// tok/s of `eval`, 1,024-token batches, passive alone vs with both (two rounds each): qwen3 bf16
// 1,246 / 1,196 vs 1,438 / 1,430, mixtral bf16 1,575 / 1,495 vs 1,932 / 1,862, qwen3 f32
// 508 / 515 vs 532 / 523; spinning 100,000 or the active policy without the OpenBLAS
// timeout: 860-890 on qwen3 bf16. A `tune` step on tiny-mixtral: 12,931-13,446 tok/s before,
// 14,631-14,930 with both (bench/README.md#load).
// Call once at process start, before the first forward.
int use_physical_cores_for_cpu_kernels();

}  // namespace sy
