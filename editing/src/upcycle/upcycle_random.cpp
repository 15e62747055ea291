#include "upcycle_random.h"

#include <algorithm>
#include <cmath>

namespace sy {
namespace {

uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

RandomStream::RandomStream(uint64_t seed, RandomPurpose purpose, int64_t layer, int64_t index) {
    // Mix the tuple through SplitMix64 so neighbouring (layer, index) pairs give unrelated streams.
    uint64_t x = seed;
    for (uint64_t part : {static_cast<uint64_t>(purpose), static_cast<uint64_t>(layer), static_cast<uint64_t>(index)}) {
        x ^= splitmix64(x) + part;
        splitmix64(x);
    }
    for (auto& word : m_state) word = splitmix64(x);
}

uint64_t RandomStream::next() {
    const uint64_t result = rotl(m_state[1] * 5, 7) * 9;
    const uint64_t t = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= t;
    m_state[3] = rotl(m_state[3], 45);
    return result;
}

double RandomStream::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t RandomStream::below(uint64_t n) {
    const uint64_t limit = (0 - n) % n;   // values below it would bias the modulo: draw again
    for (;;) {
        const uint64_t r = next();
        if (r >= limit) return r % n;
    }
}

double RandomStream::normal() {
    if (m_has_spare) {
        m_has_spare = false;
        return m_spare;
    }
    double u1 = uniform();
    while (u1 <= 0) u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * u2;
    m_spare = radius * std::sin(angle);
    m_has_spare = true;
    return radius * std::cos(angle);
}

std::vector<int64_t> random_permutation(RandomStream& random, int64_t n) {
    std::vector<int64_t> p(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
    for (int64_t i = n - 1; i > 0; --i)
        std::swap(p[static_cast<std::size_t>(i)], p[random.below(static_cast<uint64_t>(i + 1))]);
    return p;
}

std::vector<int64_t> random_subset(RandomStream& random, int64_t n, int64_t k) {
    std::vector<int64_t> p = random_permutation(random, n);
    p.resize(static_cast<std::size_t>(k));
    std::sort(p.begin(), p.end());
    return p;
}

}  // namespace sy
