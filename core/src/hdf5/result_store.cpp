// ResultFile: analysis results in a plain HDF5 file of their own ("-o OUT.h5"). Written
// under a temporary name and renamed on commit, like export's staged folder, so a failed or
// cancelled analysis never leaves a half-written OUT and never touches the input trace.
#include "switchyard/core/result_store.h"

#include <unistd.h>


#include "h5_util.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/utc_time.h"

namespace sy {

namespace fs = std::filesystem;

struct ResultFile::Impl {
    fs::path out, temporary;
    std::string where;   // OUT, for messages
    h5::Handle file;
    bool committed = false;

    ~Impl() {
        if (committed) return;
        file.reset();
        std::error_code ec;
        fs::remove(temporary, ec);
    }
    h5::Handle link_properties() const {
        h5::Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
        H5Pset_create_intermediate_group(lcpl, 1);
        return lcpl;
    }
    bool exists(const std::string& path) const;
    h5::Handle object(const std::string& path);
    void write_numbers(const std::string& path, hid_t file_type, hid_t mem_type, const void* data, std::size_t count,
                       std::vector<uint64_t> dims);
};

namespace {

void check_output(const fs::path& out, const ResultProvenance& provenance, bool overwrite) {
    for (const fs::path& input : provenance.inputs)
        SY_CHECK(!same_file(out, input), UsageError,
                 out.string() + ": the output would replace the input trace; results go to a file of their own");
    SY_CHECK(overwrite || !fs::exists(out), UsageError, out.string() + ": already exists (--force replaces it)");
    SY_CHECK(!fs::is_directory(out), UsageError, out.string() + ": is a folder");
    const fs::path parent = fs::absolute(out).parent_path();
    SY_CHECK(fs::is_directory(parent), UsageError, out.string() + ": folder " + parent.string() + " does not exist");
}

}  // namespace

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (fs::weakly_canonical(fs::absolute(a), ec) == fs::weakly_canonical(fs::absolute(b), ec)) return true;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

bool ResultFile::Impl::exists(const std::string& path) const {
    // H5Lexists fails on a path whose middle is missing, so walk it one component at a time.
    std::string prefix;
    for (std::size_t begin = 1; begin <= path.size();) {
        const std::size_t end = std::min(path.find('/', begin), path.size());
        prefix = path.substr(0, end);
        if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
        begin = end + 1;
    }
    return true;
}

h5::Handle ResultFile::Impl::object(const std::string& path) {
    if (path == "/" || exists(path))
        return h5::Handle(h5::check_id(H5Oopen(file, path.c_str(), H5P_DEFAULT), where, "cannot open " + path));
    const h5::Handle lcpl = link_properties();
    return h5::Handle(h5::check_id(H5Gcreate2(file, path.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), where,
                                   "cannot create group " + path));
}

void ResultFile::Impl::write_numbers(const std::string& path, hid_t file_type, hid_t mem_type, const void* data,
                                     std::size_t count, std::vector<uint64_t> dims) {
    if (dims.empty()) dims = {count};
    uint64_t product = 1;
    for (uint64_t d : dims) product *= d;
    SY_CHECK(product == count, ShapeMismatch,
             where + ": " + path + ": " + std::to_string(count) + " values for a shape of " + std::to_string(product));
    const std::vector<hsize_t> shape(dims.begin(), dims.end());
    h5::Handle space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr));
    const h5::Handle lcpl = link_properties();
    h5::Handle dataset(h5::check_id(H5Dcreate2(file, path.c_str(), file_type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT),
                                    where, "cannot create " + path));
    if (count > 0)
        h5::check(H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), where, "cannot write " + path);
}

ResultFile ResultFile::create(const fs::path& out, const ResultProvenance& provenance, bool overwrite) {
    h5::init();
    check_output(out, provenance, overwrite);
    auto impl = std::make_unique<Impl>();
    impl->out = out;
    impl->where = out.string();
    impl->temporary = fs::absolute(out).parent_path() /
                      ("." + out.filename().string() + ".partial-" + std::to_string(::getpid()));
    impl->file = h5::Handle(h5::check_id(
        H5Fcreate(impl->temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), impl->where, "cannot create"));
    ResultFile result(std::move(impl));
    std::string inputs;
    for (const fs::path& input : provenance.inputs) inputs += (inputs.empty() ? "" : "\n") + fs::absolute(input).string();
    result.attribute("/", "kind", provenance.kind);
    result.attribute("/", "format_version", result_format_version);
    result.attribute("/", "tool_version", std::string("switchyard ") + SWITCHYARD_VERSION);
    result.attribute("/", "command_line", provenance.command_line);
    result.attribute("/", "created", utc_now_iso8601());
    result.attribute("/", "inputs", inputs);
    return result;
}

ResultFile::ResultFile(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ResultFile::ResultFile(ResultFile&&) noexcept = default;
ResultFile& ResultFile::operator=(ResultFile&&) noexcept = default;
ResultFile::~ResultFile() = default;

const fs::path& ResultFile::output_path() const { return m_impl->out; }

void ResultFile::write(const std::string& path, const std::vector<double>& values, std::vector<uint64_t> dims) {
    m_impl->write_numbers(path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data(), values.size(), std::move(dims));
}
void ResultFile::write(const std::string& path, const std::vector<int64_t>& values, std::vector<uint64_t> dims) {
    m_impl->write_numbers(path, H5T_STD_I64LE, H5T_NATIVE_INT64, values.data(), values.size(), std::move(dims));
}
void ResultFile::write(const std::string& path, const std::vector<int32_t>& values, std::vector<uint64_t> dims) {
    m_impl->write_numbers(path, H5T_STD_I32LE, H5T_NATIVE_INT32, values.data(), values.size(), std::move(dims));
}
void ResultFile::write(const std::string& path, const std::vector<std::string>& values, std::vector<uint64_t> dims) {
    std::size_t width = 1;
    for (const auto& value : values) width = std::max(width, value.size());
    const h5::Handle type = h5::string_type(width);
    const std::vector<char> cells = h5::pack_strings(values, width);
    m_impl->write_numbers(path, type, type, cells.data(), values.size(), std::move(dims));
}

void ResultFile::attribute(const std::string& object, const std::string& name, int64_t value) {
    h5::write_attribute(m_impl->object(object), name, value, m_impl->where);
}
void ResultFile::attribute(const std::string& object, const std::string& name, const std::string& value) {
    h5::write_attribute(m_impl->object(object), name, value, m_impl->where);
}
void ResultFile::attribute(const std::string& object, const std::string& name, double value) {
    const h5::Handle target = m_impl->object(object);
    h5::Handle space(H5Screate(H5S_SCALAR));
    if (H5Aexists(target, name.c_str()) > 0)
        h5::check(H5Adelete(target, name.c_str()), m_impl->where, "cannot replace attribute " + name);
    h5::Handle attr(h5::check_id(H5Acreate2(target, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                                 m_impl->where, "cannot create attribute " + name));
    h5::check(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value), m_impl->where, "cannot write attribute " + name);
}

void ResultFile::commit() {
    m_impl->file.close();
    std::error_code ec;
    fs::rename(m_impl->temporary, m_impl->out, ec);
    SY_CHECK(!ec, IoError, m_impl->where + ": cannot rename " + m_impl->temporary.string() + " into place: " + ec.message());
    m_impl->committed = true;
}

}  // namespace sy
