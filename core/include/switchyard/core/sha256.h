#pragma once
// Minimal SHA-256 (FIPS 180-4) for model fingerprints and edit provenance; no new dependency for
// one hash.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy {

class Sha256 {
public:
    Sha256();
    void update(const void* data, std::size_t size);
    void update(std::string_view text) { update(text.data(), text.size()); }
    std::string hex_digest();   // finishes the hash; call once

private:
    void compress(const uint8_t* block);
    std::array<uint32_t, 8> m_state;
    std::array<uint8_t, 64> m_buffer{};
    std::size_t m_buffered = 0;
    uint64_t m_total_bytes = 0;
};

}  // namespace sy
