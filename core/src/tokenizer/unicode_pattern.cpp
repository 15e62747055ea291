// Oniguruma character classes spelled for PCRE2; see unicode_pattern.h.
#include "unicode_pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <optional>

#include "unicode_classes.h"
#include "utf8.h"

namespace sy::tok {
namespace {

// A class as Hugging Face means it, and the nearest class PCRE2 has.
struct ClassSpec {
    std::string pcre_items;   // e.g. "\\p{L}"; "" when PCRE2 has nothing close
    std::string pcre_negated; // the single-item negation ("\\P{L}"); "" when there is none
    CodeRanges wanted;        // surrogates removed
};

// Every code point as UTF-8, in two runs split at the surrogates (which UTF-8 cannot hold), so
// that a run of matches never spans the gap.
const std::vector<std::string>& every_code_point() {
    static const std::vector<std::string> runs = [] {
        std::vector<std::string> out(2);
        for (uint32_t c = 0; c <= 0x10FFFF; ++c)
            if (c < 0xD800 || c > 0xDFFF) append_utf8(out[c < 0xD800 ? 0 : 1], c);
        return out;
    }();
    return runs;
}

struct PcreClass {
    bool known = false;   // PCRE2 compiles the items
    CodeRanges members;
};

uint32_t code_point_ending_at(const std::string& text, std::size_t end) {
    std::size_t begin = end - 1;
    while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
    return code_point_at(text, begin);
}

// The code points PCRE2 (UTF + UCP, as regex.cpp compiles) puts in [items]: maximal runs of
// `[items]+` over every code point.
PcreClass measure(const std::string& items) {
    PcreClass result;
    const std::string pattern = "[" + items + "]+";
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!code) return result;
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
    for (const std::string& run : every_code_point()) {
        const auto* subject = reinterpret_cast<PCRE2_SPTR>(run.data());
        for (std::size_t pos = 0;
             pcre2_match(code, subject, run.size(), pos, PCRE2_NO_UTF_CHECK, data, nullptr) > 0;) {
            const PCRE2_SIZE* span = pcre2_get_ovector_pointer(data);
            result.members.emplace_back(code_point_at(run, span[0]), code_point_ending_at(run, span[1]));
            pos = span[1];
        }
    }
    pcre2_match_data_free(data);
    pcre2_code_free(code);
    result.known = true;
    return result;
}

const PcreClass& pcre_class(const std::string& items) {
    static std::mutex mutex;
    static std::map<std::string, PcreClass> cache;   // node-based: references stay valid
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(items);
    if (it == cache.end()) it = cache.emplace(items, measure(items)).first;
    return it->second;
}

std::string ranges_text(const CodeRanges& ranges) {
    std::string out;
    char item[32];
    for (const auto& [first, last] : ranges) {
        if (first == last) std::snprintf(item, sizeof item, "\\x{%X}", first);
        else std::snprintf(item, sizeof item, "\\x{%X}-\\x{%X}", first, last);
        out += item;
    }
    return out;
}

// Items for inside [...] matching spec.wanted, or its complement when `negated`.
std::string class_items(const ClassSpec& spec, bool negated) {
    if (!spec.pcre_items.empty()) {
        const PcreClass& pcre = pcre_class(spec.pcre_items);
        if (pcre.known) {
            const CodeRanges missing = subtract(spec.wanted, pcre.members);
            const CodeRanges extra = subtract(pcre.members, spec.wanted);
            if (!negated && extra.empty()) return spec.pcre_items + ranges_text(missing);
            if (negated && missing.empty() && !spec.pcre_negated.empty()) return spec.pcre_negated + ranges_text(extra);
        }
    }
    return ranges_text(negated ? without_surrogates(complement(spec.wanted)) : spec.wanted);
}

ClassSpec escape_spec(char letter) {
    ClassSpec spec;
    spec.wanted = without_surrogates(escape_class(letter));
    switch (letter) {
        case 's': spec.pcre_items = "\\s", spec.pcre_negated = "\\S"; break;
        case 'd': spec.pcre_items = "\\d", spec.pcre_negated = "\\D"; break;
        case 'w': spec.pcre_items = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}\\p{Nl}"; break;   // PCRE2's \w has No, lacks M
        default: break;                                                         // \h: ASCII, ranges are short
    }
    return spec;
}

// Appends the rewrite of the escape at pattern[i] ('\\') and returns the index after it.
std::size_t rewrite_escape(std::string_view p, std::size_t i, bool in_class, std::string& out) {
    const char letter = i + 1 < p.size() ? p[i + 1] : '\0';
    std::optional<ClassSpec> spec;
    bool negated = false;
    std::size_t next = i + 2;
    if ((letter == 'p' || letter == 'P') && (next >= p.size() || p[next] != '{')) {
        out += letter;   // Oniguruma reads \pL as the letters "pL" (properties need braces)
        return next;
    }
    if (letter == 'p' || letter == 'P') {
        std::string name;
        const std::size_t close = p.find('}', next);
        if (close != std::string_view::npos) name = std::string(p.substr(next + 1, close - next - 1)), next = close + 1;
        negated = letter == 'P';
        if (!name.empty() && name[0] == '^') negated = !negated, name.erase(0, 1);
        if (auto wanted = unicode_property(name)) {
            const std::string pcre_name = pcre2_property_name(name);
            spec = ClassSpec{"\\p{" + pcre_name + "}", "\\P{" + pcre_name + "}", without_surrogates(*wanted)};
        }
    } else if (std::string_view("sSdDwWhH").find(letter) != std::string_view::npos && letter != '\0') {
        spec = escape_spec(static_cast<char>(letter | 0x20));
        negated = letter < 'a';
    } else if (letter == 'u' && i + 6 <= p.size() &&
               p.substr(i + 2, 4).find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
        out += "\\x{" + std::string(p.substr(i + 2, 4)) + "}";   // Oniguruma's \uHHHH
        return i + 6;
    } else if (letter == 'Q') {   // \Q...\E quotes verbatim
        const std::size_t end = p.find("\\E", i + 2);
        next = end == std::string_view::npos ? p.size() : end + 2;
    } else if (letter != '\0') {
        next = i + 1 + char_length(p, i + 1);
    }
    if (!spec) {
        out.append(p.substr(i, next - i));
        return next;
    }
    if (in_class) out += class_items(*spec, negated);
    else out += (negated ? "[^" : "[") + class_items(*spec, false) + "]";
    return next;
}

}  // namespace

std::string class_items_for(const std::string& pcre_items, const CodeRanges& wanted) {
    return class_items(ClassSpec{pcre_items, "", without_surrogates(wanted)}, false);
}

std::string hf_compatible_pattern(std::string_view p) {
    std::string out;
    bool in_class = false;
    for (std::size_t i = 0; i < p.size();) {
        const char c = p[i];
        if (c == '\\') {
            i = rewrite_escape(p, i, in_class, out);
        } else if (!in_class && c == '[') {
            in_class = true;
            out += p[i++];
            if (i < p.size() && p[i] == '^') out += p[i++];
            if (i < p.size() && p[i] == ']') out += p[i++];   // a ']' first in a class is literal
        } else if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {   // POSIX [:name:]
            const std::size_t end = p.find(":]", i + 2);
            const std::size_t next = end == std::string_view::npos ? i + 1 : end + 2;
            out.append(p.substr(i, next - i));
            i = next;
        } else {
            if (in_class && c == ']') in_class = false;
            const std::size_t n = char_length(p, i);
            out.append(p.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace sy::tok
