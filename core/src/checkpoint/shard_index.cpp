#include "shard_index.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fast_json.h"
#include "switchyard/core/errors.h"

namespace sy {
namespace {

using nlohmann::json;

// Collects "weight_map": {tensor: shard, ...}; every other key (DeepSeek's conversion writes
// "metadata": {}) is skipped whatever it holds.
class IndexSax {
public:
    explicit IndexSax(const std::string& origin) : m_origin(origin) {}

    bool null() { return value(nullptr); }
    bool boolean(bool) { return value(nullptr); }
    bool number_integer(json::number_integer_t) { return value(nullptr); }
    bool number_unsigned(json::number_unsigned_t) { return value(nullptr); }
    bool number_float(json::number_float_t, const std::string&) { return value(nullptr); }
    bool string(std::string& v) { return value(&v); }
    bool binary(json::binary_t&) { return value(nullptr); }
    bool start_object(std::size_t) {
        if (m_depth == 1 && m_key == "weight_map") m_found = m_in_map = true;
        else if (m_depth > 0) value(nullptr);   // the root object itself is what we want
        ++m_depth;
        return true;
    }
    bool start_array(std::size_t) {
        value(nullptr);
        ++m_depth;
        return true;
    }
    bool end_object() {
        if (--m_depth == 1) m_in_map = false;
        return true;
    }
    bool end_array() {
        --m_depth;
        return true;
    }
    bool key(std::string& k) {
        if (m_depth == 1) m_key = k;
        else if (m_depth == 2 && m_in_map) m_tensor = k;
        return true;
    }
    template <class Exception>
    bool parse_error(std::size_t, const std::string&, const Exception& e) {
        throw CheckpointError(m_origin + ": not valid JSON (" + e.what() + ")");
    }

    bool found() const { return m_found; }
    std::vector<std::pair<std::string, std::string>>& pairs() { return m_pairs; }

private:
    bool value(const std::string* text) {
        if (m_depth == 0) throw CheckpointError(m_origin + ": missing \"weight_map\" object");
        if (m_depth == 1 && m_key == "weight_map") throw CheckpointError(m_origin + ": missing \"weight_map\" object");
        if (m_depth != 2 || !m_in_map) return true;
        if (!text) throw CheckpointError(m_origin + ": weight_map entry for " + m_tensor + " is not a file name");
        if (text->empty() || text->find('/') != std::string::npos || *text == "." || *text == "..")
            throw CheckpointError(m_origin + ": weight_map entry for " + m_tensor + " names \"" + *text +
                                  "\", which is not a file in the checkpoint folder");
        m_pairs.emplace_back(m_tensor, *text);
        return true;
    }

    const std::string& m_origin;
    int m_depth = 0;
    bool m_found = false, m_in_map = false;
    std::string m_key, m_tensor;
    std::vector<std::pair<std::string, std::string>> m_pairs;   // in file order
};

}  // namespace

ShardIndex read_shard_index(const std::filesystem::path& index_file) {
    const std::string origin = index_file.string();
    std::ifstream in(index_file, std::ios::binary);
    if (!in) throw IoError(origin + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    const std::string content = text.str();
    IndexSax fast(origin);
    IndexSax slow(origin);   // nlohmann's parser decides what fast_json declines, from scratch
    const bool fast_done = fast_json::parse(content, fast);
    if (!fast_done) json::sax_parse(content.begin(), content.end(), &slow);
    IndexSax& sax = fast_done ? fast : slow;
    if (!sax.found()) throw CheckpointError(origin + ": missing \"weight_map\" object");
    auto& pairs = sax.pairs();
    if (pairs.empty()) throw CheckpointError(origin + ": weight_map is empty");
    std::map<std::string, uint32_t> file_numbers;
    for (const auto& [tensor, shard] : pairs) file_numbers.emplace(shard, 0);
    ShardIndex index;
    for (auto& [shard, number] : file_numbers) {
        number = static_cast<uint32_t>(index.files.size());
        index.files.push_back(shard);
    }
    // Stable, so that of a name listed twice the last comes last and wins. transformers writes
    // the index with sorted keys, so the sort is usually skipped.
    const auto by_name = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (!std::is_sorted(pairs.begin(), pairs.end(), by_name)) std::stable_sort(pairs.begin(), pairs.end(), by_name);
    index.entries.reserve(pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        if (i + 1 < pairs.size() && pairs[i + 1].first == pairs[i].first) continue;
        index.entries.emplace_back(std::move(pairs[i].first), file_numbers.at(pairs[i].second));
    }
    return index;
}

}  // namespace sy
