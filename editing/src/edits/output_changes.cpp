#include "output_changes.h"

#include <fstream>
#include <sstream>

#include "edit_provenance.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

// Whether `t` is its source tensor's bytes unchanged (under any name).
bool copies_input_bytes(const ExportTensor& t) {
    return !t.producer && t.source && !t.scale_inv && !t.mxfp4_scales && t.byte_offset == 0 && t.dtype == t.source->dtype &&
           t.nbytes() == t.source->nbytes();
}

}  // namespace

TensorChanges describe_output(const Model& model, const std::vector<ExportTensor>& written, std::vector<std::string> computed) {
    TensorChanges changes;
    const std::set<std::string> computed_names(computed.begin(), computed.end());
    changes.computed = std::move(computed);
    std::set<std::string> output_names;
    for (const ExportTensor& t : written) {
        output_names.insert(t.name);
        if (computed_names.count(t.name) || !t.source) continue;
        if (!copies_input_bytes(t)) changes.converted.push_back({t.name, t.source->name, std::string(dtype_name(t.dtype))});
        else if (t.source->name != t.name) changes.renamed.emplace_back(t.name, t.source->name);
    }
    for (const TensorInfo& input : model.checkpoint.tensors())
        if (!output_names.count(input.name)) changes.removed.insert(input.name);
    return changes;
}

nlohmann::ordered_json tensors_record(nlohmann::ordered_json changed, const TensorChanges& changes) {
    using Json = nlohmann::ordered_json;
    Json renamed = Json::array();
    for (const auto& [name, from] : changes.renamed) renamed.push_back({{"name", name}, {"from", from}});
    Json converted = Json::array();
    for (const auto& [name, from, dtype] : changes.converted) converted.push_back({{"name", name}, {"from", from}, {"dtype", dtype}});
    Json removed = Json::array();
    for (const std::string& name : changes.removed) removed.push_back(name);
    return {{"changed", std::move(changed)}, {"renamed", renamed}, {"converted", converted}, {"removed", removed}};
}

nlohmann::ordered_json edited_record_head(const Model& model, const std::string& command_line) {
    nlohmann::ordered_json head = edit_record_head({model.checkpoint.dir()}, command_line);
    head["source"]["model_type"] = model.description.model_type;
    head["source"]["model_fingerprint"] = model_fingerprint(model);
    return head;
}

void add_previous_record(nlohmann::ordered_json& record, const fs::path& model_dir) {
    const fs::path previous = model_dir / k_edit_provenance_file;
    std::ifstream in(previous, std::ios::binary);
    if (!in) return;
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(text.str(), nullptr, false);
    if (!parsed.is_discarded()) record["previous"] = parsed;
}

}  // namespace sy
