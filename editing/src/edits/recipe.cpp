// Recipe JSON (docs/recipes.md). Numbers round-trip exactly: nlohmann writes doubles with 17
// significant digits and floats are widened losslessly.
#include "switchyard/editing/recipe.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "switchyard/core/errors.h"
#include "switchyard/core/output_paths.h"

namespace sy {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

const char* layout_name(MergeLayout layout) { return layout == MergeLayout::duplicate ? "duplicate" : "collapse"; }
const char* router_name(MergeRouter router) { return router == MergeRouter::fitted ? "fitted" : "dominant"; }

Json experts_json(const ExpertsByLayer& experts) {
    Json out = Json::object();
    for (const auto& [layer, list] : experts) out[std::to_string(layer)] = list;
    return out;
}

Json details(const std::string& text) {
    Json parsed = Json::parse(text.empty() ? "{}" : text, nullptr, false);
    return parsed.is_discarded() ? Json(text) : parsed;
}

Json to_json(const PruneEdit& e) {
    return {{"op", "prune"}, {"experts", experts_json(e.experts)}, {"method", e.method}, {"details", details(e.details_json)}};
}

Json to_json(const MergeEdit& e) {
    Json groups = Json::object();
    for (const auto& [layer, list] : e.groups) {
        Json layer_groups = Json::array();
        for (const MergeGroup& g : list)
            layer_groups.push_back({{"members", g.members}, {"dominant", g.dominant}, {"weights", g.weights}});
        groups[std::to_string(layer)] = layer_groups;
    }
    Json out{{"op", "merge"}, {"groups", groups}, {"align", e.align}, {"layout", layout_name(e.layout)},
             {"router", router_name(e.router)}};
    if (e.router == MergeRouter::fitted) {
        Json rows = Json::object();
        for (const auto& [layer, list] : e.router_rows) rows[std::to_string(layer)] = list;
        out["router_rows"] = rows;
    }
    out["method"] = e.method;
    out["details"] = details(e.details_json);
    return out;
}

Json to_json(const MaskEdit& e) { return {{"op", "mask"}, {"experts", experts_json(e.experts)}}; }

// An entry that is one resolved JSON object: "op" first, then its fields.
Json resolved_entry(const char* op, const std::string& text) {
    Json out{{"op", op}};
    const Json fields = Json::parse(text);   // items() refers into it
    for (const auto& [key, value] : fields.items())
        if (key != "op") out[key] = value;
    return out;
}

Json to_json(const UpcycleEdit& e) { return resolved_entry("upcycle", e.options_json); }
Json to_json(const UnlearnEdit& e) { return resolved_entry("unlearn", e.resolved_json); }
Json to_json(const TuneEdit& e) { return resolved_entry("tune", e.resolved_json); }

// Parsing: every failure names the file and the entry.
class Reader {
public:
    Reader(std::string where) : m_where(std::move(where)) {}
    [[noreturn]] void fail(const std::string& what) const { throw UsageError(m_where + ": " + what); }
    const Json& field(const Json& object, const std::string& key) const {
        if (!object.is_object() || !object.contains(key)) fail("missing \"" + key + "\"");
        return object.at(key);
    }
    int layer(const std::string& key) const {
        try {
            std::size_t used = 0;
            const int value = std::stoi(key, &used);
            if (used == key.size() && value >= 0) return value;
        } catch (const std::exception&) {
        }
        fail("\"" + key + "\" is not a layer index");
    }
    template <class T>
    T get(const Json& value, const std::string& what) const {
        try {
            return value.get<T>();
        } catch (const Json::exception&) {
            fail(what + " has the wrong type (" + std::string(value.type_name()) + ")");
        }
    }
    ExpertsByLayer experts(const Json& object) const {
        if (!object.is_object()) fail("\"experts\" must be an object {layer: [experts]}");
        ExpertsByLayer out;
        for (const auto& [key, list] : object.items()) out[layer(key)] = get<std::vector<int>>(list, "experts of layer " + key);
        return out;
    }
    std::string optional_string(const Json& object, const std::string& key, const std::string& fallback) const {
        return object.contains(key) ? get<std::string>(object.at(key), "\"" + key + "\"") : fallback;
    }
    std::string details(const Json& object) const { return object.contains("details") ? object.at("details").dump() : "{}"; }

private:
    std::string m_where;
};

MergeEdit merge_from(const Json& entry, const Reader& in) {
    MergeEdit e;
    const Json& groups = in.field(entry, "groups");
    if (!groups.is_object()) in.fail("\"groups\" must be an object {layer: [groups]}");
    for (const auto& [key, list] : groups.items()) {
        if (!list.is_array()) in.fail("groups of layer " + key + " must be a list");
        for (const Json& g : list) {
            MergeGroup group;
            group.members = in.get<std::vector<int>>(in.field(g, "members"), "\"members\"");
            group.dominant = in.get<int>(in.field(g, "dominant"), "\"dominant\"");
            group.weights = in.get<std::vector<double>>(in.field(g, "weights"), "\"weights\"");
            e.groups[in.layer(key)].push_back(std::move(group));
        }
    }
    e.align = entry.contains("align") ? in.get<bool>(entry.at("align"), "\"align\"") : true;
    const std::string layout = in.optional_string(entry, "layout", "collapse");
    if (layout != "collapse" && layout != "duplicate") in.fail("\"layout\" must be collapse or duplicate, found \"" + layout + "\"");
    e.layout = layout == "duplicate" ? MergeLayout::duplicate : MergeLayout::collapse;
    const std::string router = in.optional_string(entry, "router", "dominant");
    if (router != "dominant" && router != "fitted") in.fail("\"router\" must be dominant or fitted, found \"" + router + "\"");
    e.router = router == "fitted" ? MergeRouter::fitted : MergeRouter::dominant;
    if (e.router == MergeRouter::fitted) {
        const Json& rows = in.field(entry, "router_rows");
        if (!rows.is_object()) in.fail("\"router_rows\" must be an object {layer: [[row], ...]}");
        for (const auto& [key, list] : rows.items())
            e.router_rows[in.layer(key)] = in.get<std::vector<std::vector<float>>>(list, "router rows of layer " + key);
    }
    e.method = in.optional_string(entry, "method", "groups");
    e.details_json = in.details(entry);
    return e;
}

Edit edit_from(const Json& entry, const Reader& in) {
    const std::string op = in.get<std::string>(in.field(entry, "op"), "\"op\"");
    if (op == "prune") {
        PruneEdit e;
        e.experts = in.experts(in.field(entry, "experts"));
        e.method = in.optional_string(entry, "method", "experts");
        e.details_json = in.details(entry);
        return e;
    }
    if (op == "merge") return merge_from(entry, in);
    if (op == "mask") return MaskEdit{in.experts(in.field(entry, "experts"))};
    if (op == "upcycle") {
        Json options = entry;
        options.erase("op");
        // What `upcycle` reports beside its options is not an option.
        for (const char* key : {"exact", "output_at_init"}) options.erase(key);
        return UpcycleEdit{options.dump()};
    }
    if (op == "unlearn" || op == "tune") {
        // Checked field by field when applied (expert_training.h: training_plan_from_entry).
        Json fields = entry;
        fields.erase("op");
        if (op == "unlearn") return UnlearnEdit{fields.dump()};
        return TuneEdit{fields.dump()};
    }
    in.fail("unknown op \"" + op + "\" (supported: prune, merge, mask, upcycle, unlearn, tune)");
}

}  // namespace

