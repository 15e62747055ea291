// TraceWriter: creates or resumes a trace and appends batches under SWMR (docs/hdf5-schema.md).
// HDF5 1.10 SWMR rules followed here: latest file format, every dataset and attribute created
// before H5Fstart_swmr_write, only chunked datasets grown afterwards, fixed-length strings only.
// A lock held while the file is open tells a live writer from a dead one (trace_lock.h).
#include "h5_util.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/trace_store.h"
#include "trace_lock.h"
#include "trace_meta.h"
#include "trace_schema.h"

namespace sy {

namespace ts = trace_schema;

struct TraceWriter::Impl {
    std::string where;      // file path, prefix of every message
    TraceWriteLock lock;    // held while the file is open (declared before `file`: released after it)
    TraceMeta meta;
    h5::Handle file;
    h5::Handle ids, doc, pos, nll, topk_ids, topk_weights, router_logits, domain, source;
    h5::Handle domain_type, source_type, half_type;
    int64_t tokens = 0;
    int64_t docs = 0;
    bool started = false;

    int64_t layers() const { return meta.moe_layer_count(); }
    void create_datasets();
    void open_datasets();
    void close_datasets();
    void start_swmr();
    void check_shapes(const TraceBatchData& batch) const;
    void write_docs(const TraceBatchData& batch);
    void write_token_rows(const TraceBatchData& batch);
};

namespace {

h5::Handle latest_format_fapl() {
    h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);   // SWMR needs the v110 format
    return fapl;
}

// A source longer than its cell keeps its tail ("...dir/file.jsonl:123"), cut at a UTF-8 boundary.
std::string fit_source(const std::string& source) {
    if (source.size() <= ts::source_width) return source;
    std::size_t from = source.size() - (ts::source_width - 3);
    while (from < source.size() && (static_cast<unsigned char>(source[from]) & 0xC0) == 0x80) ++from;
    return "..." + source.substr(from);
}

// HDF5 truncates a file before it checks its own lock, so a reader's file would be emptied
// under it by H5Fcreate: refuse first, naming who holds it.
void refuse_while_read(const std::filesystem::path& path, const std::string& action) {
    if (!flock_held(path)) return;
    std::string who;
    for (pid_t pid : flock_holders(path)) who += (who.empty() ? "" : ", ") + describe_process(pid);
    throw UsageError(path.string() + ": a reader holds it open (" + (who.empty() ? "an HDF5 program" : who) +
                     " opened it without SWMR, as h5py's File(path) or h5dump do); close it, then " + action +
                     " again");
}

// Opens for --resume. The caller holds the writer lock, so no live writer has the file: a
// superblock still marked "open for writing" was left by a writer that died (kill -9, power
// cut), and the mark is cleared as `h5clear -s` does (its private file-access property).
hid_t open_for_resume(const std::string& where) {
    h5::Handle fapl = latest_format_fapl();
    const hid_t id = H5Fopen(where.c_str(), H5F_ACC_RDWR, fapl);
    if (id >= 0) return id;
    const std::string detail = h5::last_error();
    hbool_t clear = true;
    if (H5Pset(fapl, "clear_status_flags", &clear) >= 0) {
        const hid_t cleared = H5Fopen(where.c_str(), H5F_ACC_RDWR, fapl);
        if (cleared >= 0) return cleared;
        h5::last_error();
    }
    throw IoError(where + ": cannot reopen for --resume (" + detail + ")");
}

}  // namespace

void TraceWriter::Impl::create_datasets() {
    const auto lm = static_cast<hsize_t>(layers()), k = static_cast<hsize_t>(meta.top_k),
               e = static_cast<hsize_t>(meta.max_experts());
    const hsize_t token_rows = ts::token_chunk(4, meta.batch_tokens);
    std::vector<h5::ExtendibleSpec> specs = {
        {ts::doc_domain, domain_type, {0}, 0, {ts::docs_chunk}},
        {ts::doc_source, source_type, {0}, 0, {ts::docs_chunk}},
        {ts::token_ids, H5T_STD_I32LE, {0}, 0, {token_rows}},
        {ts::token_doc, H5T_STD_I32LE, {0}, 0, {token_rows}},
        {ts::token_pos, H5T_STD_I32LE, {0}, 0, {token_rows}},
        {ts::nll, H5T_IEEE_F32LE, {0}, 0, {token_rows}},
        {ts::topk_ids, H5T_STD_I16LE, {lm, 0, k}, 1, {1, ts::token_chunk(2 * k, meta.batch_tokens), k}},
        {ts::topk_weights, H5T_IEEE_F32LE, {lm, 0, k}, 1, {1, ts::token_chunk(4 * k, meta.batch_tokens), k}},
    };
    if (meta.router_logits)
        specs.push_back(
            {ts::router_logits, half_type, {lm, 0, e}, 1, {1, ts::token_chunk(2 * e, meta.batch_tokens), e}});
    for (const auto& spec : specs) h5::create_extendible(file, spec, where);
}

