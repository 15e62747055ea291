#include "switchyard/core/safetensors_writer.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"

namespace sy {

uint64_t TensorDecl::nbytes() const {
    uint64_t n = dtype_size(dtype);
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

SafetensorsWriter::SafetensorsWriter(const std::filesystem::path& file, std::vector<TensorDecl> tensors,
                                     const std::map<std::string, std::string>& metadata)
    : m_path(file) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    for (const auto& t : tensors) {
        const uint64_t begin = m_expected;
        m_expected += t.nbytes();
        header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape}, {"data_offsets", {begin, m_expected}}};
    }
    std::string text = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
    text.append((8 - text.size() % 8) % 8, ' ');
    m_file = std::fopen(file.c_str(), "wb");
    if (!m_file) throw IoError(file.string() + ": cannot create: " + std::strerror(errno));
    unsigned char len[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    if (std::fwrite(len, 1, 8, m_file) != 8 || std::fwrite(text.data(), 1, text.size(), m_file) != text.size())
        throw IoError(file.string() + ": write failed: " + std::strerror(errno));
}

SafetensorsWriter::~SafetensorsWriter() {
    if (m_file) std::fclose(m_file);
}

void SafetensorsWriter::write(const void* data, std::size_t size) {
    if (m_written + size > m_expected)
        throw IoError(m_path.string() + ": more tensor bytes than declared in the header (bug)");
    if (size && std::fwrite(data, 1, size, m_file) != size)
        throw IoError(m_path.string() + ": write failed: " + std::strerror(errno) + " (disk full?)");
    m_written += size;
}

void SafetensorsWriter::finish() {
    if (m_written != m_expected)
        throw IoError(m_path.string() + ": " + std::to_string(m_expected - m_written) + " declared bytes never written (bug)");
    const bool ok = std::fflush(m_file) == 0;
    const bool closed = std::fclose(m_file) == 0;
    m_file = nullptr;
    if (!ok || !closed) throw IoError(m_path.string() + ": write failed: " + std::strerror(errno) + " (disk full?)");
}

}  // namespace sy
