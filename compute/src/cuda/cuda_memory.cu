#include "cuda/cuda_memory.h"

#include <cuda_runtime_api.h>

#include <cstdio>

namespace sy::cuda {

std::string free_memory_note() {
    int device = 0;
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaGetDevice(&device) != cudaSuccess || cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
        cudaGetLastError();   // clear the sticky-free error state so torch's next call is unaffected
        return {};
    }
    char note[96];
    std::snprintf(note, sizeof note, " (cuda:%d: %.1f MiB free of %.1f MiB)", device,
                  static_cast<double>(free_bytes) / (1024.0 * 1024.0), static_cast<double>(total_bytes) / (1024.0 * 1024.0));
    return note;
}

bool device_memory(int index, unsigned long long& free_bytes, unsigned long long& total_bytes) {
    int current = 0;
    size_t free_now = 0, total_now = 0;
    const bool ok = cudaGetDevice(&current) == cudaSuccess && cudaSetDevice(index) == cudaSuccess &&
                    cudaMemGetInfo(&free_now, &total_now) == cudaSuccess;
    cudaSetDevice(current);
    if (!ok) {
        cudaGetLastError();   // as above: leave no sticky error for torch
        return false;
    }
    free_bytes = free_now;
    total_bytes = total_now;
    return true;
}

}  // namespace sy::cuda
