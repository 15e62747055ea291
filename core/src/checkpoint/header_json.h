#pragma once
// The JSON half of a safetensors header: entries -> TensorInfo (dtype known, shape x dtype size
// equal to the byte span, no name twice) and __metadata__. Offsets against the file are checked
// by the caller (safetensors_header.cpp).
#include <string>
#include <string_view>

#include "switchyard/core/safetensors_header.h"

namespace sy {

// Fills out.tensors (header order) and out.metadata; throws CheckpointError "<origin>: ...".
void parse_header_json(std::string_view text, const std::string& origin, SafetensorsHeader& out);

}  // namespace sy
