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

}  // namespace sy::cuda
