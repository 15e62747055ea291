#pragma once
// Thin RAII and error layer over the HDF5 C API (internal to core/src/hdf5). Every failing call
// becomes one sy::IoError naming the file and the operation, with HDF5's innermost message.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sy::h5 {

// Owns one hid_t and closes it with the matching H5*close.
class Handle {
public:
    Handle() = default;
    explicit Handle(hid_t id) : m_id(id) {}
    Handle(Handle&& other) noexcept : m_id(other.release()) {}
    Handle& operator=(Handle&& other) noexcept;
    ~Handle() { reset(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return m_id; }
    operator hid_t() const { return m_id; }
    bool valid() const { return m_id >= 0; }
    hid_t release() {
        const hid_t id = m_id;
        m_id = H5I_INVALID_HID;
        return id;
    }
    void reset();   // closes; errors ignored (destructor path)
    void close();   // closes; throws IoError on failure

private:
    hid_t m_id = H5I_INVALID_HID;
};

// Silences HDF5's automatic stack printing (once per process); errors are reported by check().
void init();

// The innermost message of HDF5's current error stack ("" when empty).
std::string last_error();

// Throws IoError("<where>: <what> (<HDF5 message>)") when `status` < 0; returns `status`.
int64_t check(int64_t status, const std::string& where, const std::string& what);
hid_t check_id(hid_t id, const std::string& where, const std::string& what);

// Types. Strings are fixed-length, UTF-8, null-padded (SWMR-safe).
Handle string_type(std::size_t width);
Handle float16_type();   // IEEE binary16, little-endian

// HDF5 path of an object ("/docs/domain"), for messages; "?" when it has none.
std::string object_name(hid_t object);

// Attributes on `object` (file path in `where` for messages). Reads accept what other tools
// write: variable-length strings in either character set (h5py's `str`), any integer width,
// enums (h5py's numpy bool), integral floats, one-element arrays; a wrong type is refused
// naming the attribute, expected and found.
void write_attribute(hid_t object, const std::string& name, const std::string& value, const std::string& where);
void write_attribute(hid_t object, const std::string& name, int64_t value, const std::string& where);
bool has_attribute(hid_t object, const std::string& name);
std::string read_string_attribute(hid_t object, const std::string& name, const std::string& where);
int64_t read_int_attribute(hid_t object, const std::string& name, const std::string& where);

// Whole datasets written once before SWMR starts (not extendible; strings chunked + deflated).
void write_int_dataset(hid_t group, const std::string& name, const std::vector<int32_t>& values,
                       const std::string& where);
void write_string_dataset(hid_t group, const std::string& name, const std::vector<std::string>& values,
                          const std::string& where);

// Extendible dataset: `dims` with dimension `grow_axis` starting at 0 and unlimited, chunked
// with `chunk` and compressed with shuffle + deflate.
struct ExtendibleSpec {
    std::string name;                 // path, e.g. "/routing/topk_ids"
    hid_t file_type = H5I_INVALID_HID;
    std::vector<hsize_t> dims;        // full shape, grow axis 0 at creation
    int grow_axis = 0;
    std::vector<hsize_t> chunk;
};
void create_extendible(hid_t file, const ExtendibleSpec& spec, const std::string& where);

// Opens a dataset with a raw-chunk cache of `cache_bytes` (enough for the chunks one batch
// touches, so partial chunks are not recompressed per layer).
Handle open_dataset(hid_t file, const std::string& name, std::size_t cache_bytes, const std::string& where);

std::vector<hsize_t> dataset_dims(hid_t dataset, const std::string& where);

// Grows axis `grow_axis` from `old_length` to `old_length + rows`, then writes `data` (laid out
// as the dataset shape with `rows` on the grow axis) into the new rows.
void append_rows(hid_t dataset, hid_t mem_type, int grow_axis, hsize_t old_length, hsize_t rows, const void* data,
                 const std::string& where);
// Sets the grow axis length (shrinks to drop an unfinished batch on resume; not under SWMR).
void set_length(hid_t dataset, int grow_axis, hsize_t length, const std::string& where);
// Reads the box [start, start + count) into `out` (row-major, tight).
void read_box(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
              void* out, const std::string& where);

// Fixed-length strings: pack into width-byte cells.
std::vector<char> pack_strings(const std::vector<std::string>& values, std::size_t width);
// Rows [begin, begin + count) of a 1-d string dataset, fixed-length (as Switchyard writes) or
// variable-length (h5py's `str`), either character set; trailing NULs dropped. A dataset of
// another type is refused naming it.
std::vector<std::string> read_string_rows(hid_t dataset, hsize_t begin, hsize_t count, const std::string& where);

}  // namespace sy::h5
