#include "torch_errors.h"

#include "switchyard/core/errors.h"
#ifdef SWITCHYARD_WITH_CUDA
#include "cuda/cuda_memory.h"
#endif

namespace sy {
namespace {

bool is_out_of_memory(const c10::Error& error, const std::string& message) {
    if (dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr) return true;
    // Older LibTorch builds raise CUDA OOM as a plain c10::Error; CPU allocation failures read
    // "DefaultCPUAllocator: can't allocate memory".
    return message.find("out of memory") != std::string::npos ||
           message.find("can't allocate memory") != std::string::npos;
}

}  // namespace

void rethrow_torch_error(const c10::Error& error, const std::string& context) {
    const std::string message = error.what_without_backtrace();
    if (is_out_of_memory(error, message)) {
        std::string note;
#ifdef SWITCHYARD_WITH_CUDA
        // torch's CUDA message names the requested size; add what the device has left now.
        if (message.find("CUDA") != std::string::npos) note = cuda::free_memory_note();
#endif
        throw OutOfMemory(context + ": out of memory: " + message + note);
    }
    throw ShapeMismatch(context + ": " + message);
}

void rethrow_bad_alloc(const std::string& context) {
    throw OutOfMemory(context + ": out of memory (host allocation failed)");
}

}  // namespace sy
