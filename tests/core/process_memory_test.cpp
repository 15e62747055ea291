// keep_freed_memory_for_reuse (process_memory.h): after it, a block above glibc's mmap threshold
// comes from the heap, and a block of the same size allocated after freeing it reuses the same
// memory (no fresh pages for the kernel to zero), which is what a forward batch's activations do.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "switchyard/core/process_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sy {
namespace {

TEST(ProcessMemory, FreedLargeBlocksAreReusedNotUnmapped) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
    constexpr std::size_t size = std::size_t{64} << 20;   // above glibc's largest mmap threshold (32 MiB)
    // Without the policy such a block is a mapping of its own.
    void* mapped = std::malloc(size);
    ASSERT_NE(mapped, nullptr);
    EXPECT_GT(mallinfo2().hblks, 0u);
    std::free(mapped);

    keep_freed_memory_for_reuse();
    const std::size_t maps = mallinfo2().hblks;
    void* first = std::malloc(size);
    ASSERT_NE(first, nullptr);
    std::memset(first, 1, size);
    EXPECT_EQ(mallinfo2().hblks, maps);   // from the heap
    std::free(first);
    void* second = std::malloc(size);
    EXPECT_EQ(second, first);             // the same memory again
    std::free(second);
#else
    GTEST_SKIP() << "glibc 2.33 or later only (mallinfo2)";
#endif
}

}  // namespace
}  // namespace sy
