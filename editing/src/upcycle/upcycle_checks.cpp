// Everything an upcycle checks before it reads a weight: the options, that every source is
// dense and that several sources agree (editing.md §1.5: mergekit-moe and Branch-Train-MiX take
// fine-tunes of one base), and that the target family can express the source's attention, so
// that only the FFNs change. The first problem is reported, naming file, key or tensor.
#include <cmath>
#include <sstream>

#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/model_validation.h"
#include "upcycle_plan.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

std::string config_path(const Model& m) { return (m.checkpoint.dir() / "config.json").string(); }

template <typename Pred>
std::string family_list(Pred wanted) {
    std::string list;
    for (const FamilySpec& f : family_table())
        if (wanted(f)) list += (list.empty() ? "" : ", ") + std::string(f.model_type);
    return list.empty() ? "none" : list;
}

void check_numbers(const UpcycleOptions& o) {
    SY_CHECK(o.experts >= 1, UsageError, "--experts " + std::to_string(o.experts) + ": must be at least 1");
    SY_CHECK(o.top_k >= 1, UsageError, "--top-k " + std::to_string(o.top_k) + ": must be at least 1");
    SY_CHECK(o.top_k <= o.experts, UsageError,
             "--top-k " + std::to_string(o.top_k) + " exceeds --experts " + std::to_string(o.experts) +
                 ": each token picks k of the E experts");
    std::ostringstream rate;
    rate << o.drop_rate;
    SY_CHECK(std::isfinite(o.drop_rate) && o.drop_rate >= 0 && o.drop_rate <= 1, UsageError,
             "--drop-upcycling " + rate.str() + ": the re-initialised fraction R must lie in [0, 1]");
    SY_CHECK(o.granularity >= 1, UsageError, "--granularity " + std::to_string(o.granularity) + ": must be at least 1");
    SY_CHECK(o.experts % o.granularity == 0, UsageError,
             "--experts " + std::to_string(o.experts) + " is not a multiple of --granularity " +
                 std::to_string(o.granularity) + ": the experts are E/G copies of the FFN, each cut into G parts");
    if (o.router == UpcycleRouter::random)
        SY_CHECK(std::isfinite(o.router_std) && o.router_std > 0, UsageError, "--router-std must be a positive number");
    const bool hidden = o.router == UpcycleRouter::hidden;
    SY_CHECK(!hidden || !o.prompts.empty(), UsageError, "--router hidden needs --prompts FILE (the experts' prompts)");
    SY_CHECK(hidden || (o.prompts.empty() && o.prompt_domains.empty()), UsageError,
             "--prompts and --prompt-domains are only used with --router hidden");
}

void check_dense(const Model& m) {
    const ModelDescription& d = m.description;
    if (!d.family->is_moe()) return;
    const int64_t experts = d.num_experts.empty() ? 0 : d.num_experts.front();
    throw UsageError(m.checkpoint.dir().string() + ": already a Mixture-of-Experts model (" + d.model_type + ", " +
                     std::to_string(experts) + " experts in " + std::to_string(d.moe_layers.size()) +
                     " layers); upcycle takes a dense model (" +
                     family_list([](const FamilySpec& f) { return !f.is_moe(); }) + ")");
}

// Fields that must agree between fine-tunes of one base; shapes follow from them (open_model
// checked every tensor against its own config).
std::vector<std::pair<std::string, std::string>> architecture_fields(const ModelDescription& d) {
    auto text = [](auto value) {
        std::ostringstream out;
        out << value;
        return out.str();
    };
    std::string architectures;
    for (const auto& a : d.architectures) architectures += (architectures.empty() ? "" : ",") + a;
    return {{"model_type", d.model_type},
            {"architectures", architectures},
            {"num_hidden_layers", text(d.num_layers)},
            {"hidden_size", text(d.hidden_size)},
            {"intermediate_size", text(d.dense_intermediate_size)},
            {"num_attention_heads", text(d.num_heads)},
            {"num_key_value_heads", text(d.num_kv_heads)},
            {"head_dim", text(d.head_dim)},
            {"vocab_size", text(d.vocab_size)},
            {"rms_norm_eps", text(d.rms_norm_eps)},
            {"tie_word_embeddings", text(d.tie_word_embeddings)},
            {"attention biases (q/k/v, o)", text(d.qkv_bias) + "," + text(d.o_bias)},
            {"rope_theta", text(d.rope.theta)},
            {"rope type", d.rope.type},
            {"rope factor", text(d.rope.factor)}};
}

