// What an upcycled model computes at initialisation (editing.md §5.1): with identical experts,
// y = (sum of the selected gates) x FFN(x) (+ the shared expert). Exact only when the gates are
// renormalised over the top-k, every expert is a whole unaltered copy and there is one source.
#include <sstream>

#include "upcycle_plan.h"

namespace sy {
namespace {

// The sum s of the k selected gates when it is not 1.
std::string gate_sum(const FamilySpec& f, const UpcycleOptions& o) {
    std::ostringstream k_over_e;
    k_over_e << double(o.top_k) / double(o.experts);
    if (f.router == RouterRule::sigmoid_group_topk)
        return "s = the sum of the k selected sigmoid scores, between 0 and " + std::to_string(o.top_k) + " per token";
    return "s = the top-k mass of the router softmax, between k/E = " + k_over_e.str() +
           " and 1 per token (exactly k/E with --router zero)";
}

std::string shared_term(const FamilySpec& f, const UpcycleOptions& o) {
    if (!o.shared_expert) return "";
    // shared_expert_gate is written as zeros: sigmoid(0) = 0.5 on every token (formats.md §4.5).
    if (f.shared_expert == SharedExpertKind::gated_sigmoid)
        return " + 0.5 FFN(x) (the shared expert through sigmoid(x . w_shared_gate), w_shared_gate = 0)";
    return " + FFN(x) (the shared expert, always on)";
}

// y when every expert is a whole, unaltered copy of one FFN.
std::string copies_output(const FamilySpec& f, const UpcycleOptions& o) {
    const std::string shared = shared_term(f, o);
    if (o.renormalize) {
        if (!o.shared_expert) return "y = FFN(x): every expert is a copy of the dense FFN and the k selected gates sum to 1";
        return "y = FFN(x)" + shared + " = " + (f.shared_expert == SharedExpertKind::gated_sigmoid ? "1.5" : "2") +
               " FFN(x): the k renormalised gates sum to 1";
    }
    return "y = s FFN(x)" + shared + ", " + gate_sum(f, o);
}

// y when the experts differ from each other or from the FFN.
std::string mixed_output(const FamilySpec& f, const UpcycleOptions& o, std::size_t source_count) {
    std::string expert = "f_e = ";
    if (o.granularity > 1) expert += "1/" + std::to_string(o.granularity) + " of the neurons of ";
    expert += source_count > 1 ? "the FFN of expert e's source" : "the dense FFN";
    if (o.drop_rate > 0) expert += ", part of them re-initialised (Drop-Upcycling)";
    return "y = sum over the selected experts e of g_e f_e(x)" + shared_term(f, o) + ", " + expert +
           (o.renormalize ? "" : "; " + gate_sum(f, o));
}

}  // namespace

UpcycleExactness upcycle_exactness(const FamilySpec& f, const UpcycleOptions& o, std::size_t source_count) {
    std::vector<std::string> reasons;
    if (source_count > 1)
        reasons.push_back("the experts come from " + std::to_string(source_count) + " sources" +
                          (o.non_experts == NonExpertSource::average ? ", attention, norms and embeddings are their average"
                                                                     : ""));
    if (o.drop_rate > 0) reasons.push_back("Drop-Upcycling re-initialises part of every expert, by design");
    if (o.granularity > 1)
        reasons.push_back("the FFN is the sum of all " + std::to_string(o.granularity) +
                          " parts of one copy with weight 1 each, which the top-k gates cannot select in general");
    if (!o.renormalize) reasons.push_back(std::string(f.model_type) + " is written without top-k renormalisation");
    if (o.shared_expert) reasons.push_back("the shared expert adds to the routed experts");

    UpcycleExactness out;
    const bool copies = source_count == 1 && o.drop_rate == 0 && o.granularity == 1;
    out.output = copies ? copies_output(f, o) : mixed_output(f, o, source_count);
    out.exact = reasons.empty();
    if (!out.exact) {
        out.output = "not exact: " + out.output + "; because ";
        for (std::size_t i = 0; i < reasons.size(); ++i) out.output += (i ? "; " : "") + reasons[i];
    }
    return out;
}

}  // namespace sy
