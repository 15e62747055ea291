// libFuzzer target for the tokenizer.json loader. Input: a whole tokenizer.json
// text. Loading must succeed or throw sy::Error; a loaded tokenizer must encode and decode a
// short mixed-script text (with special-token-like pieces) without crashing.
#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/core/errors.h"
#include "switchyard/core/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const sy::Tokenizer tok = sy::Tokenizer::from_json_text(text, "fuzz-tokenizer.json");
        const std::string sample =
            "Hello  world!\n\t<|endoftext|><s> caf\xC3\xA9 e\xCC\x81 \xE4\xB8\xAD\xE6\x96\x87 123456 "
            "\xF0\x9F\x98\x80 \xE2\x96\x81x <0x41> I'LL";
        for (const bool add_special : {false, true}) {
            const sy::Encoding encoding = tok.encode(sample, add_special);
            if (encoding.pieces.size() != encoding.ids.size()) __builtin_trap();
            for (const int32_t id : encoding.ids) {
                if (id < 0 || id >= tok.id_count()) __builtin_trap();
            }
            tok.decode(encoding.ids, false);
            tok.decode(encoding.ids, true);
        }
        tok.decode({0, 1, 2, -1, tok.id_count(), tok.id_count() - 1});
        (void)tok.token_id("<s>");
        (void)tok.bos_id();
    } catch (const sy::Error&) {
    }
    return 0;
}
