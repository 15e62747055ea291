#pragma once
// Deterministic, platform-independent random numbers for upcycling. Every stream is a pure
// function of (seed, purpose, layer, index), so tensors can be made in any order and a run is
// reproduced from the seed recorded in provenance. std::normal_distribution and
// std::uniform_int_distribution are implementation-defined (libstdc++ and libc++ differ), so the
// transforms are written out here: xoshiro256** (Blackman & Vigna 2018) seeded by SplitMix64,
// Box-Muller normals, Lemire-style rejection for bounded integers.
#include <array>
#include <cstdint>
#include <vector>

namespace sy {

enum class RandomPurpose : uint64_t { router = 1, partition = 2, drop_indices = 3, drop_values = 4 };

class RandomStream {
public:
    RandomStream(uint64_t seed, RandomPurpose purpose, int64_t layer, int64_t index);
    uint64_t next();              // 64 random bits
    double uniform();             // [0, 1), 53 bits
    uint64_t below(uint64_t n);   // uniform in [0, n), unbiased; n > 0
    double normal();              // N(0, 1)

private:
    std::array<uint64_t, 4> m_state{};
    double m_spare = 0;
    bool m_has_spare = false;
};

// A uniformly random permutation of [0, n) (Fisher-Yates).
std::vector<int64_t> random_permutation(RandomStream& random, int64_t n);
// k distinct values of [0, n), uniformly chosen, in increasing order.
std::vector<int64_t> random_subset(RandomStream& random, int64_t n, int64_t k);

}  // namespace sy