const std::string* training_entry_json(const Edit& edit) {
    if (const auto* u = std::get_if<UnlearnEdit>(&edit)) return &u->resolved_json;
    if (const auto* t = std::get_if<TuneEdit>(&edit)) return &t->resolved_json;
    return nullptr;
}

std::string edit_op_name(const Edit& edit) {
    return std::visit([](const auto& e) { return to_json(e).at("op").template get<std::string>(); }, edit);
}

std::string edit_to_json(const Edit& edit) {
    return std::visit([](const auto& e) { return to_json(e).dump(); }, edit);
}

std::string recipe_to_json(const Recipe& recipe) {
    Json edits = Json::array();
    for (const Edit& edit : recipe.edits) edits.push_back(std::visit([](const auto& e) { return to_json(e); }, edit));
    const bool trains = std::any_of(recipe.edits.begin(), recipe.edits.end(),
                                    [](const Edit& e) { return training_entry_json(e) != nullptr; });
    Json out{{"format", "switchyard-recipe"}, {"format_version", trains ? recipe_format_version : 1}};
    if (!recipe.source_path.empty())
        out["source"] = {{"path", recipe.source_path}, {"model_fingerprint", recipe.source_fingerprint}};
    out["export"] = {{"dtype", recipe.export_settings.dtype}, {"shard_size", recipe.export_settings.shard_size}};
    out["edits"] = edits;
    return out.dump(2) + "\n";
}

