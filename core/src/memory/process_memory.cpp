#include "switchyard/core/process_memory.h"

#include <climits>
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sy {

void keep_freed_memory_for_reuse() {
    const char* flag = std::getenv("SY_KEEP_FREED_MEMORY");
    if (flag && std::strcmp(flag, "0") == 0) return;
#if defined(__GLIBC__)
    // mallopt(3): M_MMAP_MAX 0 serves every main-arena block from the heap; M_TRIM_THRESHOLD
    // (an int) bounds the free memory kept at the heap's top before it is given back.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace sy
