// RAII and error plumbing over the HDF5 C API; see h5_util.h.
#include "h5_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "switchyard/core/errors.h"

namespace sy::h5 {
namespace {

constexpr unsigned k_deflate_level = 4;   // ~2x slower than level 1 for ~10% smaller routing data

herr_t collect_message(unsigned, const H5E_error2_t* error, void* client) {
    auto* message = static_cast<std::string*>(client);
    if (message->empty() && error->desc && *error->desc) *message = error->desc;
    return 0;
}

herr_t close_any(hid_t id) {
    switch (H5Iget_type(id)) {
        case H5I_FILE: return H5Fclose(id);
        case H5I_GROUP: return H5Gclose(id);
        case H5I_DATATYPE: return H5Tclose(id);
        case H5I_DATASPACE: return H5Sclose(id);
        case H5I_DATASET: return H5Dclose(id);
        case H5I_ATTR: return H5Aclose(id);
        case H5I_GENPROP_LST: return H5Pclose(id);
        default: return -1;
    }
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        m_id = other.release();
    }
    return *this;
}

void Handle::reset() {
    if (m_id >= 0) close_any(m_id);
    m_id = H5I_INVALID_HID;
}

void Handle::close() {
    if (m_id < 0) return;
    const hid_t id = release();
    check(close_any(id), "HDF5", "close failed");
}

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        H5open();
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    });
}

std::string last_error() {
    std::string message;
    // Upward: the innermost (most specific) message first, e.g. "file is already open for write".
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_message, &message);
    H5Eclear2(H5E_DEFAULT);
    return message;
}

int64_t check(int64_t status, const std::string& where, const std::string& what) {
    if (status >= 0) return status;
    const std::string detail = last_error();
    throw IoError(where + ": " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

hid_t check_id(hid_t id, const std::string& where, const std::string& what) {
    return static_cast<hid_t>(check(id, where, what));
}

Handle string_type(std::size_t width) {
    Handle type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type, std::max<std::size_t>(width, 1));
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    H5Tset_cset(type, H5T_CSET_UTF8);
    return type;
}

Handle float16_type() {
    // Sign bit 15, exponent bits 10..14, mantissa bits 0..9, bias 15: what numpy/h5py call float16.
    Handle type(H5Tcopy(H5T_IEEE_F32LE));
    H5Tset_fields(type, 15, 10, 5, 0, 10);
    H5Tset_size(type, 2);
    H5Tset_ebias(type, 15);
    return type;
}

void write_attribute(hid_t object, const std::string& name, const std::string& value, const std::string& where) {
    // Null-terminated (not padded) so h5py shows the exact string; width = length + 1.
    Handle type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type, value.size() + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    H5Tset_cset(type, H5T_CSET_UTF8);
    Handle space(H5Screate(H5S_SCALAR));
    if (H5Aexists(object, name.c_str()) > 0)
        check(H5Adelete(object, name.c_str()), where, "cannot replace attribute " + name);
    Handle attribute(check_id(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), where,
                              "cannot create attribute " + name));
    check(H5Awrite(attribute, type, value.c_str()), where, "cannot write attribute " + name);
}

void write_attribute(hid_t object, const std::string& name, int64_t value, const std::string& where) {
    Handle space(H5Screate(H5S_SCALAR));
    if (H5Aexists(object, name.c_str()) > 0)
        check(H5Adelete(object, name.c_str()), where, "cannot replace attribute " + name);
    Handle attribute(check_id(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), where,
                              "cannot create attribute " + name));
    check(H5Awrite(attribute, H5T_NATIVE_INT64, &value), where, "cannot write attribute " + name);
}

bool has_attribute(hid_t object, const std::string& name) { return H5Aexists(object, name.c_str()) > 0; }

std::string object_name(hid_t object) {
    const ssize_t length = H5Iget_name(object, nullptr, 0);
    if (length <= 0) return "?";
    std::string name(static_cast<std::size_t>(length) + 1, '\0');
    H5Iget_name(object, name.data(), name.size());
    name.resize(static_cast<std::size_t>(length));
    return name;
}

namespace {

const char* class_name(H5T_class_t type_class) {
    switch (type_class) {
        case H5T_INTEGER: return "an integer";
        case H5T_FLOAT: return "a float";
        case H5T_STRING: return "a string";
        case H5T_ENUM: return "an enum";
        case H5T_COMPOUND: return "a compound";
        case H5T_ARRAY: return "an array type";
        case H5T_VLEN: return "a variable-length sequence";
        default: return "a non-numeric type";
    }
}

// "/meta attribute top_k" for messages.
std::string attribute_label(hid_t object, const std::string& name) { return object_name(object) + " attribute " + name; }

struct OpenAttribute {
    Handle attribute, type;
    std::string label;
};

// Opens an attribute holding one value (scalar or a one-element array).
OpenAttribute open_attribute(hid_t object, const std::string& name, const std::string& where) {
    OpenAttribute a;
    a.label = attribute_label(object, name);
    a.attribute = Handle(check_id(H5Aopen(object, name.c_str(), H5P_DEFAULT), where, "missing " + a.label));
    a.type = Handle(check_id(H5Aget_type(a.attribute), where, "cannot read the type of " + a.label));
    Handle space(check_id(H5Aget_space(a.attribute), where, "cannot read the shape of " + a.label));
    const hssize_t count = H5Sget_simple_extent_npoints(space);
    SY_CHECK(count == 1, UsageError,
             where + ": " + a.label + ": expected one value, found " + std::to_string(count));
    return a;
}

// Variable-length strings are read in the file's character set: HDF5 has no ASCII <-> UTF-8
// conversion ("no appropriate function for conversion path").
Handle variable_string_type(hid_t file_type) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(file_type));
    return mem;
}