bool is_float_weight(DType dtype) { return dtype == DType::f32 || dtype == DType::bf16 || dtype == DType::f16; }

void check_weights(const Model& m) {
    for (const ExpectedTensor& e : expected_tensors(m.description, m.layout)) {
        const TensorInfo& t = m.checkpoint.at(e.name);
        SY_CHECK(is_float_weight(t.dtype), UsageError,
                 m.checkpoint.files()[t.file_index] + ": " + t.name + ": upcycle reads F32, BF16 or F16 weights, found " +
                     std::string(dtype_name(t.dtype)) + " (convert first: switchyard export --dtype bf16)");
    }
}

void check_sources_agree(const std::vector<const Model*>& sources, ExportDType dtype) {
    const Model& first = *sources.front();
    const auto reference = architecture_fields(first.description);
    for (std::size_t s = 1; s < sources.size(); ++s) {
        const Model& other = *sources[s];
        const auto fields = architecture_fields(other.description);
        for (std::size_t f = 0; f < fields.size(); ++f)
            SY_CHECK(fields[f].second == reference[f].second, UsageError,
                     "sources disagree: " + config_path(other) + ": " + fields[f].first + " = " + fields[f].second +
                         ", but " + config_path(first) + " has " + reference[f].second +
                         " (the sources must be fine-tunes of one base model)");
        if (dtype != ExportDType::keep) continue;
        for (const ExpectedTensor& e : expected_tensors(first.description, first.layout)) {
            const TensorInfo &a = first.checkpoint.at(e.name), &b = other.checkpoint.at(e.name);
            SY_CHECK(a.dtype == b.dtype, UsageError,
                     "sources disagree: " + (other.checkpoint.dir() / other.checkpoint.files()[b.file_index]).string() +
                         ": " + e.name + ": dtype " + std::string(dtype_name(b.dtype)) + ", but the first source has " +
                         std::string(dtype_name(a.dtype)) + "; choose one with --dtype bf16 or --dtype f32");
        }
    }
}

std::string_view attention_words(AttentionKind kind) {
    switch (kind) {
        case AttentionKind::gqa: return "grouped-query attention (GQA)";
        case AttentionKind::gqa_qkv_bias: return "GQA with q/k/v biases";
        case AttentionKind::gqa_head_qk_norm: return "GQA with an RMSNorm on every q and k head (qk-norm)";
        case AttentionKind::gqa_full_qk_norm: return "GQA with an RMSNorm over the whole q and k projections";
        case AttentionKind::mla: return "multi-head latent attention (MLA)";
    }
    return "?";
}

// Why `target` cannot hold `dense`'s attention unchanged; empty when it can. Plain GQA and GQA
// with biases differ only in which bias tensors exist (formats.md §1 "attention bias" row).
std::string attention_mismatch(const ModelDescription& dense, const FamilySpec& target) {
    const AttentionKind a = dense.family->attention, b = target.attention;
    const auto plain = [](AttentionKind k) { return k == AttentionKind::gqa || k == AttentionKind::gqa_qkv_bias; };
    if (a != b && !(plain(a) && plain(b)))
        return std::string(target.model_type) + " uses " + std::string(attention_words(b)) + ", but the " +
               dense.model_type + " source uses " + std::string(attention_words(a));
    if (dense.family->rope_pairing != target.rope_pairing)
        return std::string(target.model_type) + " pairs rotary dimensions differently (formats.md §2.3)";
    const bool bias = !target.attention_bias_key.empty() || target.attention_bias_default;
    if (dense.qkv_bias && !bias)
        return std::string(target.model_type) + " has no attention biases, the " + dense.model_type +
               " source has q/k/v biases";
    if (dense.o_bias && !(bias && b != AttentionKind::gqa_qkv_bias))
        return std::string(target.model_type) + " has no o_proj bias, the " + dense.model_type + " source has one";
    return {};
}

std::string fitting_families(const ModelDescription& dense) {
    return family_list([&](const FamilySpec& f) { return f.is_moe() && attention_mismatch(dense, f).empty(); });
}

