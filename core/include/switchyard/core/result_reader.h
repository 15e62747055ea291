#pragma once
// Reads the small HDF5 result files that ResultFile writes (result_store.h): scalar attributes
// and whole n-d datasets, as the GUI and the editing verbs need them. Also reads files another
// tool rewrote (variable-length strings, other numeric widths). No HDF5 headers here.
// Thread: one thread at a time per object.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sy {

class ResultReader {
public:
    // Throws IoError when the file cannot be opened as HDF5.
    static ResultReader open(const std::filesystem::path& path);
    ResultReader(ResultReader&&) noexcept;
    ResultReader& operator=(ResultReader&&) noexcept;
    ~ResultReader();

    bool has(const std::string& path) const;                                      // group or dataset
    bool has_attribute(const std::string& object, const std::string& name) const;

    // Each throws UsageError naming the file and the object when it is missing or of another kind.
    std::string string_attribute(const std::string& object, const std::string& name) const;
    int64_t int_attribute(const std::string& object, const std::string& name) const;
    double double_attribute(const std::string& object, const std::string& name) const;

    // Whole dataset, converted to the asked type; `dims` (optional) receives its shape.
    std::vector<double> doubles(const std::string& path, std::vector<uint64_t>* dims = nullptr) const;
    std::vector<int64_t> ints(const std::string& path, std::vector<uint64_t>* dims = nullptr) const;
    std::vector<float> floats(const std::string& path, std::vector<uint64_t>* dims = nullptr) const;
    std::vector<std::string> strings(const std::string& path) const;

    const std::filesystem::path& path() const;

    struct Impl;

private:
    explicit ResultReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace sy
