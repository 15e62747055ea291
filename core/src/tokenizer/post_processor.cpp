#include "post_processor.h"

#include <nlohmann/json.hpp>

#include "component_registry.h"

namespace sy::tok {
namespace {

// Adds fixed ids before and after the sequence.
class WrapProcessor final : public PostProcessor {
public:
    WrapProcessor(std::vector<int32_t> before, std::vector<int32_t> after)
        : m_before(std::move(before)), m_after(std::move(after)) {}
    void process(std::vector<int32_t>& ids) const override {
        ids.insert(ids.begin(), m_before.begin(), m_before.end());
        ids.insert(ids.end(), m_after.begin(), m_after.end());
    }

private:
    std::vector<int32_t> m_before, m_after;
};

class SequenceProcessor final : public PostProcessor {
public:
    explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> steps) : m_steps(std::move(steps)) {}
    void process(std::vector<int32_t>& ids) const override {
        for (const auto& step : m_steps) step->process(ids);
    }

private:
    std::vector<std::unique_ptr<PostProcessor>> m_steps;
};

// The ids of one TemplateProcessing special token: special_tokens[name].ids.
std::vector<int32_t> special_token_ids(const json& spec, const std::string& name, const JsonPath& at) {
    const JsonPath table_at = at.field("special_tokens");
    const json& table = require_field(spec, "special_tokens", at);
    const json& entry = require_field(table, name, table_at);
    const JsonPath ids_at = table_at.field(name).field("ids");
    const json& ids = require_field(entry, "ids", table_at.field(name));
    require_array(ids, ids_at);
    std::vector<int32_t> out;
    for (std::size_t i = 0; i < ids.size(); ++i) out.push_back(as_token_id(ids[i], ids_at.index(i)));
    return out;
}

// single: [{"SpecialToken": {"id": "<s>", ...}}, {"Sequence": {"id": "A", ...}}, ...]
std::unique_ptr<PostProcessor> make_template(const json& spec, const JsonPath& at) {
    const JsonPath single_at = at.field("single");
    const json& single = require_field(spec, "single", at);
    require_array(single, single_at);
    std::vector<int32_t> before, after;
    bool seen_sequence = false;
    for (std::size_t i = 0; i < single.size(); ++i) {
        const JsonPath item_at = single_at.index(i);
        const json& item = single[i];
        require_object(item, item_at);
        if (item.contains("Sequence")) {
            if (seen_sequence) item_at.fail("the single template holds more than one Sequence");
            seen_sequence = true;
        } else if (item.contains("SpecialToken")) {
            const std::string name = get_string(item["SpecialToken"], "id", item_at.field("SpecialToken"));
            const std::vector<int32_t> ids = special_token_ids(spec, name, at);
            (seen_sequence ? after : before).insert((seen_sequence ? after : before).end(), ids.begin(), ids.end());
        } else {
            item_at.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
        }
    }
    if (!seen_sequence) single_at.fail("the single template has no {\"Sequence\": {\"id\": \"A\"}} item");
    return std::make_unique<WrapProcessor>(std::move(before), std::move(after));
}

// Roberta / Bert: "cls": ["<s>", 0], "sep": ["</s>", 2] -> cls A sep.
std::unique_ptr<PostProcessor> make_cls_sep(const json& spec, const JsonPath& at) {
    auto id_of = [&](std::string_view key) {
        const json& pair = require_field(spec, key, at);
        const JsonPath pair_at = at.field(key);
        if (!pair.is_array() || pair.size() != 2) pair_at.fail("expected [\"token\", id]");
        return as_token_id(pair[1], pair_at.index(1));
    };
    return std::make_unique<WrapProcessor>(std::vector<int32_t>{id_of("cls")}, std::vector<int32_t>{id_of("sep")});
}

std::unique_ptr<PostProcessor> make_byte_level(const json&, const JsonPath&) { return nullptr; }

std::unique_ptr<PostProcessor> make_sequence(const json& spec, const JsonPath& at) {
    return std::make_unique<SequenceProcessor>(sequence_steps<PostProcessor>(spec, "processors", at, make_post_processor));
}

constexpr ComponentEntry<PostProcessor> registry[] = {
    {"TemplateProcessing", make_template}, {"ByteLevel", make_byte_level},
    {"RobertaProcessing", make_cls_sep},   {"BertProcessing", make_cls_sep},
    {"Sequence", make_sequence},
};

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const json& spec, const JsonPath& at) {
    return make_from_registry(registry, "post-processor", spec, at);
}

}  // namespace sy::tok
