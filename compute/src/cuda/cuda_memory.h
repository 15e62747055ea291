#pragma once
// Free and total memory of the current CUDA device, for OutOfMemory messages (style.md rule 6:
// "map CUDA OOM to sy::OutOfMemory with the requested size and the device's free memory").
// Built only with SWITCHYARD_CUDA (the sy_compute_cuda object library, compiled by nvcc);
// callers guard with SWITCHYARD_WITH_CUDA. Any thread.
#include <string>

namespace sy::cuda {

// " (cuda:N: F MiB free of T MiB)", or "" when the runtime cannot tell (no device, driver
// error). Never throws.
std::string free_memory_note();

// Free and total bytes of CUDA device `index` (the training plan's budget); false when the
// runtime cannot tell. Leaves the current device as it was. Never throws.
bool device_memory(int index, unsigned long long& free_bytes, unsigned long long& total_bytes);

}  // namespace sy::cuda