int64_t signed_value(const std::vector<unsigned char>& bytes, bool is_signed) {
    uint64_t raw = 0;   // native (little-endian on every platform we build for)
    std::memcpy(&raw, bytes.data(), std::min<std::size_t>(bytes.size(), 8));
    const std::size_t bits = bytes.size() * 8;
    if (is_signed && bits < 64 && (raw >> (bits - 1)) & 1) raw |= ~uint64_t(0) << bits;
    return static_cast<int64_t>(raw);
}

}  // namespace

std::string read_string_attribute(hid_t object, const std::string& name, const std::string& where) {
    const OpenAttribute a = open_attribute(object, name, where);
    const H5T_class_t type_class = H5Tget_class(a.type);
    SY_CHECK(type_class == H5T_STRING, UsageError,
             where + ": " + a.label + ": expected a string, found " + class_name(type_class));
    if (H5Tis_variable_str(a.type) > 0) {   // written by another tool (h5py's `str`)
        Handle mem = variable_string_type(a.type);
        char* text = nullptr;
        check(H5Aread(a.attribute, mem, &text), where, "cannot read " + a.label);
        std::string value = text ? text : "";
        H5free_memory(text);
        return value;
    }
    const std::size_t width = H5Tget_size(a.type);
    std::vector<char> buffer(width + 1, '\0');
    check(H5Aread(a.attribute, a.type, buffer.data()), where, "cannot read " + a.label);
    return std::string(buffer.data(), strnlen(buffer.data(), width));
}

int64_t read_int_attribute(hid_t object, const std::string& name, const std::string& where) {
    const OpenAttribute a = open_attribute(object, name, where);
    const H5T_class_t type_class = H5Tget_class(a.type);
    if (type_class == H5T_INTEGER) {
        int64_t value = 0;
        check(H5Aread(a.attribute, H5T_NATIVE_INT64, &value), where, "cannot read " + a.label);
        return value;
    }
    if (type_class == H5T_ENUM) {   // h5py stores numpy bools as an enum {FALSE, TRUE} over int8
        Handle native(H5Tget_native_type(a.type, H5T_DIR_DEFAULT));
        Handle base(H5Tget_super(native));
        std::vector<unsigned char> bytes(H5Tget_size(native));
        check(H5Aread(a.attribute, native, bytes.data()), where, "cannot read " + a.label);
        return signed_value(bytes, H5Tget_sign(base) == H5T_SGN_2);
    }
    if (type_class == H5T_FLOAT) {
        double value = 0;
        check(H5Aread(a.attribute, H5T_NATIVE_DOUBLE, &value), where, "cannot read " + a.label);
        SY_CHECK(std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 9.0e15, UsageError,
                 where + ": " + a.label + ": expected an integer, found " + std::to_string(value));
        return static_cast<int64_t>(value);
    }
    throw UsageError(where + ": " + a.label + ": expected an integer, found " + class_name(type_class));
}

void write_int_dataset(hid_t group, const std::string& name, const std::vector<int32_t>& values,
                       const std::string& where) {
    const hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr));
    Handle dataset(
        check_id(H5Dcreate2(group, name.c_str(), H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), where,
                 "cannot create " + name));
    if (!values.empty())
        check(H5Dwrite(dataset, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), where,
              "cannot write " + name);
}

void write_string_dataset(hid_t group, const std::string& name, const std::vector<std::string>& values,
                          const std::string& where) {
    std::size_t width = 1;
    for (const auto& value : values) width = std::max(width, value.size());
    const Handle type = string_type(width);
    const hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr));
    // Compressed: a 150k-token vocabulary in fixed-width cells is mostly padding.
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    if (!values.empty()) {
        const hsize_t chunk[1] = {std::min<hsize_t>(values.size(), 16384)};
        H5Pset_chunk(dcpl, 1, chunk);
        H5Pset_deflate(dcpl, k_deflate_level);
    }
    Handle dataset(check_id(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), where,
                            "cannot create " + name));
    const std::vector<char> cells = pack_strings(values, width);
    if (!values.empty())
        check(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()), where, "cannot write " + name);
}

