#include "regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "json_fields.h"
#include "switchyard/core/errors.h"
#include "unicode_pattern.h"
#include "utf8.h"

namespace sy::tok {
namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buffer[256];
    if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0) return "PCRE2 error " + std::to_string(code);
    return reinterpret_cast<const char*>(buffer);
}

struct MatchDataDeleter {
    void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

}  // namespace

struct Regex::Impl {
    pcre2_code* code = nullptr;
    std::string pattern;  // for messages
    std::string origin;
    ~Impl() { pcre2_code_free(code); }

    // pcre2_match with a fall back to the interpreter when the JIT stack is too small (deeply
    // nested repeats on long inputs); other failures are resource limits we report.
    int match(std::string_view text, std::size_t start, uint32_t options, pcre2_match_data* data) const {
        const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
        int rc = pcre2_match(code, subject, text.size(), start, options, data, nullptr);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
            rc = pcre2_match(code, subject, text.size(), start, options | PCRE2_NO_JIT, data, nullptr);
        }
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
            throw TokenizerError(origin + ": regex " + quote_text(pattern) + " failed on the input: " + pcre2_message(rc));
        }
        return rc;
    }
};

Regex::Regex(std::string_view pattern, const JsonPath& at, RegexSyntax syntax) : m_impl(std::make_unique<Impl>()) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    m_impl->pattern = std::string(pattern);
    m_impl->origin = at.origin();
    const std::string compiled = syntax == RegexSyntax::oniguruma ? hf_compatible_pattern(pattern) : std::string(pattern);
    m_impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(),
                                 PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
    if (m_impl->code == nullptr) {
        // The offset is into the pattern as rewritten; it equals the original one up to the
        // first character class.
        at.fail("regex " + quote_text(pattern) + " does not compile: " + pcre2_message(error_code) +
                (compiled == pattern ? " at offset " + std::to_string(error_offset) : ""));
    }
    // JIT is an optimisation only; without it (unsupported platform) matching still works.
    pcre2_jit_compile(m_impl->code, PCRE2_JIT_COMPLETE);
}

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

std::vector<Span> Regex::find_all(std::string_view text) const {
    std::vector<Span> spans;
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(
        pcre2_match_data_create_from_pattern(m_impl->code, nullptr));
    if (!data) throw std::bad_alloc();
    // The first call validates UTF-8 once; later calls skip the O(n) check (valid by then).
    uint32_t options = 0;
    std::size_t pos = 0;
    std::size_t last_end = std::string_view::npos;
    while (pos <= text.size()) {
        if (m_impl->match(text, pos, options, data.get()) == PCRE2_ERROR_NOMATCH) break;
        options = PCRE2_NO_UTF_CHECK;
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
        const std::size_t begin = ovector[0], end = ovector[1];
        if (begin > end || begin < pos) {  // only possible with \K tricks; refuse, don't loop
            throw TokenizerError(m_impl->origin + ": regex " + quote_text(m_impl->pattern) +
                                 " reported a match that ends before it starts (\\K is not supported)");
        }
        if (begin == end) {
            if (end != last_end) spans.emplace_back(begin, end);
            last_end = end;
            if (end >= text.size()) break;
            pos = end + char_length(text, end);
            continue;
        }
        spans.emplace_back(begin, end);
        last_end = end;
        pos = end;
    }
    return spans;
}

}  // namespace sy::tok
