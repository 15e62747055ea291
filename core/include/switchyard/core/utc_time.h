#pragma once
// The "created" stamp of every file Switchyard writes (traces, analysis results).
#include <string>

namespace sy {

// Now as ISO 8601 UTC, e.g. "2025-01-31T12:00:00Z".
std::string utc_now_iso8601();

}  // namespace sy
