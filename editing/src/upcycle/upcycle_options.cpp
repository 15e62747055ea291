// UpcycleOptions <-> a recipe entry {"op": "upcycle", ...}. Keys are the CLI flags' names with
// underscores; every key is optional except experts and top_k.
#include <cmath>
#include <nlohmann/json.hpp>

#include "switchyard/core/errors.h"
#include "switchyard/editing/upcycle.h"
#include "upcycle_plan.h"

namespace sy {
namespace {

using nlohmann::json;

template <typename Enum>
struct Names {
    std::initializer_list<std::pair<Enum, const char*>> list;

    const char* name(Enum value) const {
        for (const auto& [v, n] : list)
            if (v == value) return n;
        return "?";
    }
    Enum parse(const std::string& text, const std::string& what) const {
        std::string choices;
        for (const auto& [v, n] : list) {
            if (text == n) return v;
            choices += (choices.empty() ? "" : ", ") + std::string(n);
        }
        throw UsageError(what + " \"" + text + "\": expected one of " + choices);
    }
};

const Names<UpcycleRouter> k_routers{{{UpcycleRouter::random, "random"},
                                      {UpcycleRouter::zero, "zero"},
                                      {UpcycleRouter::hidden, "hidden"}}};
const Names<NonExpertSource> k_non_experts{{{NonExpertSource::average, "average"}, {NonExpertSource::first, "first"}}};
const Names<HiddenPool> k_pools{{{HiddenPool::mean, "mean"}, {HiddenPool::last, "last"}}};

// Typed reads from a recipe entry; messages name the key.
class Entry {
public:
    explicit Entry(const json& j) : m_j(j) {
        if (!j.is_object()) throw UsageError("upcycle recipe entry: expected a JSON object, found " + std::string(j.type_name()));
    }
    const json* find(const char* key) const {
        const auto it = m_j.find(key);
        return it == m_j.end() || it->is_null() ? nullptr : &*it;
    }
    [[noreturn]] void fail(const char* key, const std::string& what) const {
        throw UsageError("upcycle recipe entry: \"" + std::string(key) + "\" " + what);
    }
    int64_t integer(const char* key, int64_t fallback, bool required = false) const {
        const json* v = find(key);
        if (!v) {
            if (required) fail(key, "is missing");
            return fallback;
        }
        if (!v->is_number_integer()) fail(key, "must be an integer, found " + v->dump());
        return v->get<int64_t>();
    }
    double number(const char* key, double fallback) const {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_number()) fail(key, "must be a number, found " + v->dump());
        return v->get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_boolean()) fail(key, "must be true or false, found " + v->dump());
        return v->get<bool>();
    }
    std::string string(const char* key, const std::string& fallback) const {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_string()) fail(key, "must be a string, found " + v->dump());
        return v->get<std::string>();
    }
    std::vector<std::string> strings(const char* key) const {
        const json* v = find(key);
        std::vector<std::string> out;
        if (!v) return out;
        if (!v->is_array()) fail(key, "must be a list of strings, found " + v->dump());
        for (const json& item : *v) {
            if (!item.is_string()) fail(key, "must be a list of strings, found " + v->dump());
            out.push_back(item.get<std::string>());
        }
        return out;
    }

private:
    const json& m_j;
};

// Every key upcycle_options_json writes, and "op".
void reject_unknown_keys(const json& j) {
    const nlohmann::ordered_json known = upcycle_options_json(UpcycleOptions{});
    for (const auto& [key, value] : j.items()) {
        if (known.contains(key)) continue;
        std::string list;
        for (const auto& [k, v] : known.items()) list += (list.empty() ? "" : ", ") + k;
        throw UsageError("upcycle recipe entry: unknown key \"" + key + "\" (known: " + list + ")");
    }
    if (const auto op = j.find("op"); op != j.end() && *op != "upcycle")
        throw UsageError("upcycle recipe entry: \"op\" is " + op->dump() + ", expected \"upcycle\"");
}

}  // namespace

UpcycleRouter parse_upcycle_router(const std::string& text) { return k_routers.parse(text, "--router"); }
NonExpertSource parse_non_expert_source(const std::string& text) { return k_non_experts.parse(text, "--non-experts"); }
HiddenPool parse_hidden_pool(const std::string& text) { return k_pools.parse(text, "--hidden-pool"); }

nlohmann::ordered_json upcycle_options_json(const UpcycleOptions& o) {
    std::vector<std::string> sources;
    for (const auto& s : o.sources) sources.push_back(s.string());
    return {{"op", "upcycle"},
            {"family", o.family},
            {"experts", o.experts},
            {"top_k", o.top_k},
            {"router", k_routers.name(o.router)},
            {"router_std", o.router_std},
            {"prompts", o.prompts.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(o.prompts.string())},
            {"prompt_domains", o.prompt_domains},
            {"hidden_pool", k_pools.name(o.hidden_pool)},
            {"drop_upcycling", o.drop_rate},
            {"seed", o.seed},
            {"shared_expert", o.shared_expert},
            {"granularity", o.granularity},
            {"sources", sources},
            {"non_experts", k_non_experts.name(o.non_experts)},
            {"dtype", export_dtype_name(o.dtype)},
            {"renormalize", o.renormalize}};
}

void to_json(json& j, const UpcycleOptions& o) { j = json(upcycle_options_json(o)); }

void from_json(const json& j, UpcycleOptions& o) {
    const Entry e(j);
    reject_unknown_keys(j);
    o = UpcycleOptions{};
    o.family = e.string("family", "");
    o.experts = e.integer("experts", 0, true);
    o.top_k = e.integer("top_k", 0, true);
    o.router = parse_upcycle_router(e.string("router", "random"));
    o.router_std = e.number("router_std", o.router_std);
    o.prompts = e.string("prompts", "");
    o.prompt_domains = e.strings("prompt_domains");
    o.hidden_pool = parse_hidden_pool(e.string("hidden_pool", "mean"));
    o.drop_rate = e.number("drop_upcycling", 0);
    if (const json* seed = e.find("seed")) {
        if (!seed->is_number_unsigned()) e.fail("seed", "must be a non-negative integer, found " + seed->dump());
        o.seed = seed->get<uint64_t>();
    }
    o.shared_expert = e.boolean("shared_expert", false);
    o.granularity = e.integer("granularity", 1);
    for (const std::string& s : e.strings("sources")) o.sources.emplace_back(s);
    o.non_experts = parse_non_expert_source(e.string("non_experts", "average"));
    o.dtype = parse_export_dtype(e.string("dtype", "keep"));
    o.renormalize = e.boolean("renormalize", true);
}

}  // namespace sy
