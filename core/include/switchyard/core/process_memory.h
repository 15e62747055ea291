#pragma once
// Process-wide memory policy of the front ends that run the forward pass.

namespace sy {

// Freed memory is kept for reuse instead of being returned to the kernel. glibc serves blocks
// above its mmap threshold (32 MiB at most) with fresh mappings and unmaps them on free, so
// each forward batch's large activations (logits [N, V], attention scores, stacked expert
// inputs) would be new pages that the kernel faults in and zeroes again: 15-20% of a batch of
// 1,024 tokens on a two-layer Qwen3-30B-A3B-shaped model on the dev VM, and part of what
// made the first batch dearer than later ones (bench/README.md#load). With mappings off for
// the main arena and a 2 GiB trim threshold, freed blocks return to the heap and the next
// batch reuses them; threads' arenas still map blocks larger than their heaps. Applies mallopt
// (glibc; elsewhere nothing). SY_KEEP_FREED_MEMORY=0 in the environment turns it off (for
// A/B runs). Call once at process start, before the first allocation that matters. A short
// command's policy: the freed memory stays with the process until it exits (the workbench,
// which runs its forward passes on worker threads and lives on, does not set it).
void keep_freed_memory_for_reuse();

}  // namespace sy
