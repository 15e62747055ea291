#pragma once
// Post-processors: what encode(text, add_special_tokens = true) adds around the ids
// (TemplateProcessing BOS/EOS, Roberta/Bert CLS+SEP; ByteLevel only trims offsets, so nothing).
// Only the single-sequence form is used; pair templates are parsed but never applied.
#include <cstdint>
#include <memory>
#include <vector>

#include "json_fields.h"

namespace sy::tok {

class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    virtual void process(std::vector<int32_t>& ids) const = 0;
};

// nullptr for a JSON null; TokenizerError at `at` for an unknown or malformed post-processor.
std::unique_ptr<PostProcessor> make_post_processor(const json& spec, const JsonPath& at);

}  // namespace sy::tok
