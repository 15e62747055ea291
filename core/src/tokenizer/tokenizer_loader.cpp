// Tokenizer::Impl::load: tokenizer.json text -> validated pipeline. Every problem becomes a
// TokenizerError naming the origin (file) and the JSON path (json_fields.h).
#include <algorithm>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"
#include "tokenizer_impl.h"

namespace sy {
namespace {

using tok::json;
using tok::JsonPath;

json parse_json(std::string_view text, const std::string& origin) {
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e99999
        throw TokenizerError(origin + ": not valid JSON: " + e.what());
    }
}

}  // namespace

void Tokenizer::Impl::index_added_tokens() {
    Impl& impl = *this;
    std::vector<std::string> raw_patterns, normalized_patterns;
    for (const tok::AddedToken& token : impl.added_tokens) {
        impl.added_ids[token.content] = token.id;  // later duplicates win, as in HF's map
        if (token.special) impl.special_contents.insert(token.content);
        // HF matches a normalized token by its normalized content (refresh_added_tokens).
        std::string pattern = token.content;
        if (token.normalized && impl.normalizer) impl.normalizer->normalize(pattern);
        impl.added_strings[token.id] = pattern;
        raw_patterns.push_back(token.normalized ? std::string() : token.content);
        normalized_patterns.push_back(token.normalized ? pattern : std::string());
    }
    impl.raw_matcher = tok::AddedTokenMatcher(impl.added_tokens, raw_patterns);
    impl.normalized_matcher = tok::AddedTokenMatcher(impl.added_tokens, normalized_patterns);
}

namespace {

// The post-processor's output around a one-element sentinel sequence {-1}.
std::vector<int32_t> post_processed_sentinel(const tok::PostProcessor* processor) {
    std::vector<int32_t> ids{-1};
    if (processor != nullptr) processor->process(ids);
    return ids;
}

}  // namespace

void Tokenizer::Impl::build(const json& root, const JsonPath& at) {
    Impl& impl = *this;
    tok::require_object(root, at);
    // "truncation" and "padding" are batch-encoding options of HF; encode() returns the whole
    // text's ids, so they are deliberately ignored.
    impl.model = tok::BpeModel::from_json(tok::require_field(root, "model", at), at.field("model"));
    auto component = [&root](std::string_view key) -> const json& {
        static const json null_value;
        const json* value = tok::optional_field(root, key);
        return value ? *value : null_value;
    };
    impl.normalizer = tok::make_normalizer(component("normalizer"), at.field("normalizer"));
    impl.pre_tokenizer = tok::make_pre_tokenizer(component("pre_tokenizer"), at.field("pre_tokenizer"));
    impl.post_processor = tok::make_post_processor(component("post_processor"), at.field("post_processor"));
    impl.decoder = tok::make_decoder(component("decoder"), at.field("decoder"));
    impl.added_tokens = tok::parse_added_tokens(component("added_tokens"), at.field("added_tokens"));
    impl.index_added_tokens();
    // What encode(..., true) adds must be tokens this file defines, or decode() would drop them
    // and models would index past their embedding table.
    const std::vector<int32_t> wrapped = post_processed_sentinel(impl.post_processor.get());
    for (const int32_t id : wrapped) {
        if (id != -1 && impl.token_string(id) == nullptr) {
            const JsonPath processor_at = at.field("post_processor");
            processor_at.fail("adds id " + std::to_string(id) + ", which is neither in model.vocab nor in added_tokens");
        }
    }
    impl.post_prefix.assign(wrapped.begin(), std::find(wrapped.begin(), wrapped.end(), -1));
    int32_t max_id = impl.model.max_id();
    for (const tok::AddedToken& token : impl.added_tokens) max_id = std::max(max_id, token.id);
    impl.id_count = max_id + 1;
}

std::unique_ptr<Tokenizer::Impl> Tokenizer::Impl::load(std::string_view json_text, const std::string& origin) {
    auto impl = std::make_unique<Impl>();
    impl->origin = origin;
    const json root = parse_json(json_text, origin);
    try {
        impl->build(root, JsonPath(impl->origin, ""));
    } catch (const json::exception& e) {
        // Safety net: the typed getters check types first, so this means a check is missing.
        throw TokenizerError(origin + ": unexpected JSON content: " + e.what());
    }
    return impl;
}

}  // namespace sy
