// model_fingerprint(): identifies the model a trace was computed from, so `trace --resume`
// refuses to continue a file with a different checkpoint (docs/hdf5-schema.md).
#include <algorithm>
#include <fstream>

#include "switchyard/core/sha256.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"

namespace sy {
namespace {

// Hashes a file's first `limit` bytes (all when smaller), with its name and length as framing
// so that moving bytes between files changes the digest.
void hash_file_prefix(Sha256& hash, const std::filesystem::path& path, const std::string& name, uint64_t limit) {
    std::ifstream in(path, std::ios::binary);
    SY_CHECK(in, IoError, path.string() + ": cannot open");
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    std::string bytes(static_cast<std::size_t>(std::min(limit, ec ? 0 : size)), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(limit));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    hash.update(name + '\0' + std::to_string(bytes.size()) + '\0');
    hash.update(bytes);
}

// Size of the safetensors header including its 8-byte length prefix.
uint64_t safetensors_header_span(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char prefix[8] = {};
    in.read(reinterpret_cast<char*>(prefix), 8);
    SY_CHECK(in.gcount() == 8, CheckpointError, path.string() + ": too short for a safetensors header");
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = length << 8 | prefix[i];
    return 8 + length;
}

}  // namespace

std::string model_fingerprint(const Model& model) {
    const std::filesystem::path& dir = model.checkpoint.dir();
    Sha256 hash;
    hash_file_prefix(hash, dir / "config.json", "config.json", UINT64_MAX);
    for (const std::string& file : model.checkpoint.files())
        hash_file_prefix(hash, dir / file, file, safetensors_header_span(dir / file));
    return hash.hex_digest();
}

}  // namespace sy
