#pragma once
// Numbers as progress lines and plans print them. One copy for the jobs in compute/ and the
// CLI's progress sink.
#include <cstdint>
#include <string>

namespace sy {

std::string format_bytes(uint64_t bytes);       // "12.3 MB", "1.50 GB"
std::string format_count(int64_t count);        // "12,288"
std::string format_duration(double seconds);    // "0:42", "1:02:03"; "?" when not finite

}  // namespace sy
