#include "weights/parallel_load.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sy {

int load_threads() {
    if (const char* text = std::getenv("SY_LOAD_THREADS")) {
        const int threads = std::atoi(text);
        if (threads >= 1) return std::min(threads, 64);
    }
    const unsigned hardware = std::thread::hardware_concurrency();
    return static_cast<int>(std::clamp(hardware, 1u, 8u));
}

void parallel_tasks(int64_t count, const std::function<void(int64_t)>& task) {
    std::atomic<int64_t> next{0};
    std::mutex error_mutex;
    std::exception_ptr error;
    const auto work = [&] {
        for (int64_t i = next++; i < count; i = next++) {
            try {
                task(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
            }
        }
    };
    const int64_t helpers = std::min<int64_t>(load_threads(), count) - 1;
    std::vector<std::thread> threads;
    for (int64_t t = 0; t < helpers; ++t) threads.emplace_back(work);
    work();
    for (std::thread& thread : threads) thread.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace sy
