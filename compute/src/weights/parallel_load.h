#pragma once
// Loads independent tensors on several threads. Why not LibTorch's intra-op pool
// (at::parallel_for): LibTorch sizes it to the physical cores (1 on the 2-vCPU dev VM) and
// shares it with the compute thread, while a load is bound by copying from the page cache and
// by the kernel's first-touch zeroing of fresh memory, which run on every vCPU in parallel
// (bench/README.md "Load").
#include <cstdint>
#include <functional>

namespace sy {

// Threads a load uses: SY_LOAD_THREADS when set to a positive number (at most 64), otherwise
// the machine's hardware threads (std::thread::hardware_concurrency), at most 8.
int load_threads();

// Calls task(i) for every i in [0, count), on up to load_threads() threads (the caller's
// included), each taking the next index. Returns when all are done; rethrows the first
// exception a task threw (the other tasks still finish or fail first).
void parallel_tasks(int64_t count, const std::function<void(int64_t)>& task);

}  // namespace sy
