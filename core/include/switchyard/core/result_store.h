#pragma once
// Analysis result files (`stats/affinity/place/compare -o OUT.h5`): small HDF5 files of
// plain groups, n-d datasets and scalar attributes that h5py reads without Switchyard. The layout
// of each verb's file is documented in docs/hdf5-schema.md ("Analysis result files"). No HDF5
// headers here (style.md rule 15).
//
// Safety (the same rules as `export`): the file is written under a hidden temporary name beside
// OUT and renamed over OUT only by commit(), so an interrupted or failed analysis leaves nothing
// half-written; OUT may never be one of the input traces.
//
// Thread: one thread at a time per object.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sy {

inline constexpr int64_t result_format_version = 1;

struct ResultProvenance {
    std::string kind;                             // "stats", "affinity", "place", "compare", ...
    std::string command_line;                     // as typed
    std::vector<std::filesystem::path> inputs;    // the traces analysed
};

class ResultFile {
public:
    // Checks OUT before any work is done: UsageError when OUT is one of `provenance.inputs`
    // (same file, by path or by inode), when OUT exists and !overwrite, or when its folder does
    // not exist. Then creates the temporary file and writes the root attributes `kind`,
    // `format_version`, `tool_version`, `command_line`, `created` (ISO 8601 UTC) and `inputs`
    // (absolute paths, one per line).
    static ResultFile create(const std::filesystem::path& out, const ResultProvenance& provenance, bool overwrite);

    ResultFile(ResultFile&&) noexcept;
    ResultFile& operator=(ResultFile&&) noexcept;
    ~ResultFile();   // not committed: closes and deletes the temporary file

    // `path`s are absolute HDF5 paths ("/stats/layer_3/counts"); missing parent groups are
    // created. Datasets are row-major with shape `dims` (product(dims) == values.size(), else
    // ShapeMismatch); an empty `dims` means a 1-d dataset of values.size().
    void write(const std::string& path, const std::vector<double>& values, std::vector<uint64_t> dims = {});
    void write(const std::string& path, const std::vector<int64_t>& values, std::vector<uint64_t> dims = {});
    void write(const std::string& path, const std::vector<int32_t>& values, std::vector<uint64_t> dims = {});
    // Fixed-length, null-padded UTF-8 (width = the longest string, at least 1).
    void write(const std::string& path, const std::vector<std::string>& values, std::vector<uint64_t> dims = {});

    // Scalar attributes on the group or dataset at `object` (a group is created if nothing is
    // there yet). Strings are null-terminated UTF-8; integers int64; reals float64.
    void attribute(const std::string& object, const std::string& name, int64_t value);
    void attribute(const std::string& object, const std::string& name, double value);
    void attribute(const std::string& object, const std::string& name, const std::string& value);
    void attribute(const std::string& object, const std::string& name, const char* value) {
        attribute(object, name, std::string(value));
    }
    void attribute(const std::string& object, const std::string& name, int value) {
        attribute(object, name, static_cast<int64_t>(value));
    }
    void attribute(const std::string& object, const std::string& name, bool value) {
        attribute(object, name, static_cast<int64_t>(value));
    }

    // Closes the file and renames it to OUT (replacing an existing OUT when overwrite was given).
    void commit();

    const std::filesystem::path& output_path() const;

    struct Impl;

private:
    explicit ResultFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// True when `a` and `b` name the same file: equal normalised absolute paths, or, when both
// exist, the same inode (hard links, symlinks, bind mounts).
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace sy