void TraceWriter::Impl::open_datasets() {
    // Cache two chunks per layer: a batch ends inside at most one partly filled chunk per layer.
    const std::size_t lm = static_cast<std::size_t>(layers()), k = static_cast<std::size_t>(meta.top_k),
                      e = static_cast<std::size_t>(meta.max_experts());
    const auto routing_cache = [&](std::size_t row_bytes) {
        return 2 * lm * ts::token_chunk(row_bytes, meta.batch_tokens) * row_bytes;
    };
    domain = h5::open_dataset(file, ts::doc_domain, 0, where);
    source = h5::open_dataset(file, ts::doc_source, 0, where);
    ids = h5::open_dataset(file, ts::token_ids, 0, where);
    doc = h5::open_dataset(file, ts::token_doc, 0, where);
    pos = h5::open_dataset(file, ts::token_pos, 0, where);
    nll = h5::open_dataset(file, ts::nll, 0, where);
    topk_ids = h5::open_dataset(file, ts::topk_ids, routing_cache(2 * k), where);
    topk_weights = h5::open_dataset(file, ts::topk_weights, routing_cache(4 * k), where);
    if (meta.router_logits) router_logits = h5::open_dataset(file, ts::router_logits, routing_cache(2 * e), where);
}

void TraceWriter::Impl::close_datasets() {
    for (h5::Handle* handle : {&ids, &doc, &pos, &nll, &topk_ids, &topk_weights, &router_logits, &domain, &source})
        handle->close();
}

void TraceWriter::Impl::start_swmr() {
    close_datasets();
    h5::check(H5Fstart_swmr_write(file), where, "cannot start SWMR writing");
    open_datasets();
    started = true;
}

TraceWriter::TraceWriter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
TraceWriter::TraceWriter(TraceWriter&&) noexcept = default;
TraceWriter& TraceWriter::operator=(TraceWriter&&) noexcept = default;
TraceWriter::~TraceWriter() = default;   // Handles close datasets, then the file (member order)

static std::unique_ptr<TraceWriter::Impl> new_impl(const std::filesystem::path& path) {
    h5::init();
    auto impl = std::make_unique<TraceWriter::Impl>();
    impl->where = path.string();
    impl->domain_type = h5::string_type(ts::domain_width);
    impl->source_type = h5::string_type(ts::source_width);
    impl->half_type = h5::float16_type();
    return impl;
}

TraceWriter TraceWriter::create(const std::filesystem::path& path, const TraceMeta& meta, bool overwrite) {
    std::error_code ec;
    SY_CHECK(overwrite || !std::filesystem::exists(path, ec), UsageError,
             path.string() + ": already exists; pass --resume to continue that trace, or --force to replace it");
    auto impl = new_impl(path);
    impl->meta = meta;
    if (std::filesystem::exists(path, ec)) {   // --force: never over a live writer or an open reader
        impl->lock = TraceWriteLock::acquire(path);
        refuse_while_read(path, "replace it");
    }
    h5::Handle fapl = latest_format_fapl();
    impl->file = h5::Handle(h5::check_id(H5Fcreate(impl->where.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), impl->where,
                                         "cannot create the trace file"));
    if (!impl->lock.held()) impl->lock = TraceWriteLock::acquire(path);
    write_trace_meta(impl->file, meta, impl->where);
    impl->create_datasets();
    impl->start_swmr();
    return TraceWriter(std::move(impl));
}

TraceWriter TraceWriter::resume(const std::filesystem::path& path, const TraceMeta& meta) {
    std::error_code ec;
    SY_CHECK(std::filesystem::exists(path, ec), UsageError, path.string() + ": no trace to resume (file not found)");
    auto impl = new_impl(path);
    impl->lock = TraceWriteLock::acquire(path);   // a live writer: refused, naming its process
    refuse_while_read(path, "resume");
    impl->file = h5::Handle(open_for_resume(impl->where));
    const TraceMeta stored = read_trace_meta(impl->file, impl->where);
    check_resume_matches(stored, meta, impl->where);
    impl->meta = stored;
    impl->meta.device = meta.device;
    impl->meta.max_tokens = meta.max_tokens;   // stored by start(): a resume refused before it changes nothing
    impl->open_datasets();
    // /tokens/ids is written last in each batch: its length is what committed (trace_store.h).
    const hsize_t committed = h5::dataset_dims(impl->ids, impl->where)[0];
    for (hid_t dataset : {hid_t(impl->doc), hid_t(impl->pos), hid_t(impl->nll)})
        h5::set_length(dataset, 0, committed, impl->where);
    for (hid_t dataset : {hid_t(impl->topk_ids), hid_t(impl->topk_weights)})
        h5::set_length(dataset, 1, committed, impl->where);
    if (impl->meta.router_logits) h5::set_length(impl->router_logits, 1, committed, impl->where);
    impl->tokens = static_cast<int64_t>(committed);
    impl->docs = static_cast<int64_t>(std::min(h5::dataset_dims(impl->domain, impl->where)[0],
                                               h5::dataset_dims(impl->source, impl->where)[0]));
    return TraceWriter(std::move(impl));
}

