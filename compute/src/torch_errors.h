#pragma once
// The compute/ boundary for LibTorch errors (style.md rule 6): every torch call path of the
// forward pass runs inside guard_torch, which turns c10::Error into sy::Error with our context
// ("layer 3: attention"). Any thread.
#include <c10/util/Exception.h>

#include <new>
#include <string>
#include <utility>

namespace sy {

// CUDA/CPU allocation failures -> OutOfMemory (torch's message carries the requested size and,
// on CUDA, the device's free memory); everything else -> ShapeMismatch, since a LibTorch error
// inside a validated forward pass means tensors did not fit together.
[[noreturn]] void rethrow_torch_error(const c10::Error& error, const std::string& context);
[[noreturn]] void rethrow_bad_alloc(const std::string& context);

template <class F>
auto guard_torch(const std::string& context, F&& body) -> decltype(body()) {
    try {
        return std::forward<F>(body)();
    } catch (const c10::Error& error) {
        rethrow_torch_error(error, context);
    } catch (const std::bad_alloc&) {
        rethrow_bad_alloc(context);
    }
}

}  // namespace sy
