// TrainingLog: step rows streamed into an HDF5 file under SWMR (the rules of trace_writer.cpp:
// latest format, every dataset created before H5Fstart_swmr_write, only chunked datasets grown
// afterwards, fixed-length strings), flushed after every row.
#include "switchyard/core/training_log.h"

#include <cmath>
#include <limits>

#include "h5_util.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/utc_time.h"

namespace sy {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_format = "switchyard-training-log";
constexpr hsize_t k_rows_per_chunk = 256;

// One extendible column: rows on axis 0, `width` values per row (0: a 1-d dataset).
struct Column {
    const char* name;
    hid_t file_type;
    hid_t mem_type;
};

const Column k_step = {"/steps/step", H5T_STD_I64LE, H5T_NATIVE_INT64};
const Column k_lr = {"/steps/lr", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_loss = {"/steps/loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_stream_loss = {"/steps/stream_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_routing_loss = {"/steps/routing_loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_load_cv = {"/steps/load_cv", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_grad_norm = {"/steps/grad_norm", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_tokens = {"/steps/tokens", H5T_STD_I64LE, H5T_NATIVE_INT64};
const Column k_rate = {"/steps/tokens_per_second", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_seconds = {"/steps/seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};
const Column k_heldout_step = {"/heldout/step", H5T_STD_I64LE, H5T_NATIVE_INT64};
const Column k_heldout_nll = {"/heldout/nll", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE};

h5::Handle latest_format_fapl() {
    h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    return fapl;
}

void create_column(hid_t file, const Column& c, std::size_t width, const std::string& where) {
    h5::ExtendibleSpec spec{c.name, c.file_type, {0}, 0, {k_rows_per_chunk}};
    if (width > 0) {
        spec.dims.push_back(width);
        spec.chunk.push_back(width);
    }
    h5::create_extendible(file, spec, where);
}

// The string datasets that name the columns of stream_loss / routing_loss.
void write_names(hid_t file, const std::string& name, const std::vector<std::string>& values, const std::string& where) {
    h5::Handle group(h5::check_id(H5Gopen2(file, "/steps", H5P_DEFAULT), where, "missing group /steps"));
    h5::write_string_dataset(group, name, values, where);
}

std::vector<std::string> read_names(hid_t file, const std::string& path, const std::string& where) {
    if (H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0) return {};
    h5::Handle dataset = h5::open_dataset(file, path, 0, where);
    return h5::read_string_rows(dataset, 0, h5::dataset_dims(dataset, where)[0], where);
}

void write_meta(hid_t file, const TrainingLogMeta& meta, const std::string& where) {
    h5::write_attribute(file, "format", std::string(k_format), where);
    h5::write_attribute(file, "format_version", training_log_format_version, where);
    h5::write_attribute(file, "tool_version", std::string("switchyard ") + SWITCHYARD_VERSION, where);
    h5::write_attribute(file, "created", utc_now_iso8601(), where);
    h5::write_attribute(file, "command_line", meta.command_line, where);
    h5::write_attribute(file, "model_path", meta.model_path, where);
    h5::write_attribute(file, "model_fingerprint", meta.model_fingerprint, where);
    h5::write_attribute(file, "run", meta.run_json, where);
}

TrainingLogMeta read_meta(hid_t file, const std::string& where) {
    SY_CHECK(h5::has_attribute(file, "format") && h5::read_string_attribute(file, "format", where) == k_format,
             UsageError, where + ": not a Switchyard training log");
    const int64_t version = h5::read_int_attribute(file, "format_version", where);
    SY_CHECK(version <= training_log_format_version, UsageError,
             where + ": training log format " + std::to_string(version) + " is newer than this Switchyard reads");
    TrainingLogMeta meta;
    meta.command_line = h5::read_string_attribute(file, "command_line", where);
    meta.model_path = h5::read_string_attribute(file, "model_path", where);
    meta.model_fingerprint = h5::read_string_attribute(file, "model_fingerprint", where);
    meta.run_json = h5::read_string_attribute(file, "run", where);
    meta.streams = read_names(file, "/steps/stream_names", where);
    meta.routing = read_names(file, "/steps/routing_names", where);
    if (H5Lexists(file, "/steps/load_layers", H5P_DEFAULT) > 0) {
        h5::Handle dataset = h5::open_dataset(file, "/steps/load_layers", 0, where);
        const hsize_t m = h5::dataset_dims(dataset, where)[0];
        meta.load_layers.resize(static_cast<std::size_t>(m));
        if (m) h5::read_box(dataset, H5T_NATIVE_INT32, {0}, {m}, meta.load_layers.data(), where);
    }
    return meta;
}

template <class T>
std::vector<T> read_column(hid_t file, const Column& c, std::size_t width, const std::string& where) {
    h5::Handle dataset = h5::open_dataset(file, c.name, 0, where);
    const hsize_t rows = h5::dataset_dims(dataset, where)[0];
    std::vector<hsize_t> start{0}, count{rows};
    if (width > 0) {
        start.push_back(0);
        count.push_back(width);
    }
    std::vector<T> out(static_cast<std::size_t>(rows) * std::max<std::size_t>(width, 1));
    h5::read_box(dataset, c.mem_type, start, count, out.data(), where);
    return out;
}

}  // namespace

struct TrainingLog::Impl {
    std::string where;
    TrainingLogMeta meta;
    h5::Handle file;
    std::vector<h5::Handle> steps;   // k_step ... k_seconds, in the order of open_columns()
    h5::Handle heldout_step, heldout_nll;
    hsize_t step_rows = 0, heldout_rows = 0;

    std::vector<std::pair<Column, std::size_t>> step_columns() const {
        std::vector<std::pair<Column, std::size_t>> columns = {
            {k_step, 0}, {k_lr, 0}, {k_loss, 0}, {k_stream_loss, meta.streams.size()}, {k_grad_norm, 0},
            {k_tokens, 0}, {k_rate, 0}, {k_seconds, 0}};
        if (!meta.routing.empty()) columns.push_back({k_routing_loss, meta.routing.size()});
        if (!meta.load_layers.empty()) columns.push_back({k_load_cv, meta.load_layers.size()});
        return columns;
    }
    void open_columns() {
        steps.clear();
        for (const auto& [column, width] : step_columns()) steps.push_back(h5::open_dataset(file, column.name, 0, where));
        heldout_step = h5::open_dataset(file, k_heldout_step.name, 0, where);
        heldout_nll = h5::open_dataset(file, k_heldout_nll.name, 0, where);
    }
    void start_swmr() {
        steps.clear();
        heldout_step.close();
        heldout_nll.close();
        h5::check(H5Fstart_swmr_write(file), where, "cannot start SWMR writing");
        open_columns();
    }
    void flush() { h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), where, "cannot flush"); }
};

TrainingLog::TrainingLog(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
TrainingLog::TrainingLog(TrainingLog&&) noexcept = default;
TrainingLog& TrainingLog::operator=(TrainingLog&&) noexcept = default;
TrainingLog::~TrainingLog() = default;

TrainingLog TrainingLog::create(const fs::path& path, const TrainingLogMeta& meta, bool overwrite) {
    SY_CHECK(!meta.streams.empty(), UsageError, path.string() + ": a training log needs at least one stream");
    std::error_code ec;
    SY_CHECK(overwrite || !fs::exists(path, ec), UsageError, path.string() + ": already exists");
    h5::init();
    auto impl = std::make_unique<Impl>();
    impl->where = path.string();
    impl->meta = meta;
    h5::Handle fapl = latest_format_fapl();
    impl->file = h5::Handle(h5::check_id(H5Fcreate(impl->where.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), impl->where,
                                         "cannot create the training log"));
    write_meta(impl->file, meta, impl->where);
    for (const auto& [column, width] : impl->step_columns()) create_column(impl->file, column, width, impl->where);
    create_column(impl->file, k_heldout_step, 0, impl->where);
    create_column(impl->file, k_heldout_nll, meta.streams.size(), impl->where);
    write_names(impl->file, "stream_names", meta.streams, impl->where);
    if (!meta.routing.empty()) write_names(impl->file, "routing_names", meta.routing, impl->where);
    if (!meta.load_layers.empty()) {
        h5::Handle group(h5::check_id(H5Gopen2(impl->file, "/steps", H5P_DEFAULT), impl->where, "missing group /steps"));
        h5::write_int_dataset(group, "load_layers", meta.load_layers, impl->where);
    }
    impl->start_swmr();
    impl->flush();
    return TrainingLog(std::move(impl));
}

TrainingLog TrainingLog::resume(const fs::path& path, const TrainingLogMeta& meta, int64_t steps_kept) {
    std::error_code ec;
    SY_CHECK(fs::exists(path, ec), UsageError, path.string() + ": no training log to resume (file not found)");
    h5::init();
    auto impl = std::make_unique<Impl>();
    impl->where = path.string();
    h5::Handle fapl = latest_format_fapl();
    impl->file = h5::Handle(H5Fopen(impl->where.c_str(), H5F_ACC_RDWR, fapl));
    if (!impl->file.valid()) {   // left marked open by a writer that died: clear it as h5clear -s does
        hbool_t clear = true;
        H5Pset(fapl, "clear_status_flags", &clear);
        impl->file = h5::Handle(h5::check_id(H5Fopen(impl->where.c_str(), H5F_ACC_RDWR, fapl), impl->where,
                                             "cannot reopen the training log"));
    }
    const TrainingLogMeta stored = read_meta(impl->file, impl->where);
    SY_CHECK(stored.streams == meta.streams && stored.routing == meta.routing && stored.load_layers == meta.load_layers,
             UsageError, impl->where + ": this log records other data streams, routing losses or MoE layers than the resumed run");
    impl->meta = stored;
    impl->open_columns();
    // Rows after the resumable state's step were logged by steps that state does not hold.
    const std::vector<int64_t> step = read_column<int64_t>(impl->file, k_step, 0, impl->where);
    hsize_t keep = 0;
    while (keep < step.size() && step[keep] <= steps_kept) ++keep;
    for (h5::Handle& dataset : impl->steps) h5::set_length(dataset, 0, keep, impl->where);
    impl->step_rows = keep;
    const std::vector<int64_t> held = read_column<int64_t>(impl->file, k_heldout_step, 0, impl->where);
    hsize_t keep_held = 0;
    while (keep_held < held.size() && held[keep_held] <= steps_kept) ++keep_held;
    h5::set_length(impl->heldout_step, 0, keep_held, impl->where);
    h5::set_length(impl->heldout_nll, 0, keep_held, impl->where);
    impl->heldout_rows = keep_held;
    impl->start_swmr();
    impl->flush();
    return TrainingLog(std::move(impl));
}

void TrainingLog::append(const TrainingStepRow& row) {
    Impl& impl = *m_impl;
    SY_CHECK(impl.file.valid(), UsageError, impl.where + ": the training log is closed");
    SY_CHECK(row.stream_loss.size() == impl.meta.streams.size() && row.routing_loss.size() == impl.meta.routing.size() &&
                 row.load_cv.size() == impl.meta.load_layers.size(),
             ShapeMismatch, impl.where + ": a step row has " + std::to_string(row.stream_loss.size()) + " stream and " +
                 std::to_string(row.routing_loss.size()) + " routing losses and " + std::to_string(row.load_cv.size()) +
                 " load values, expected " + std::to_string(impl.meta.streams.size()) + ", " +
                 std::to_string(impl.meta.routing.size()) + " and " + std::to_string(impl.meta.load_layers.size()));
    std::vector<const void*> values = {&row.step, &row.lr, &row.loss, row.stream_loss.data(), &row.grad_norm,
                                       &row.tokens, &row.tokens_per_second, &row.seconds};
    if (!impl.meta.routing.empty()) values.push_back(row.routing_loss.data());
    if (!impl.meta.load_layers.empty()) values.push_back(row.load_cv.data());
    const auto columns = impl.step_columns();
    for (std::size_t i = 0; i < columns.size(); ++i)
        h5::append_rows(impl.steps[i], columns[i].first.mem_type, 0, impl.step_rows, 1, values[i], impl.where);
    ++impl.step_rows;
    impl.flush();
}

void TrainingLog::append(const HeldoutRow& row) {
    Impl& impl = *m_impl;
    SY_CHECK(impl.file.valid(), UsageError, impl.where + ": the training log is closed");
    SY_CHECK(row.nll.size() == impl.meta.streams.size(), ShapeMismatch,
             impl.where + ": a held-out row has " + std::to_string(row.nll.size()) + " values, expected " +
                 std::to_string(impl.meta.streams.size()));
    h5::append_rows(impl.heldout_nll, H5T_NATIVE_DOUBLE, 0, impl.heldout_rows, 1, row.nll.data(), impl.where);
    h5::append_rows(impl.heldout_step, H5T_NATIVE_INT64, 0, impl.heldout_rows, 1, &row.step, impl.where);
    ++impl.heldout_rows;
    impl.flush();
}

void TrainingLog::close() {
    Impl& impl = *m_impl;
    if (!impl.file.valid()) return;
    impl.flush();
    impl.steps.clear();
    impl.heldout_step.close();
    impl.heldout_nll.close();
    impl.file.close();
}

TrainingLogContents read_training_log(const fs::path& path) {
    h5::init();
    const std::string where = path.string();
    h5::Handle file(H5Fopen(where.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT));
    if (!file.valid()) file = h5::Handle(h5::check_id(H5Fopen(where.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), where, "cannot open"));
    TrainingLogContents out;
    out.meta = read_meta(file, where);
    const std::size_t s = out.meta.streams.size(), r = out.meta.routing.size(), m = out.meta.load_layers.size();
    const auto step = read_column<int64_t>(file, k_step, 0, where), tokens = read_column<int64_t>(file, k_tokens, 0, where);
    const auto lr = read_column<double>(file, k_lr, 0, where), loss = read_column<double>(file, k_loss, 0, where);
    const auto grad = read_column<double>(file, k_grad_norm, 0, where), rate = read_column<double>(file, k_rate, 0, where);
    const auto seconds = read_column<double>(file, k_seconds, 0, where);
    const auto stream_loss = read_column<double>(file, k_stream_loss, s, where);
    const auto routing_loss = r ? read_column<double>(file, k_routing_loss, r, where) : std::vector<double>();
    const auto load_cv = m ? read_column<double>(file, k_load_cv, m, where) : std::vector<double>();
    for (std::size_t i = 0; i < step.size(); ++i) {
        TrainingStepRow row;
        row.step = step[i], row.lr = lr[i], row.loss = loss[i], row.grad_norm = grad[i];
        row.tokens = tokens[i], row.tokens_per_second = rate[i], row.seconds = seconds[i];
        row.stream_loss.assign(stream_loss.begin() + i * s, stream_loss.begin() + (i + 1) * s);
        if (r) row.routing_loss.assign(routing_loss.begin() + i * r, routing_loss.begin() + (i + 1) * r);
        if (m) row.load_cv.assign(load_cv.begin() + i * m, load_cv.begin() + (i + 1) * m);
        out.steps.push_back(std::move(row));
    }
    const auto held_step = read_column<int64_t>(file, k_heldout_step, 0, where);
    const auto held_nll = read_column<double>(file, k_heldout_nll, s, where);
    for (std::size_t i = 0; i < held_step.size(); ++i)
        out.heldout.push_back({held_step[i], std::vector<double>(held_nll.begin() + i * s, held_nll.begin() + (i + 1) * s)});
    return out;
}

}  // namespace sy
