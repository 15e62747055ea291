// One SAX pass (fast_json.h; nlohmann's parser for what it declines) straight into TensorInfo,
// with no JSON tree in between. Real shards hold thousands of entries (Kimi-K2: ~2,300 per
// shard, 139,583 in all), so the parse must stay linear: nlohmann's callback parser, which caught
// duplicate names before, rescans the whole top-level object after every entry it closes
// (json_sax_dom_callback_parser::end_object), which made `inspect` quadratic in tensors per shard
// (bench/README.md "Inspect speed").
#include "header_json.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "fast_json.h"
#include "switchyard/core/errors.h"

namespace sy {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
    throw CheckpointError(origin + ": " + what);
}

enum class Kind { null, boolean, negative, unsigned_int, floating, string, object, array };
enum class Field { other, dtype, shape, offsets };
enum class Seen { absent, wrong_type, ok };

// An entry's fields as found, validated when its object closes (same order and messages as a
// check of the finished object would give).
struct RawEntry {
    Seen dtype = Seen::absent, shape = Seen::absent, offsets = Seen::absent;
    std::string dtype_name;
    std::vector<uint64_t> dims, offset_values;
    bool bad_dim = false, bad_offset = false;
};

std::string dims_text(const std::vector<uint64_t>& dims) {
    std::string text = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
}

TensorInfo finish_entry(const std::string& name, const RawEntry& raw, const std::string& origin) {
    const std::string where = "tensor " + name;
    TensorInfo info;
    info.name = name;
    if (raw.dtype != Seen::ok) fail(origin, where + ": missing \"dtype\"");
    const auto dtype = parse_dtype(raw.dtype_name);
    if (!dtype)
        fail(origin, where + ": unknown dtype \"" + raw.dtype_name + "\" (supported: " +
                         std::string(supported_dtype_list()) + ")");
    info.dtype = *dtype;
    if (raw.shape != Seen::ok) fail(origin, where + ": missing \"shape\"");
    if (raw.bad_dim) fail(origin, where + ": shape dimension must be a non-negative integer");
    uint64_t numel = 1;
    for (uint64_t d : raw.dims) {
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
            (d != 0 && numel > std::numeric_limits<uint64_t>::max() / d))
            fail(origin, where + ": shape " + dims_text(raw.dims) + " overflows");
        numel *= d;
        info.shape.push_back(static_cast<int64_t>(d));
    }
    if (raw.offsets != Seen::ok || raw.offset_values.size() + (raw.bad_offset ? 1 : 0) != 2)
        fail(origin, where + ": \"data_offsets\" must be [begin, end]");
    if (raw.bad_offset) fail(origin, where + ": data_offsets must be a non-negative integer");
    info.data_begin = raw.offset_values[0];
    info.data_end = raw.offset_values[1];
    if (info.data_end < info.data_begin)
        fail(origin, where + ": data_offsets end " + std::to_string(info.data_end) + " is before begin " +
                         std::to_string(info.data_begin));
    const uint64_t elem = dtype_size(info.dtype);
    if (numel > std::numeric_limits<uint64_t>::max() / elem) fail(origin, where + ": byte size overflows");
    if (numel * elem != info.nbytes())
        fail(origin, where + ": shape " + shape_to_string(info.shape) + " x " + std::string(dtype_name(info.dtype)) +
                         " needs " + std::to_string(numel * elem) + " bytes but data_offsets span " +
                         std::to_string(info.nbytes()));
    return info;
}

// Depth: 0 outside the header, 1 inside its object, 2 inside an entry (or __metadata__), 3 inside
// an entry's shape / data_offsets array; anything deeper (or under unknown fields) is skipped.
class HeaderSax {
public:
    HeaderSax(const std::string& origin, SafetensorsHeader& out) : m_origin(origin), m_out(out) {}

    bool null() { return value(Kind::null); }
    bool boolean(bool) { return value(Kind::boolean); }
    bool number_integer(json::number_integer_t) { return value(Kind::negative); }
    bool number_unsigned(json::number_unsigned_t v) { return value(Kind::unsigned_int, v); }
    bool number_float(json::number_float_t, const std::string&) { return value(Kind::floating); }
    bool string(std::string& v) { return value(Kind::string, 0, &v); }
    bool binary(json::binary_t&) { return value(Kind::null); }
    bool start_object(std::size_t) { return open(Kind::object); }
    bool start_array(std::size_t) { return open(Kind::array); }
    bool end_array() {
        --m_depth;
        return true;
    }
    bool end_object() {
        if (--m_depth == 1 && m_in_entry) m_out.tensors.push_back(finish_entry(m_key, m_raw, m_origin));
        if (m_depth == 1) m_in_entry = m_in_metadata = false;
        return true;
    }
    bool key(std::string& k) {
        if (m_depth == 1) m_key = k;
        else if (m_depth == 2) m_field_key = k;
        return true;
    }
    template <class Exception>
    bool parse_error(std::size_t, const std::string&, const Exception& e) {
        fail(m_origin, std::string("header is not valid JSON (") + e.what() + ")");
    }

private:
    bool open(Kind kind) {
        value(kind);
        ++m_depth;
        return true;
    }

