// /meta attributes and datasets (docs/hdf5-schema.md).
#include "trace_meta.h"

#include <algorithm>

#include "h5_util.h"
#include "switchyard/core/errors.h"
#include "trace_schema.h"

namespace sy {
namespace {

namespace ts = trace_schema;

std::vector<int32_t> read_int_vector(hid_t file, const char* name, const std::string& where) {
    h5::Handle dataset = h5::open_dataset(file, name, 0, where);
    const auto dims = h5::dataset_dims(dataset, where);
    std::vector<int32_t> values(dims.empty() ? 0 : dims[0]);
    h5::read_box(dataset, H5T_NATIVE_INT32, {0}, {values.size()}, values.data(), where);
    return values;
}

std::vector<std::string> read_string_vector(hid_t file, const char* name, const std::string& where) {
    h5::Handle dataset = h5::open_dataset(file, name, 0, where);
    const auto dims = h5::dataset_dims(dataset, where);
    return h5::read_string_rows(dataset, 0, dims.empty() ? 0 : dims[0], where);
}

template <typename T>
void require_same(const std::string& field, const T& stored, const T& wanted, const std::string& where,
                  const std::string& hint) {
    if (stored == wanted) return;
    throw UsageError(where + ": cannot resume: " + field + " differs from the interrupted run (" + hint +
                     "); start a new trace, or use the original settings");
}

std::string show(const std::string& stored, const std::string& wanted) {
    return "file has \"" + stored + "\", this run \"" + wanted + "\"";
}
std::string show(int64_t stored, int64_t wanted) {
    return "file has " + std::to_string(stored) + ", this run " + std::to_string(wanted);
}

}  // namespace

int64_t TraceMeta::max_experts() const {
    int32_t most = 0;
    for (int32_t experts : num_experts) most = std::max(most, experts);
    return most;
}

void write_trace_meta(hid_t file, const TraceMeta& meta, const std::string& where) {
    h5::Handle group(h5::check_id(H5Gcreate2(file, ts::meta, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), where,
                                  "cannot create /meta"));
    const std::pair<const char*, const std::string*> strings[] = {
        {"tool_version", &meta.tool_version}, {"command_line", &meta.command_line},
        {"model_path", &meta.model_path},     {"model_fingerprint", &meta.model_fingerprint},
        {"model_type", &meta.model_type},     {"dtype", &meta.dtype},
        {"device", &meta.device},             {"bos", &meta.bos},
        {"created", &meta.created},           {"data", &meta.data},
        {"masked_experts", &meta.masked_experts}};
    for (const auto& [name, value] : strings) h5::write_attribute(group, name, *value, where);
    const std::pair<const char*, int64_t> ints[] = {
        {"format_version", meta.format_version}, {"num_layers", meta.num_layers},
        {"top_k", meta.top_k},                   {"bos_id", meta.bos_id},
        {"seq_len", meta.seq_len},               {"batch_tokens", meta.batch_tokens},
        {"max_tokens", meta.max_tokens},         {"data_bytes", meta.data_bytes},
        {"router_logits", meta.router_logits ? 1 : 0}};
    for (const auto& [name, value] : ints) h5::write_attribute(group, name, value, where);
    h5::write_int_dataset(group, "moe_layers", meta.moe_layers, where);
    h5::write_int_dataset(group, "num_experts", meta.num_experts, where);
    h5::write_string_dataset(group, "token_strings", meta.token_strings, where);
}

TraceMeta read_trace_meta(hid_t file, const std::string& where) {
    SY_CHECK(H5Lexists(file, ts::meta, H5P_DEFAULT) > 0, UsageError, where + ": not a Switchyard trace (no /meta)");
    h5::Handle group(h5::check_id(H5Gopen2(file, ts::meta, H5P_DEFAULT), where, "cannot open /meta"));
    SY_CHECK(h5::has_attribute(group, "format_version"), UsageError,
             where + ": not a Switchyard trace (no /meta format_version)");
    TraceMeta meta;
    meta.format_version = h5::read_int_attribute(group, "format_version", where);
    SY_CHECK(meta.format_version <= trace_format_version, UsageError,
             where + ": trace format " + std::to_string(meta.format_version) +
                 " is newer than this Switchyard reads (" + std::to_string(trace_format_version) + ")");
    const std::pair<const char*, std::string*> strings[] = {
        {"tool_version", &meta.tool_version}, {"command_line", &meta.command_line},
        {"model_path", &meta.model_path},     {"model_fingerprint", &meta.model_fingerprint},
        {"model_type", &meta.model_type},     {"dtype", &meta.dtype},
        {"device", &meta.device},             {"bos", &meta.bos},
        {"created", &meta.created},           {"data", &meta.data}};
    for (const auto& [name, value] : strings) *value = h5::read_string_attribute(group, name, where);
    // Absent in traces written before expert masks existed: nothing was masked.
    if (h5::has_attribute(group, "masked_experts"))
        meta.masked_experts = h5::read_string_attribute(group, "masked_experts", where);
    const std::pair<const char*, int64_t*> ints[] = {
        {"num_layers", &meta.num_layers}, {"top_k", &meta.top_k},           {"bos_id", &meta.bos_id},
        {"seq_len", &meta.seq_len},       {"batch_tokens", &meta.batch_tokens}, {"max_tokens", &meta.max_tokens},
        {"data_bytes", &meta.data_bytes}};
    for (const auto& [name, value] : ints) *value = h5::read_int_attribute(group, name, where);
    meta.router_logits = h5::read_int_attribute(group, "router_logits", where) != 0;
    meta.moe_layers = read_int_vector(file, ts::moe_layers, where);
    meta.num_experts = read_int_vector(file, ts::num_experts, where);
    meta.token_strings = read_string_vector(file, ts::token_strings, where);
    SY_CHECK(meta.moe_layers.size() == meta.num_experts.size(), UsageError,
             where + ": /meta/moe_layers and /meta/num_experts differ in length");
    return meta;
}

void update_resumable_meta(hid_t file, const TraceMeta& meta, const std::string& where) {
    h5::Handle group(h5::check_id(H5Gopen2(file, ts::meta, H5P_DEFAULT), where, "cannot open /meta"));
    h5::write_attribute(group, "device", meta.device, where);
    h5::write_attribute(group, "max_tokens", meta.max_tokens, where);
}

void check_resume_matches(const TraceMeta& stored, const TraceMeta& wanted, const std::string& where) {
    require_same("the model (fingerprint of config.json and safetensors headers)", stored.model_fingerprint,
                 wanted.model_fingerprint, where, "file was traced from " + stored.model_path);
    require_same("--data", stored.data, wanted.data, where, show(stored.data, wanted.data));
    require_same("the data size", stored.data_bytes, wanted.data_bytes, where,
                 show(stored.data_bytes, wanted.data_bytes) + " bytes: the data file changed");
    require_same("--seq-len", stored.seq_len, wanted.seq_len, where, show(stored.seq_len, wanted.seq_len));
    require_same("--batch-tokens", stored.batch_tokens, wanted.batch_tokens, where,
                 show(stored.batch_tokens, wanted.batch_tokens));
    require_same("--bos", stored.bos, wanted.bos, where, show(stored.bos, wanted.bos));
    require_same("the BOS id", stored.bos_id, wanted.bos_id, where, show(stored.bos_id, wanted.bos_id));
    require_same("--dtype", stored.dtype, wanted.dtype, where, show(stored.dtype, wanted.dtype));
    require_same("--mask-experts", stored.masked_experts, wanted.masked_experts, where,
                 show(stored.masked_experts, wanted.masked_experts));
    require_same("--router-logits", stored.router_logits, wanted.router_logits, where,
                 std::string("file ") + (stored.router_logits ? "has" : "has no") + " router logits");
    require_same("the MoE layers", stored.moe_layers, wanted.moe_layers, where, "different model shape");
    require_same("the expert counts", stored.num_experts, wanted.num_experts, where, "different model shape");
    require_same("top_k", stored.top_k, wanted.top_k, where, show(stored.top_k, wanted.top_k));
}

}  // namespace sy