void TraceWriter::start(int64_t doc_count) {
    Impl& impl = *m_impl;
    SY_CHECK(!impl.started, UsageError, impl.where + ": trace writer already started");
    SY_CHECK(doc_count <= impl.docs, UsageError,
             impl.where + ": holds " + std::to_string(impl.docs) + " documents where this dataset has " +
                 std::to_string(doc_count) + " in the part already traced; the data changed, start a new trace");
    h5::set_length(impl.domain, 0, static_cast<hsize_t>(doc_count), impl.where);
    h5::set_length(impl.source, 0, static_cast<hsize_t>(doc_count), impl.where);
    impl.docs = doc_count;
    update_resumable_meta(impl.file, impl.meta, impl.where);
    impl.start_swmr();
}

void check_trace_domain(const std::string& domain, const std::string& source) {
    SY_CHECK(domain.size() <= ts::domain_width, UsageError,
             source + ": domain \"" + domain.substr(0, 80) + "...\" is longer than " + std::to_string(ts::domain_width) + " bytes");
}

int64_t TraceWriter::token_count() const { return m_impl->tokens; }
int64_t TraceWriter::doc_count() const { return m_impl->docs; }
const TraceMeta& TraceWriter::meta() const { return m_impl->meta; }

void TraceWriter::Impl::check_shapes(const TraceBatchData& batch) const {
    const auto n = static_cast<std::size_t>(batch.token_count());
    const auto per_layer = static_cast<std::size_t>(layers()) * n;
    const std::size_t k = static_cast<std::size_t>(meta.top_k), e = static_cast<std::size_t>(meta.max_experts());
    const bool ok = batch.doc.size() == n && batch.pos.size() == n && batch.nll.size() == n &&
                    batch.topk_ids.size() == per_layer * k && batch.topk_weights.size() == per_layer * k &&
                    batch.router_logits.size() == (meta.router_logits ? per_layer * e : 0) &&
                    batch.doc_domains.size() == batch.doc_sources.size();
    SY_CHECK(ok, ShapeMismatch, where + ": trace batch arrays do not match its " + std::to_string(n) + " tokens");
    for (std::size_t i = 0; i < batch.doc_domains.size(); ++i) check_trace_domain(batch.doc_domains[i], batch.doc_sources[i]);
}

void TraceWriter::Impl::write_docs(const TraceBatchData& batch) {
    const hsize_t d = batch.doc_domains.size();
    std::vector<std::string> sources;
    for (const auto& source : batch.doc_sources) sources.push_back(fit_source(source));
    const std::vector<char> domain_cells = h5::pack_strings(batch.doc_domains, ts::domain_width);
    const std::vector<char> source_cells = h5::pack_strings(sources, ts::source_width);
    h5::append_rows(domain, domain_type, 0, docs, d, domain_cells.data(), where);
    h5::append_rows(source, source_type, 0, docs, d, source_cells.data(), where);
}

void TraceWriter::Impl::write_token_rows(const TraceBatchData& batch) {
    const auto n = static_cast<hsize_t>(batch.token_count()), old = static_cast<hsize_t>(tokens);
    h5::append_rows(doc, H5T_NATIVE_INT32, 0, old, n, batch.doc.data(), where);
    h5::append_rows(pos, H5T_NATIVE_INT32, 0, old, n, batch.pos.data(), where);
    h5::append_rows(nll, H5T_NATIVE_FLOAT, 0, old, n, batch.nll.data(), where);
    h5::append_rows(topk_ids, H5T_NATIVE_INT16, 1, old, n, batch.topk_ids.data(), where);
    h5::append_rows(topk_weights, H5T_NATIVE_FLOAT, 1, old, n, batch.topk_weights.data(), where);
    if (meta.router_logits) h5::append_rows(router_logits, half_type, 1, old, n, batch.router_logits.data(), where);
}

void TraceWriter::append(const TraceBatchData& batch) {
    Impl& impl = *m_impl;
    SY_CHECK(impl.started && impl.file.valid(), UsageError, impl.where + ": trace writer is not open for appending");
    impl.check_shapes(batch);
    impl.write_docs(batch);
    impl.write_token_rows(batch);
    // Everything else of the batch reaches the file before /tokens/ids grows (commit point).
    h5::check(H5Fflush(impl.file, H5F_SCOPE_LOCAL), impl.where, "cannot flush");
    h5::append_rows(impl.ids, H5T_NATIVE_INT32, 0, static_cast<hsize_t>(impl.tokens),
                    static_cast<hsize_t>(batch.token_count()), batch.ids.data(), impl.where);
    h5::check(H5Fflush(impl.file, H5F_SCOPE_LOCAL), impl.where, "cannot flush");
    impl.tokens += batch.token_count();
    impl.docs += static_cast<int64_t>(batch.doc_domains.size());
}

void TraceWriter::close() {
    Impl& impl = *m_impl;
    if (!impl.file.valid()) return;
    impl.close_datasets();
    impl.file.close();
    impl.lock.release();
}

}  // namespace sy
