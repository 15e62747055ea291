// TraceReader: SWMR read access to a trace, also while `switchyard trace` is writing it. Reads
// are clamped to the committed length of /tokens/ids (trace_store.h).
#include "h5_util.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/trace_store.h"
#include "trace_meta.h"
#include "trace_schema.h"

namespace sy {

namespace ts = trace_schema;

struct TraceReader::Impl {
    std::filesystem::path path;
    std::string where;
    TraceMeta meta;
    h5::Handle file;
    h5::Handle ids, doc, pos, nll, topk_ids, topk_weights, router_logits, domain, source;
    h5::Handle half_type;
    int64_t tokens = 0;
    int64_t docs = 0;
    bool swmr = true;   // opened for SWMR reading (false: a file in a format without SWMR)

    void read_lengths();
    void check_tokens(int64_t begin, int64_t end) const;
    void check_docs(int64_t begin, int64_t end) const;
    void check_layer(int moe_index) const;
    std::vector<int32_t> read_ints(hid_t dataset, int64_t begin, int64_t end) const;
    std::vector<std::string> read_strings(hid_t dataset, int64_t begin, int64_t end) const;
};

void TraceReader::Impl::read_lengths() {
    // /tokens/ids first: the others were flushed before it grew, so they hold at least as many rows.
    tokens = static_cast<int64_t>(h5::dataset_dims(ids, where)[0]);
    docs = static_cast<int64_t>(std::min(h5::dataset_dims(domain, where)[0], h5::dataset_dims(source, where)[0]));
}

void TraceReader::Impl::check_tokens(int64_t begin, int64_t end) const {
    SY_CHECK(0 <= begin && begin <= end && end <= tokens, UsageError,
             where + ": token range [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside [0, " +
                 std::to_string(tokens) + ")");
}

void TraceReader::Impl::check_docs(int64_t begin, int64_t end) const {
    SY_CHECK(0 <= begin && begin <= end && end <= docs, UsageError,
             where + ": document range [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside [0, " +
                 std::to_string(docs) + ")");
}

void TraceReader::Impl::check_layer(int moe_index) const {
    SY_CHECK(moe_index >= 0 && moe_index < meta.moe_layer_count(), UsageError,
             where + ": MoE layer index " + std::to_string(moe_index) + " outside [0, " +
                 std::to_string(meta.moe_layer_count()) + ")");
}

std::vector<int32_t> TraceReader::Impl::read_ints(hid_t dataset, int64_t begin, int64_t end) const {
    check_tokens(begin, end);
    std::vector<int32_t> values(static_cast<std::size_t>(end - begin));
    h5::read_box(dataset, H5T_NATIVE_INT32, {hsize_t(begin)}, {values.size()}, values.data(), where);
    return values;
}

std::vector<std::string> TraceReader::Impl::read_strings(hid_t dataset, int64_t begin, int64_t end) const {
    check_docs(begin, end);
    return h5::read_string_rows(dataset, hsize_t(begin), hsize_t(end - begin), where);
}

namespace {

// SWMR read access first (a trace being written, or whose writer died). A file another tool wrote
// in an older format (h5py's default) has no SWMR support and is opened plainly: no trace writer
// can be appending to it.
hid_t open_read_only(const std::string& where, bool& swmr) {
    swmr = true;
    const hid_t id = H5Fopen(where.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (id >= 0) return id;
    const std::string detail = h5::last_error();
    swmr = false;
    const hid_t plain = H5Fopen(where.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (plain >= 0) return plain;
    h5::last_error();
    throw IoError(where + ": cannot open the trace (" + detail + ")");
}

}  // namespace

TraceReader::TraceReader(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;
TraceReader::~TraceReader() = default;

TraceReader TraceReader::open(const std::filesystem::path& path) {
    h5::init();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->where = path.string();
    std::error_code ec;
    SY_CHECK(std::filesystem::exists(path, ec), IoError, impl->where + ": no such file");
    impl->file = h5::Handle(open_read_only(impl->where, impl->swmr));
    impl->meta = read_trace_meta(impl->file, impl->where);
    impl->half_type = h5::float16_type();
    const auto open = [&](const char* name) { return h5::open_dataset(impl->file, name, 0, impl->where); };
    impl->ids = open(ts::token_ids);
    impl->doc = open(ts::token_doc);
    impl->pos = open(ts::token_pos);
    impl->nll = open(ts::nll);
    impl->topk_ids = open(ts::topk_ids);
    impl->topk_weights = open(ts::topk_weights);
    if (impl->meta.router_logits) impl->router_logits = open(ts::router_logits);
    impl->domain = open(ts::doc_domain);
    impl->source = open(ts::doc_source);
    impl->read_lengths();
    return TraceReader(std::move(impl));
}

const TraceMeta& TraceReader::meta() const { return m_impl->meta; }
const std::filesystem::path& TraceReader::path() const { return m_impl->path; }
int64_t TraceReader::token_count() const { return m_impl->tokens; }
int64_t TraceReader::doc_count() const { return m_impl->docs; }
bool TraceReader::has_router_logits() const { return m_impl->meta.router_logits; }

bool TraceReader::refresh() {
    Impl& impl = *m_impl;
    const int64_t before = impl.tokens;
    if (!impl.swmr) return false;   // no writer can be appending to it
    h5::check(H5Drefresh(impl.ids), impl.where, "cannot refresh /tokens/ids");
    for (hid_t dataset : {hid_t(impl.doc), hid_t(impl.pos), hid_t(impl.nll), hid_t(impl.topk_ids),
                          hid_t(impl.topk_weights), hid_t(impl.domain), hid_t(impl.source)})
        h5::check(H5Drefresh(dataset), impl.where, "cannot refresh");
    if (impl.meta.router_logits) h5::check(H5Drefresh(impl.router_logits), impl.where, "cannot refresh");
    impl.read_lengths();
    return impl.tokens > before;
}

std::vector<int32_t> TraceReader::token_ids(int64_t begin, int64_t end) const {
    return m_impl->read_ints(m_impl->ids, begin, end);
}
std::vector<int32_t> TraceReader::token_docs(int64_t begin, int64_t end) const {
    return m_impl->read_ints(m_impl->doc, begin, end);
}
std::vector<int32_t> TraceReader::token_positions(int64_t begin, int64_t end) const {
    return m_impl->read_ints(m_impl->pos, begin, end);
}

std::vector<float> TraceReader::nll(int64_t begin, int64_t end) const {
    m_impl->check_tokens(begin, end);
    std::vector<float> values(static_cast<std::size_t>(end - begin));
    h5::read_box(m_impl->nll, H5T_NATIVE_FLOAT, {hsize_t(begin)}, {values.size()}, values.data(), m_impl->where);
    return values;
}

TraceRouting TraceReader::routing(int moe_index, int64_t begin, int64_t end) const {
    const Impl& impl = *m_impl;
    impl.check_tokens(begin, end);
    impl.check_layer(moe_index);
    TraceRouting routing;
    routing.tokens = end - begin;
    routing.top_k = impl.meta.top_k;
    const std::size_t cells = static_cast<std::size_t>(routing.tokens * routing.top_k);
    routing.topk_ids.resize(cells);
    routing.topk_weights.resize(cells);
    const std::vector<hsize_t> start{hsize_t(moe_index), hsize_t(begin), 0};
    const std::vector<hsize_t> count{1, hsize_t(routing.tokens), hsize_t(routing.top_k)};
    h5::read_box(impl.topk_ids, H5T_NATIVE_INT16, start, count, routing.topk_ids.data(), impl.where);
    h5::read_box(impl.topk_weights, H5T_NATIVE_FLOAT, start, count, routing.topk_weights.data(), impl.where);
    return routing;
}

std::vector<float> TraceReader::router_logits(int moe_index, int64_t begin, int64_t end) const {
    const Impl& impl = *m_impl;
    SY_CHECK(impl.meta.router_logits, UsageError,
             impl.where + ": this trace has no router logits (trace again with --router-logits)");
    impl.check_tokens(begin, end);
    impl.check_layer(moe_index);
    const int64_t experts = impl.meta.max_experts();
    std::vector<uint16_t> half(static_cast<std::size_t>((end - begin) * experts));
    h5::read_box(impl.router_logits, impl.half_type, {hsize_t(moe_index), hsize_t(begin), 0},
                 {1, hsize_t(end - begin), hsize_t(experts)}, half.data(), impl.where);
    std::vector<float> values(half.size());
    for (std::size_t i = 0; i < half.size(); ++i) values[i] = half_to_float(half[i]);
    return values;
}

std::vector<std::string> TraceReader::doc_domains(int64_t begin, int64_t end) const {
    return m_impl->read_strings(m_impl->domain, begin, end);
}

std::vector<std::string> TraceReader::doc_sources(int64_t begin, int64_t end) const {
    return m_impl->read_strings(m_impl->source, begin, end);
}

}  // namespace sy
