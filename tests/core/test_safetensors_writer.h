#pragma once
// Builds small (broken) checkpoints for validation tests: tensors listed by name, dtype and
// shape, data all zero. Starts from a fixture's tensor list so tests change one thing at a time.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "switchyard/core/checkpoint.h"
#include "switchyard/core/safetensors_writer.h"
#include "test_paths.h"

namespace sy::test {

inline std::filesystem::path fixture_dir(const std::string& name) {
    return name == "tiny-mixtral" ? examples_dir() / name : data_dir() / "models" / name;
}

// Every tensor of a fixture as (name, dtype, shape).
inline std::vector<TensorDecl> fixture_tensors(const std::string& name) {
    std::vector<TensorDecl> decls;
    const Checkpoint checkpoint = Checkpoint::open(fixture_dir(name));
    for (const TensorInfo& t : checkpoint.tensors()) decls.push_back({t.name, t.dtype, t.shape});
    return decls;
}

inline TensorDecl& find_decl(std::vector<TensorDecl>& decls, const std::string& name) {
    auto it = std::find_if(decls.begin(), decls.end(), [&](const TensorDecl& d) { return d.name == name; });
    if (it == decls.end()) throw std::runtime_error("test setup: no tensor " + name);
    return *it;
}

inline void erase_decls(std::vector<TensorDecl>& decls, const std::string& fragment) {
    decls.erase(std::remove_if(decls.begin(), decls.end(),
                               [&](const TensorDecl& d) { return d.name.find(fragment) != std::string::npos; }),
                decls.end());
}

inline void write_safetensors(const std::filesystem::path& file, const std::vector<TensorDecl>& decls) {
    SafetensorsWriter writer(file, decls, {{"format", "pt"}});
    for (const TensorDecl& d : decls) {
        const std::vector<char> zeros(d.nbytes(), 0);
        writer.write(zeros.data(), zeros.size());
    }
    writer.finish();
}

// Two shards plus model.safetensors.index.json; tensors [0, split) go to the first shard.
inline void write_sharded(const std::filesystem::path& dir, const std::vector<TensorDecl>& decls, std::size_t split) {
    const std::string first = "model-00001-of-00002.safetensors", second = "model-00002-of-00002.safetensors";
    write_safetensors(dir / first, {decls.begin(), decls.begin() + static_cast<long>(split)});
    write_safetensors(dir / second, {decls.begin() + static_cast<long>(split), decls.end()});
    std::ostringstream index;
    index << "{\"metadata\": {}, \"weight_map\": {";
    for (std::size_t i = 0; i < decls.size(); ++i)
        index << (i ? ", " : "") << '"' << decls[i].name << "\": \"" << (i < split ? first : second) << '"';
    index << "}}";
    std::ofstream(dir / "model.safetensors.index.json") << index.str();
}

inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Writes `fixture`'s config.json into `dir` with each `from` text replaced by `to`.
inline void write_config(const std::filesystem::path& dir, const std::string& fixture,
                         const std::vector<std::pair<std::string, std::string>>& edits = {}) {
    std::string config = read_text(fixture_dir(fixture) / "config.json");
    for (const auto& [from, to] : edits) {
        const std::size_t at = config.find(from);
        if (at == std::string::npos) throw std::runtime_error("test setup: config has no " + from);
        config.replace(at, from.size(), to);
    }
    std::ofstream(dir / "config.json") << config;
}

}  // namespace sy::test