    bool value(Kind kind, uint64_t number = 0, std::string* text = nullptr) {
        if (m_depth == 0 && kind != Kind::object) fail(m_origin, "header is not a JSON object");
        if (m_depth == 1) top_level_value(kind);
        else if (m_depth == 2 && m_in_metadata) metadata_value(kind, text);
        else if (m_depth == 2 && m_in_entry) entry_field(kind, text);
        else if (m_depth == 3 && m_in_entry) array_element(kind, number);
        return true;
    }

    void top_level_value(Kind kind) {
        if (m_key == "__metadata__") {
            if (m_metadata_seen) fail(m_origin, "header lists \"__metadata__\" twice");
            m_metadata_seen = true;
            if (kind != Kind::null && kind != Kind::object) fail(m_origin, "__metadata__ is not an object");
            m_in_metadata = kind == Kind::object;
            return;
        }
        if (kind != Kind::object) fail(m_origin, "tensor " + m_key + ": entry is not an object");
        m_in_entry = true;
        m_raw.dtype = m_raw.shape = m_raw.offsets = Seen::absent;   // keeps the vectors' storage
        m_raw.bad_dim = m_raw.bad_offset = false;
    }

    void metadata_value(Kind kind, const std::string* text) {
        if (kind != Kind::string) fail(m_origin, "__metadata__ value of \"" + m_field_key + "\" is not a string");
        m_out.metadata[m_field_key] = *text;
    }

    void entry_field(Kind kind, const std::string* text) {
        m_field = m_field_key == "dtype" ? Field::dtype
                  : m_field_key == "shape" ? Field::shape
                  : m_field_key == "data_offsets" ? Field::offsets
                                                  : Field::other;
        const auto seen = [](bool right_type) { return right_type ? Seen::ok : Seen::wrong_type; };
        switch (m_field) {
            case Field::dtype:
                m_raw.dtype = seen(kind == Kind::string);
                if (text) m_raw.dtype_name = *text;
                break;
            case Field::shape:
                m_raw.shape = seen(kind == Kind::array);
                m_raw.dims.clear();
                break;
            case Field::offsets:
                m_raw.offsets = seen(kind == Kind::array);
                m_raw.offset_values.clear();
                break;
            case Field::other: break;
        }
    }

    void array_element(Kind kind, uint64_t number) {
        const bool ok = kind == Kind::unsigned_int;
        if (m_field == Field::shape) {
            if (ok) m_raw.dims.push_back(number);
            m_raw.bad_dim |= !ok;
        } else if (m_field == Field::offsets) {
            if (ok) m_raw.offset_values.push_back(number);
            m_raw.bad_offset |= !ok;
        }
    }

    const std::string& m_origin;
    SafetensorsHeader& m_out;
    int m_depth = 0;
    std::string m_key, m_field_key;
    Field m_field = Field::other;
    RawEntry m_raw;
    bool m_in_entry = false, m_in_metadata = false, m_metadata_seen = false;
};

void reject_duplicate_names(const std::vector<TensorInfo>& tensors, const std::string& origin) {
    std::vector<const std::string*> names(tensors.size());
    std::transform(tensors.begin(), tensors.end(), names.begin(), [](const TensorInfo& t) { return &t.name; });
    std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    const auto twice = std::adjacent_find(names.begin(), names.end(),
                                          [](const std::string* a, const std::string* b) { return *a == *b; });
    if (twice != names.end()) fail(origin, "header lists tensor \"" + **twice + "\" twice");
}

}  // namespace

void parse_header_json(std::string_view text, const std::string& origin, SafetensorsHeader& out) {
    HeaderSax fast(origin, out);
    if (!fast_json::parse(text, fast)) {   // declined: nlohmann's parser decides, from scratch
        out.tensors.clear();
        out.metadata.clear();
        HeaderSax sax(origin, out);
        json::sax_parse(text.begin(), text.end(), &sax);
    }
    reject_duplicate_names(out.tensors, origin);
}

}  // namespace sy
