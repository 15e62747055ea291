#include "switchyard/core/checkpoint.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

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
    std::unordered_map<std::string_view, std::size_t> by_name;   // views into `tensors`' names
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

// Keeps the tensors the index names, in the shard it names them in (a tensor the index does not
// name is not part of the model: HF ignores it too), and checks that every name it lists is
// there. One merge of two sorted lists, linear in the tensor count (DeepSeek-V3: 91,991).
void keep_indexed_tensors(Checkpoint::Impl& impl, const ShardIndex& index, const fs::path& index_file) {
    std::vector<TensorInfo> kept;
    kept.reserve(index.entries.size());
    auto tensor = impl.tensors.begin();
    for (const auto& [name, file] : index.entries) {
        while (tensor != impl.tensors.end() && tensor->name < name) ++tensor;
        bool found = false;
        for (; tensor != impl.tensors.end() && tensor->name == name; ++tensor) {
            if (tensor->file_index != file || found) continue;
            kept.push_back(std::move(*tensor));
            found = true;
        }
        if (!found)
            throw CheckpointError(impl.files[file] + ": tensor " + name + " is named by " +
                                  index_file.filename().string() + " but the shard does not contain it");
    }
    impl.tensors = std::move(kept);
}

// Every shard's header, parsed on up to 8 threads (one header is a few MB of JSON for the largest
// models: 163 of them for DeepSeek-V3). An error is reported for the first file in order that
// has one, whichever thread met it first.
std::vector<SafetensorsHeader> read_headers(const fs::path& dir, const std::vector<std::string>& files) {
    for (const std::string& name : files)
        if (!fs::exists(dir / name))
            throw CheckpointError((dir / name).string() + ": shard named in model.safetensors.index.json is missing");
    std::vector<SafetensorsHeader> headers(files.size());
    std::vector<std::exception_ptr> errors(files.size());
    const auto read_every = [&](std::size_t first, std::size_t step) {
        for (std::size_t i = first; i < files.size(); i += step) {
            try {
                headers[i] = read_safetensors_header(dir / files[i]);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    const std::size_t workers = std::min<std::size_t>({files.size(), 8, std::max(1u, std::thread::hardware_concurrency())});
    std::vector<std::thread> threads;
    for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(read_every, w, workers);
    read_every(0, workers);
    for (std::thread& t : threads) t.join();
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
    return headers;
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
    impl->headers = read_headers(dir, impl->files);
    std::size_t count = 0;
    for (const SafetensorsHeader& header : impl->headers) count += header.tensors.size();
    impl->tensors.reserve(count);
    for (std::size_t i = 0; i < impl->headers.size(); ++i) {
        for (TensorInfo& t : impl->headers[i].tensors) {
            t.file_index = i;
            impl->tensors.push_back(std::move(t));
        }
        impl->headers[i].tensors.clear();
    }
    std::sort(impl->tensors.begin(), impl->tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.name != b.name ? a.name < b.name : a.file_index < b.file_index;
    });
    if (index) keep_indexed_tensors(*impl, *index, index_file);
    impl->by_name.reserve(impl->tensors.size());
    for (std::size_t i = 0; i < impl->tensors.size(); ++i) impl->by_name.emplace(impl->tensors[i].name, i);
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
    const auto it = m_impl->by_name.find(name);
    return it == m_impl->by_name.end() ? nullptr : &m_impl->tensors[it->second];
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

namespace {

// Bytes [begin, begin + length) of the tensor's data, clipped to it, as a file offset and length.
std::pair<uint64_t, uint64_t> tensor_range(uint64_t data_offset, const TensorInfo& tensor, uint64_t begin, uint64_t length) {
    begin = std::min(begin, tensor.nbytes());
    return {data_offset + tensor.data_begin + begin, std::min(length, tensor.nbytes() - begin)};
}

}  // namespace

void Checkpoint::release(const TensorInfo& tensor, uint64_t begin, uint64_t length) const {
    const FileMapping& map = m_impl->mapping(tensor.file_index);
    const auto [offset, bytes] = tensor_range(m_impl->headers[tensor.file_index].data_offset, tensor, begin, length);
    map.release_pages(offset, bytes);
}

void Checkpoint::populate(const TensorInfo& tensor, uint64_t begin, uint64_t length) const {
    const FileMapping& map = m_impl->mapping(tensor.file_index);
    const auto [offset, bytes] = tensor_range(m_impl->headers[tensor.file_index].data_offset, tensor, begin, length);
    map.populate_pages(offset, bytes);
}

double Checkpoint::cached_fraction(const TensorInfo& tensor, uint64_t begin, uint64_t length) const {
    const FileMapping& map = m_impl->mapping(tensor.file_index);
    const auto [offset, bytes] = tensor_range(m_impl->headers[tensor.file_index].data_offset, tensor, begin, length);
    return map.cached_fraction(offset, bytes);
}

}  // namespace sy
