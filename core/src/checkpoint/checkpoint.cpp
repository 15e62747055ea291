#include "switchyard/core/checkpoint.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "shard_index.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/file_mapping.h"
#include "switchyard/core/safetensors_header.h"

namespace fs = std::filesystem;

namespace sy {

struct Checkpoint::Impl {
    fs::path dir;
    bool sharded = false;
    std::vector<std::string> files;
    std::vector<SafetensorsHeader> headers;  // one per file, tensors moved out
    std::vector<TensorInfo> tensors;         // sorted by name
    mutable std::mutex map_mutex;
    mutable std::vector<std::optional<FileMapping>> mappings;

    const FileMapping& mapping(std::size_t file_index) const {
        std::lock_guard<std::mutex> lock(map_mutex);
        auto& slot = mappings[file_index];
        if (!slot) slot.emplace(dir / files[file_index]);
        return *slot;
    }
};

namespace {

std::string other_safetensors_hint(const fs::path& dir) {
    std::string names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".safetensors") names += (names.empty() ? "" : ", ") + entry.path().filename().string();
    }
    return names.empty() ? "" : " (found " + names + ", which are not weights named by the Hub layout)";
}

void add_file_tensors(Checkpoint::Impl& impl, std::size_t file_index, const ShardIndex* index) {
    auto& header = impl.headers[file_index];
    for (auto& t : header.tensors) {
        t.file_index = file_index;
        if (index) {
            auto it = index->weight_map.find(t.name);
            // A tensor the index does not name is not part of the model (HF ignores it too).
            if (it == index->weight_map.end() || it->second != impl.files[file_index]) continue;
        }
        impl.tensors.push_back(t);
    }
}

void check_index_complete(const Checkpoint::Impl& impl, const ShardIndex& index, const fs::path& index_file) {
    for (const auto& [name, shard] : index.weight_map) {
        auto it = std::lower_bound(impl.tensors.begin(), impl.tensors.end(), name,
                                   [](const TensorInfo& t, const std::string& n) { return t.name < n; });
        if (it == impl.tensors.end() || it->name != name)
            throw CheckpointError(shard + ": tensor " + name + " is named by " + index_file.filename().string() +
                                  " but the shard does not contain it");
    }
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw CheckpointError(dir.string() + ": not a directory");
    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    const fs::path index_file = dir / "model.safetensors.index.json";
    std::optional<ShardIndex> index;
    if (fs::exists(index_file)) {
        index = read_shard_index(index_file);
        impl->files = index->files;
        impl->sharded = true;
    } else if (fs::exists(dir / "model.safetensors")) {
        impl->files = {"model.safetensors"};
    } else {
        throw CheckpointError(dir.string() + ": no model.safetensors or model.safetensors.index.json" +
                              other_safetensors_hint(dir));
    }
    for (std::size_t i = 0; i < impl->files.size(); ++i) {
        const fs::path file = dir / impl->files[i];
        if (!fs::exists(file))
            throw CheckpointError(file.string() + ": shard named in model.safetensors.index.json is missing");
        impl->headers.push_back(read_safetensors_header(file));
        add_file_tensors(*impl, i, index ? &*index : nullptr);
    }
    std::sort(impl->tensors.begin(), impl->tensors.end(),
              [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
    for (std::size_t i = 1; i < impl->tensors.size(); ++i) {
        if (impl->tensors[i].name == impl->tensors[i - 1].name)
            throw CheckpointError(impl->files[impl->tensors[i].file_index] + ": tensor " + impl->tensors[i].name +
                                  " also appears in " + impl->files[impl->tensors[i - 1].file_index]);
    }
    if (index) check_index_complete(*impl, *index, index_file);
    for (auto& h : impl->headers) h.tensors.clear();
    impl->mappings.resize(impl->files.size());
    return Checkpoint(std::move(impl));
}

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

const fs::path& Checkpoint::dir() const { return m_impl->dir; }
const std::vector<std::string>& Checkpoint::files() const { return m_impl->files; }
bool Checkpoint::is_sharded() const { return m_impl->sharded; }
const std::vector<TensorInfo>& Checkpoint::tensors() const { return m_impl->tensors; }

const TensorInfo* Checkpoint::find(std::string_view name) const {
    const auto& ts = m_impl->tensors;
    auto it = std::lower_bound(ts.begin(), ts.end(), name,
                               [](const TensorInfo& t, std::string_view n) { return t.name < n; });
    return (it != ts.end() && it->name == name) ? &*it : nullptr;
}

const TensorInfo& Checkpoint::at(std::string_view name) const {
    if (const TensorInfo* t = find(name)) return *t;
    throw CheckpointError(m_impl->dir.string() + ": tensor " + std::string(name) + " is missing");
}

const std::map<std::string, std::string>& Checkpoint::file_metadata(std::size_t file_index) const {
    return m_impl->headers.at(file_index).metadata;
}

uint64_t Checkpoint::total_tensor_bytes() const {
    uint64_t total = 0;
    for (const auto& t : m_impl->tensors) total += t.nbytes();
    return total;
}

TensorView Checkpoint::view(const TensorInfo& tensor) const {
    const FileMapping& map = m_impl->mapping(tensor.file_index);
    const uint64_t offset = m_impl->headers[tensor.file_index].data_offset + tensor.data_begin;
    // The file may have shrunk since its header was validated.
    if (offset + tensor.nbytes() > map.size())
        throw CheckpointError(m_impl->files[tensor.file_index] + ": tensor " + tensor.name +
                              " lies past the end of the file (file changed since it was opened?)");
    return TensorView{&tensor, map.data() + offset};
}

void Checkpoint::release(const TensorInfo& tensor) const {
    const FileMapping& map = m_impl->mapping(tensor.file_index);
    map.release_pages(m_impl->headers[tensor.file_index].data_offset + tensor.data_begin, tensor.nbytes());
}

}  // namespace sy
