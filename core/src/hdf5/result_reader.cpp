// ResultReader: the read side of result_store.h. Numbers are converted by HDF5 to the asked
// native type; strings may be fixed-length (ours) or variable-length (h5py's default).
#include "switchyard/core/result_reader.h"

#include <cstring>

#include "h5_util.h"
#include "switchyard/core/errors.h"

namespace sy {

namespace fs = std::filesystem;

struct ResultReader::Impl {
    fs::path path;
    std::string where;
    h5::Handle file;

    bool exists(const std::string& object) const {
        std::string prefix;
        for (std::size_t begin = 1; begin <= object.size();) {
            const std::size_t end = std::min(object.find('/', begin), object.size());
            prefix = object.substr(0, end);
            if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
            begin = end + 1;
        }
        return true;
    }
    h5::Handle open_object(const std::string& object) const {
        SY_CHECK(object == "/" || exists(object), UsageError, where + ": " + object + " is missing");
        return h5::Handle(h5::check_id(H5Oopen(file, object.c_str(), H5P_DEFAULT), where, "cannot open " + object));
    }
    h5::Handle open_dataset(const std::string& name, std::vector<uint64_t>* dims, std::size_t& count) const {
        SY_CHECK(exists(name), UsageError, where + ": dataset " + name + " is missing");
        h5::Handle dataset(h5::check_id(H5Dopen2(file, name.c_str(), H5P_DEFAULT), where, "cannot open dataset " + name));
        const std::vector<hsize_t> shape = h5::dataset_dims(dataset, where + ": " + name);
        count = 1;
        for (hsize_t d : shape) count *= static_cast<std::size_t>(d);
        if (dims) dims->assign(shape.begin(), shape.end());
        return dataset;
    }
    template <class T>
    std::vector<T> read_numbers(const std::string& name, hid_t mem_type, std::vector<uint64_t>* dims) const {
        std::size_t count = 0;
        const h5::Handle dataset = open_dataset(name, dims, count);
        const h5::Handle type(H5Dget_type(dataset));
        const H5T_class_t kind = H5Tget_class(type);
        SY_CHECK(kind == H5T_INTEGER || kind == H5T_FLOAT, UsageError,
                 where + ": dataset " + name + " holds no numbers");
        std::vector<T> values(count);
        if (count > 0)
            h5::check(H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), where,
                      "cannot read dataset " + name);
        return values;
    }
    h5::Handle open_attribute(const std::string& object, const std::string& name) const {
        const h5::Handle target = open_object(object);
        SY_CHECK(H5Aexists(target, name.c_str()) > 0, UsageError,
                 where + ": attribute " + name + " of " + object + " is missing");
        return h5::Handle(h5::check_id(H5Aopen(target, name.c_str(), H5P_DEFAULT), where, "cannot open attribute " + name));
    }
};

ResultReader ResultReader::open(const fs::path& path) {
    h5::init();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->where = path.string();
    SY_CHECK(fs::is_regular_file(path), IoError, impl->where + ": no such file");
    impl->file = h5::Handle(h5::check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), impl->where,
                                         "cannot open as HDF5"));
    return ResultReader(std::move(impl));
}

ResultReader::ResultReader(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ResultReader::ResultReader(ResultReader&&) noexcept = default;
ResultReader& ResultReader::operator=(ResultReader&&) noexcept = default;
ResultReader::~ResultReader() = default;

const fs::path& ResultReader::path() const { return m_impl->path; }

bool ResultReader::has(const std::string& path) const { return path == "/" || m_impl->exists(path); }

bool ResultReader::has_attribute(const std::string& object, const std::string& name) const {
    if (!has(object)) return false;
    const h5::Handle target = m_impl->open_object(object);
    return H5Aexists(target, name.c_str()) > 0;
}

std::string ResultReader::string_attribute(const std::string& object, const std::string& name) const {
    SY_CHECK(has_attribute(object, name), UsageError, m_impl->where + ": attribute " + name + " of " + object + " is missing");
    return h5::read_string_attribute(m_impl->open_object(object), name, m_impl->where + ": " + object);
}

int64_t ResultReader::int_attribute(const std::string& object, const std::string& name) const {
    const h5::Handle attribute = m_impl->open_attribute(object, name);
    int64_t value = 0;
    h5::check(H5Aread(attribute, H5T_NATIVE_INT64, &value), m_impl->where, "cannot read attribute " + name + " of " + object);
    return value;
}

double ResultReader::double_attribute(const std::string& object, const std::string& name) const {
    const h5::Handle attribute = m_impl->open_attribute(object, name);
    double value = 0;
    h5::check(H5Aread(attribute, H5T_NATIVE_DOUBLE, &value), m_impl->where, "cannot read attribute " + name + " of " + object);
    return value;
}

std::vector<double> ResultReader::doubles(const std::string& path, std::vector<uint64_t>* dims) const {
    return m_impl->read_numbers<double>(path, H5T_NATIVE_DOUBLE, dims);
}
std::vector<int64_t> ResultReader::ints(const std::string& path, std::vector<uint64_t>* dims) const {
    return m_impl->read_numbers<int64_t>(path, H5T_NATIVE_INT64, dims);
}
std::vector<float> ResultReader::floats(const std::string& path, std::vector<uint64_t>* dims) const {
    return m_impl->read_numbers<float>(path, H5T_NATIVE_FLOAT, dims);
}

std::vector<std::string> ResultReader::strings(const std::string& path) const {
    std::size_t count = 0;
    const h5::Handle dataset = m_impl->open_dataset(path, nullptr, count);
    return h5::read_string_rows(dataset, 0, count, m_impl->where + ": " + path);
}

}  // namespace sy
