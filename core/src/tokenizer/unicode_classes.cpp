// Character classes from the generated Unicode tables; see unicode_classes.h.
#include "unicode_classes.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "unicode_tables.h"

namespace sy::tok {
namespace {

constexpr uint32_t k_max_code_point = 0x10FFFF;

// Oniguruma compares property names loosely: case-insensitive, ignoring ' ', '-' and '_'.
std::string loose(std::string_view name) {
    std::string out;
    for (char c : name)
        if (c != ' ' && c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

CodeRanges merged(CodeRanges ranges) {
    std::sort(ranges.begin(), ranges.end());
    CodeRanges out;
    for (const auto& r : ranges) {
        if (!out.empty() && r.first <= out.back().second + 1) out.back().second = std::max(out.back().second, r.second);
        else out.push_back(r);
    }
    return out;
}

CodeRanges from_table(const ucd::Range* rows, std::size_t size) {
    CodeRanges out;
    for (std::size_t i = 0; i < size; ++i) out.emplace_back(rows[i].first, rows[i].last);
    return merged(std::move(out));
}

using CategoryMask = uint32_t;
constexpr CategoryMask bit(ucd::GeneralCategory c) { return CategoryMask(1) << c; }

CodeRanges categories(CategoryMask mask) {
    CodeRanges out;
    for (std::size_t i = 0; i < ucd::k_general_category_size; ++i) {
        const ucd::PropertyRange& row = ucd::k_general_category[i];
        if (mask & (CategoryMask(1) << row.value)) out.emplace_back(row.first, row.last);
    }
    if (mask & bit(ucd::Cn)) {   // unassigned: every code point the table does not list
        CodeRanges assigned;
        for (std::size_t i = 0; i < ucd::k_general_category_size; ++i)
            assigned.emplace_back(ucd::k_general_category[i].first, ucd::k_general_category[i].last);
        out = unite(std::move(out), complement(merged(std::move(assigned))));
    }
    return merged(std::move(out));
}

struct CategoryName {
    const char* short_name;
    const char* long_name;
    const char* other_name;   // "" when none
    CategoryMask mask;
};

constexpr CategoryMask k_letters = bit(ucd::Lu) | bit(ucd::Ll) | bit(ucd::Lt) | bit(ucd::Lm) | bit(ucd::Lo);
constexpr CategoryMask k_marks = bit(ucd::Mn) | bit(ucd::Mc) | bit(ucd::Me);
constexpr CategoryMask k_numbers = bit(ucd::Nd) | bit(ucd::Nl) | bit(ucd::No);
constexpr CategoryMask k_punctuation = bit(ucd::Pc) | bit(ucd::Pd) | bit(ucd::Ps) | bit(ucd::Pe) | bit(ucd::Pi) |
                                       bit(ucd::Pf) | bit(ucd::Po);
constexpr CategoryMask k_symbols = bit(ucd::Sm) | bit(ucd::Sc) | bit(ucd::Sk) | bit(ucd::So);
constexpr CategoryMask k_separators = bit(ucd::Zs) | bit(ucd::Zl) | bit(ucd::Zp);
constexpr CategoryMask k_others = bit(ucd::Cc) | bit(ucd::Cf) | bit(ucd::Cs) | bit(ucd::Co) | bit(ucd::Cn);

// UAX #44 General_Category values and groups (PropertyValueAliases.txt).
const CategoryName k_category_names[] = {
    {"L", "Letter", "", k_letters},
    {"LC", "Cased_Letter", "", bit(ucd::Lu) | bit(ucd::Ll) | bit(ucd::Lt)},
    {"Lu", "Uppercase_Letter", "", bit(ucd::Lu)},
    {"Ll", "Lowercase_Letter", "", bit(ucd::Ll)},
    {"Lt", "Titlecase_Letter", "", bit(ucd::Lt)},
    {"Lm", "Modifier_Letter", "", bit(ucd::Lm)},
    {"Lo", "Other_Letter", "", bit(ucd::Lo)},
    {"M", "Mark", "Combining_Mark", k_marks},
    {"Mn", "Nonspacing_Mark", "", bit(ucd::Mn)},
    {"Mc", "Spacing_Mark", "", bit(ucd::Mc)},
    {"Me", "Enclosing_Mark", "", bit(ucd::Me)},
    {"N", "Number", "", k_numbers},
    {"Nd", "Decimal_Number", "", bit(ucd::Nd)},
    {"Nl", "Letter_Number", "", bit(ucd::Nl)},
    {"No", "Other_Number", "", bit(ucd::No)},
    {"P", "Punctuation", "", k_punctuation},
    {"Pc", "Connector_Punctuation", "", bit(ucd::Pc)},
    {"Pd", "Dash_Punctuation", "", bit(ucd::Pd)},
    {"Ps", "Open_Punctuation", "", bit(ucd::Ps)},
    {"Pe", "Close_Punctuation", "", bit(ucd::Pe)},
    {"Pi", "Initial_Punctuation", "", bit(ucd::Pi)},
    {"Pf", "Final_Punctuation", "", bit(ucd::Pf)},
    {"Po", "Other_Punctuation", "", bit(ucd::Po)},
    {"S", "Symbol", "", k_symbols},
    {"Sm", "Math_Symbol", "", bit(ucd::Sm)},
    {"Sc", "Currency_Symbol", "", bit(ucd::Sc)},
    {"Sk", "Modifier_Symbol", "", bit(ucd::Sk)},
    {"So", "Other_Symbol", "", bit(ucd::So)},
    {"Z", "Separator", "", k_separators},
    {"Zs", "Space_Separator", "", bit(ucd::Zs)},
    {"Zl", "Line_Separator", "", bit(ucd::Zl)},
    {"Zp", "Paragraph_Separator", "", bit(ucd::Zp)},
    {"C", "Other", "", k_others},
    {"Cc", "Control", "", bit(ucd::Cc)},
    {"Cf", "Format", "", bit(ucd::Cf)},
    {"Cs", "Surrogate", "", bit(ucd::Cs)},
    {"Co", "Private_Use", "", bit(ucd::Co)},
    {"Cn", "Unassigned", "", bit(ucd::Cn)},
};

const CategoryName* find_category(const std::string& wanted) {
    for (const CategoryName& c : k_category_names)
        if (wanted == loose(c.short_name) || wanted == loose(c.long_name) || (*c.other_name && wanted == loose(c.other_name)))
            return &c;
    return nullptr;
}

// Index into ucd::k_script_names, or -1.
int find_script(const std::string& wanted) {
    for (std::size_t s = 0; s < ucd::k_script_names_size; ++s)
        if (loose(ucd::k_script_names[s]) == wanted) return static_cast<int>(s);
    return -1;
}

CodeRanges script(int index) {
    CodeRanges out;
    for (std::size_t i = 0; i < ucd::k_script_size; ++i)
        if (ucd::k_script[i].value == index) out.emplace_back(ucd::k_script[i].first, ucd::k_script[i].last);
    return merged(std::move(out));
}

}  // namespace

std::optional<CodeRanges> unicode_property(std::string_view name) {
    const std::string wanted = loose(name);
    if (const CategoryName* category = find_category(wanted)) return categories(category->mask);
    if (wanted == "any") return CodeRanges{{0, k_max_code_point}};
    if (wanted == "assigned") return complement(categories(bit(ucd::Cn)));
    if (const int index = find_script(wanted); index >= 0) return script(index);
    return std::nullopt;
}

std::string pcre2_property_name(std::string_view name) {
    const std::string wanted = loose(name);
    if (const CategoryName* category = find_category(wanted)) return category->short_name;
    if (const int index = find_script(wanted); index >= 0) return ucd::k_script_names[index];
    return std::string(name);
}

CodeRanges escape_class(char letter) {
    switch (letter) {
        case 's': return from_table(ucd::k_white_space, ucd::k_white_space_size);
        case 'd': return categories(bit(ucd::Nd));
        case 'w':
            return unite(unite(from_table(ucd::k_alphabetic, ucd::k_alphabetic_size),
                               categories(k_marks | bit(ucd::Nd) | bit(ucd::Pc))),
                         CodeRanges{{0xB2, 0xB3}, {0xB9, 0xB9}, {0xBC, 0xBE}});
        case 'h': return CodeRanges{{'0', '9'}, {'A', 'F'}, {'a', 'f'}};
        default: return {};
    }
}

CodeRanges rust_word_class() {
    return unite(unite(from_table(ucd::k_alphabetic, ucd::k_alphabetic_size),
                       categories(k_marks | bit(ucd::Nd) | bit(ucd::Pc))),
                 from_table(ucd::k_join_control, ucd::k_join_control_size));
}

CodeRanges rust_numeric_class() { return from_table(ucd::k_number_17, ucd::k_number_17_size); }

CodeRanges hf_punctuation_class() {
    return unite(from_table(ucd::k_punctuation_8, ucd::k_punctuation_8_size),
                 CodeRanges{{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}});
}

CodeRanges complement(const CodeRanges& ranges) {
    CodeRanges out;
    uint32_t next = 0;
    for (const auto& [first, last] : ranges) {
        if (first > next) out.emplace_back(next, first - 1);
        next = last + 1;
    }
    if (next <= k_max_code_point) out.emplace_back(next, k_max_code_point);
    return out;
}

CodeRanges unite(CodeRanges a, const CodeRanges& b) {
    a.insert(a.end(), b.begin(), b.end());
    return merged(std::move(a));
}

CodeRanges subtract(const CodeRanges& a, const CodeRanges& b) { return complement(unite(complement(a), b)); }

CodeRanges without_surrogates(const CodeRanges& ranges) { return subtract(ranges, CodeRanges{{0xD800, 0xDFFF}}); }

bool contains(const CodeRanges& ranges, uint32_t code_point) {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), std::make_pair(code_point, UINT32_MAX));
    return it != ranges.begin() && std::prev(it)->second >= code_point;
}

}  // namespace sy::tok