void create_extendible(hid_t file, const ExtendibleSpec& spec, const std::string& where) {
    const int rank = static_cast<int>(spec.dims.size());
    std::vector<hsize_t> max_dims = spec.dims;
    max_dims[spec.grow_axis] = H5S_UNLIMITED;
    Handle space(H5Screate_simple(rank, spec.dims.data(), max_dims.data()));
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    check(H5Pset_chunk(dcpl, rank, spec.chunk.data()), where, "bad chunk shape for " + spec.name);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, k_deflate_level);
    Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
    H5Pset_create_intermediate_group(lcpl, 1);
    Handle dataset(check_id(H5Dcreate2(file, spec.name.c_str(), spec.file_type, space, lcpl, dcpl, H5P_DEFAULT), where,
                            "cannot create " + spec.name));
}

Handle open_dataset(hid_t file, const std::string& name, std::size_t cache_bytes, const std::string& where) {
    Handle dapl(H5Pcreate(H5P_DATASET_ACCESS));
    // 12421 slots (prime): hash collisions evict chunks early when slots are few (HDF5 docs).
    H5Pset_chunk_cache(dapl, 12421, std::max<std::size_t>(cache_bytes, 1 << 20), 1.0);
    return Handle(check_id(H5Dopen2(file, name.c_str(), dapl), where, "missing dataset " + name));
}

std::vector<hsize_t> dataset_dims(hid_t dataset, const std::string& where) {
    Handle space(check_id(H5Dget_space(dataset), where, "cannot read the shape of " + object_name(dataset)));
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    return dims;
}

void append_rows(hid_t dataset, hid_t mem_type, int grow_axis, hsize_t old_length, hsize_t rows, const void* data,
                 const std::string& where) {
    if (rows == 0) return;
    std::vector<hsize_t> dims = dataset_dims(dataset, where);
    dims[grow_axis] = old_length + rows;
    check(H5Dset_extent(dataset, dims.data()), where, "cannot extend a dataset");
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[grow_axis] = old_length;
    count[grow_axis] = rows;
    Handle file_space(H5Dget_space(dataset));
    check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), where,
          "bad selection");
    Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    check(H5Dwrite(dataset, mem_type, mem_space, file_space, H5P_DEFAULT, data), where, "cannot write a batch");
}

void set_length(hid_t dataset, int grow_axis, hsize_t length, const std::string& where) {
    std::vector<hsize_t> dims = dataset_dims(dataset, where);
    if (dims[grow_axis] == length) return;
    dims[grow_axis] = length;
    check(H5Dset_extent(dataset, dims.data()), where, "cannot resize a dataset");
}

void read_box(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
              void* out, const std::string& where) {
    for (hsize_t c : count)
        if (c == 0) return;
    Handle file_space(H5Dget_space(dataset));
    check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), where,
          "bad selection in " + object_name(dataset));
    Handle mem_space(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
    check(H5Dread(dataset, mem_type, mem_space, file_space, H5P_DEFAULT, out), where,
          "cannot read " + object_name(dataset));
}

std::vector<char> pack_strings(const std::vector<std::string>& values, std::size_t width) {
    std::vector<char> cells(values.size() * width, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
        std::memcpy(cells.data() + i * width, values[i].data(), std::min(width, values[i].size()));
    return cells;
}

namespace {

std::vector<std::string> read_fixed_strings(hid_t dataset, hid_t file_type, hsize_t begin, hsize_t count,
                                            const std::string& where) {
    const std::size_t width = std::max<std::size_t>(H5Tget_size(file_type), 1);
    std::vector<char> cells(static_cast<std::size_t>(count) * width);
    Handle mem(H5Tcopy(file_type));   // same size, padding and character set: no conversion
    read_box(dataset, mem, {begin}, {count}, cells.data(), where);
    std::vector<std::string> values;
    values.reserve(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i + width <= cells.size(); i += width) {
        std::size_t length = strnlen(cells.data() + i, width);
        if (H5Tget_strpad(file_type) == H5T_STR_SPACEPAD)
            while (length > 0 && cells[i + length - 1] == ' ') --length;
        values.emplace_back(cells.data() + i, length);
    }
    return values;
}

std::vector<std::string> read_variable_strings(hid_t dataset, hid_t file_type, hsize_t begin, hsize_t count,
                                               const std::string& where) {
    std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
    Handle mem = variable_string_type(file_type);
    read_box(dataset, mem, {begin}, {count}, pointers.data(), where);
    std::vector<std::string> values;
    values.reserve(pointers.size());
    for (char* text : pointers) values.emplace_back(text ? text : "");
    if (count > 0) {   // HDF5 allocated every string: give them back through the library
        Handle space(H5Screate_simple(1, &count, nullptr));
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, pointers.data());
    }
    return values;
}

}  // namespace

std::vector<std::string> read_string_rows(hid_t dataset, hsize_t begin, hsize_t count, const std::string& where) {
    Handle type(check_id(H5Dget_type(dataset), where, "cannot read the type of " + object_name(dataset)));
    const H5T_class_t type_class = H5Tget_class(type);
    SY_CHECK(type_class == H5T_STRING, UsageError,
             where + ": " + object_name(dataset) + ": expected a string dataset, found " + class_name(type_class));
    return H5Tis_variable_str(type) > 0 ? read_variable_strings(dataset, type, begin, count, where)
                                        : read_fixed_strings(dataset, type, begin, count, where);
}

}  // namespace sy::h5