Recipe parse_recipe(const std::string& text, const std::string& origin) {
    const Json root = Json::parse(text, nullptr, false);
    const Reader top(origin);
    if (root.is_discarded()) top.fail("not valid JSON");
    if (top.optional_string(root, "format", "") != "switchyard-recipe")
        top.fail("not a Switchyard recipe (\"format\": \"switchyard-recipe\" expected)");
    const int64_t version = top.get<int64_t>(top.field(root, "format_version"), "\"format_version\"");
    if (version > recipe_format_version)
        top.fail("recipe format version " + std::to_string(version) + " is newer than this Switchyard reads (" +
                 std::to_string(recipe_format_version) + ")");
    Recipe recipe;
    if (root.contains("source")) {
        recipe.source_path = top.optional_string(root.at("source"), "path", "");
        recipe.source_fingerprint = top.optional_string(root.at("source"), "model_fingerprint", "");
    }
    if (root.contains("export")) {
        const Json& exp = root.at("export");
        recipe.export_settings.dtype = top.optional_string(exp, "dtype", "keep");
        recipe.export_settings.shard_size = top.optional_string(exp, "shard_size", "5GB");
    }
    const Json& edits = top.field(root, "edits");
    if (!edits.is_array()) top.fail("\"edits\" must be a list");
    for (std::size_t i = 0; i < edits.size(); ++i)
        recipe.edits.push_back(edit_from(edits[i], Reader(origin + ": edits[" + std::to_string(i) + "]")));
    const bool upcycles = std::any_of(recipe.edits.begin(), recipe.edits.end(),
                                      [](const Edit& e) { return std::holds_alternative<UpcycleEdit>(e); });
    if (upcycles && recipe.edits.size() > 1)
        top.fail("an upcycle entry makes a new MoE model from a dense one and stands alone in its recipe; "
                 "edit the upcycled model with a second recipe");
    for (std::size_t i = 0; i + 1 < recipe.edits.size(); ++i)
        if (training_entry_json(recipe.edits[i]))
            top.fail("edits[" + std::to_string(i) + "]: a training entry (" + edit_op_name(recipe.edits[i]) +
                     ") must be the last entry: it trains the model the entries before it leave; "
                     "train again with a second recipe");
    return recipe;
}

Recipe read_recipe(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    SY_CHECK(in, IoError, path.string() + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    return parse_recipe(text.str(), path.string());
}

void write_recipe(const Recipe& recipe, const fs::path& path) {
    const fs::path temporary = fs::absolute(path).parent_path() / ("." + path.filename().string() + ".partial-" + std::to_string(::getpid()));
    {
        std::ofstream out(temporary, std::ios::binary);
        SY_CHECK(out, IoError, path.string() + ": cannot create");
        out << recipe_to_json(recipe);
        SY_CHECK(out, IoError, path.string() + ": write failed");
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    SY_CHECK(!ec, IoError, path.string() + ": cannot rename into place: " + ec.message());
}

void check_recipe_destination(const fs::path& path, const fs::path& model_dir, const fs::path& output_dir, bool force) {
    const std::string flag = "--save-recipe " + path.string();
    check_output_outside_model(path, model_dir, "--save-recipe");
    SY_CHECK(output_dir.empty() || !path_is_within(path, output_dir), UsageError,
             flag + ": inside the output folder " + output_dir.string() +
                 ", which the export writes whole (its switchyard-edit.json records the edit); save the recipe elsewhere");
    std::error_code ec;
    SY_CHECK(!fs::is_directory(path, ec), UsageError, flag + ": is a folder");
    SY_CHECK(force || !fs::exists(path, ec), UsageError, flag + ": already exists (--force replaces it)");
    const fs::path folder = fs::absolute(path).parent_path();
    SY_CHECK(fs::is_directory(folder, ec), UsageError, flag + ": no folder " + folder.string());
}

}  // namespace sy
