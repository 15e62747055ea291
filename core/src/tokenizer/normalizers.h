#pragma once
// Normalizers (formats.md §12.5): NFC/NFD/NFKC/NFKD (ICU), Lowercase, Strip, Prepend, Replace,
// Sequence. Offsets are not tracked: Switchyard only needs ids.
#include <memory>
#include <string>

#include "json_fields.h"

namespace sy::tok {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string& text) const = 0;  // text: valid UTF-8, stays valid
};

// nullptr for a JSON null; TokenizerError at `at` for an unknown or malformed normalizer.
std::unique_ptr<Normalizer> make_normalizer(const json& spec, const JsonPath& at);

}  // namespace sy::tok