const FamilySpec& resolve_family(const Model& dense, const std::string& requested, std::vector<std::string>& notes) {
    const ModelDescription& d = dense.description;
    if (requested.empty()) {
        for (const FamilySpec& f : family_table()) {
            if (!f.is_moe() || !attention_mismatch(d, f).empty()) continue;
            notes.push_back("family " + std::string(f.model_type) + ": the first MoE family that holds a " +
                            d.model_type + " model's attention unchanged (--family to choose)");
            return f;
        }
        throw UsageError(config_path(dense) + ": no MoE family holds the attention of a " + d.model_type + " model");
    }
    const FamilySpec& f = find_family(requested);   // UnknownArchitecture lists the supported types
    SY_CHECK(f.is_moe(), UsageError,
             "--family " + requested + " is a dense family; families that fit this source: " + fitting_families(d));
    const std::string why = attention_mismatch(d, f);
    SY_CHECK(why.empty(), UsageError,
             "--family " + requested + ": " + why + ", so upcycling would change the model beyond its FFNs; "
             "families that fit this source: " + fitting_families(d));
    return f;
}

void resolve_shared_expert(const FamilySpec& f, UpcycleOptions& o, std::vector<std::string>& notes) {
    if (f.shared_expert == SharedExpertKind::none) {
        SY_CHECK(!o.shared_expert, UsageError,
                 "--shared-expert: " + std::string(f.model_type) + " has no shared experts (families with one: " +
                     family_list([](const FamilySpec& g) { return g.has_shared_experts(); }) + ")");
        return;
    }
    // transformers' Qwen2MoeSparseMoeBlock always builds its gated shared expert (formats.md §4.4).
    if (f.shared_expert == SharedExpertKind::gated_sigmoid && !o.shared_expert) {
        o.shared_expert = true;
        notes.push_back(std::string(f.model_type) + " has a gated shared expert in every MoE layer: added, a copy of the FFN");
    }
}

void resolve_renormalize(const FamilySpec& f, UpcycleOptions& o, std::vector<std::string>& notes) {
    if (!f.norm_topk_key.empty()) return;
    if (o.renormalize == f.norm_topk_default) return;
    SY_CHECK(o.renormalize, UsageError,
             "--no-renormalize: " + std::string(f.model_type) + " always renormalises the top-k gates");
    o.renormalize = false;
    notes.push_back(std::string(f.model_type) + " never renormalises the top-k gates");
}

void check_layout(const std::vector<const Model*>& sources, const UpcycleOptions& o) {
    const Model& dense = *sources.front();
    const int64_t width = dense_ffn_width(dense.description);
    SY_CHECK(width % o.granularity == 0, UsageError,
             "--granularity " + std::to_string(o.granularity) + " does not divide the dense FFN width " +
                 std::to_string(width) + " (" + config_path(dense) + ": " +
                 std::string(dense.description.family->dense_width_key) + "): each expert holds I/G neurons");
    const int64_t copies = o.experts / o.granularity, count = static_cast<int64_t>(sources.size());
    SY_CHECK(copies % count == 0, UsageError,
             "--experts " + std::to_string(o.experts) + " makes " + std::to_string(copies) +
                 " copies of the FFN, which " + std::to_string(count) +
                 " sources cannot share equally: use a multiple of " + std::to_string(count * o.granularity));
    const auto domains = static_cast<int64_t>(o.prompt_domains.size());
    SY_CHECK(domains == 0 || domains == o.experts || domains == count, UsageError,
             "--prompt-domains lists " + std::to_string(domains) + " domains; expected one per expert (" +
                 std::to_string(o.experts) + ") or one per source (" + std::to_string(count) + ")");
}

}  // namespace

int64_t dense_ffn_width(const ModelDescription& dense) { return dense.dense_intermediate_size; }

int source_of_expert(int64_t expert, int64_t experts, std::size_t source_count) {
    return static_cast<int>(expert * static_cast<int64_t>(source_count) / experts);
}

UpcycleResult check_sources_and_options(const std::vector<const Model*>& sources, const UpcycleOptions& options) {
    SY_CHECK(!sources.empty(), UsageError, "upcycle: no source model");
    check_numbers(options);
    for (const Model* m : sources) check_dense(*m);
    for (const Model* m : sources) check_weights(*m);
    check_sources_agree(sources, options.dtype);
    UpcycleResult result;
    UpcycleOptions& o = result.resolved = options;
    const FamilySpec& family = resolve_family(*sources.front(), options.family, result.notes);
    o.family = family.model_type;
    resolve_shared_expert(family, o, result.notes);
    resolve_renormalize(family, o, result.notes);
    check_layout(sources, o);
    for (auto& s : o.sources) s = fs::absolute(s).lexically_normal();
    if (!o.prompts.empty()) o.prompts = fs::absolute(o.prompts).lexically_normal();
    result.exactness = upcycle_exactness(family, o, sources.size());
    return result;
}

}  // namespace sy
