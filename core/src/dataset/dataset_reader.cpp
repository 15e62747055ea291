// Streaming dataset reader: one record at a time, cut into windows, packed into batches.
// Only the current document and the batch being filled are in memory.
#include <deque>
#include <fstream>

#include "dataset_record.h"
#include "switchyard/core/dataset.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/tokenizer.h"

namespace sy {

int64_t default_batch_tokens(int64_t seq_len) { return std::max<int64_t>(seq_len, 4096); }

int64_t DatasetBatch::token_count() const {
    int64_t count = 0;
    for (const Window& window : windows) count += static_cast<int64_t>(window.ids.size());
    return count;
}

struct DatasetReader::Impl {
    DatasetOptions options;
    const Tokenizer* tokenizer = nullptr;
    std::vector<std::filesystem::path> files;
    uint64_t total_bytes = 0;

    std::size_t next_file = 0;          // index of the next file to open
    std::ifstream in;                   // open JSONL file, if any
    std::string current_path;           // path of the open file (for messages)
    int64_t line_number = 0;            // lines read from the open file
    uint64_t bytes_read = 0;            // over all files
    int64_t docs = 0;
    int64_t emitted = 0;
    std::deque<Window> pending;         // windows of documents read but not yet emitted

    bool cap_reached() const { return options.max_tokens > 0 && emitted >= options.max_tokens; }
    bool read_document(std::vector<DocumentInfo>& new_docs);
    bool read_record(std::string& line, std::string& source, DataFileKind& kind);
    std::vector<int32_t> encode_text(const std::string& text, const std::string& source) const;
    void add_document(const std::string& domain, const std::string& source, std::vector<int32_t> ids,
                      std::vector<DocumentInfo>& new_docs);
};

namespace {

std::string read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    SY_CHECK(in, IoError, path.string() + ": cannot open");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool is_blank(const std::string& line) {
    return line.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

// Next record of any file: a non-blank JSONL line, or a whole .txt file. False at the end.
bool DatasetReader::Impl::read_record(std::string& line, std::string& source, DataFileKind& kind) {
    for (;;) {
        if (in.is_open()) {
            while (std::getline(in, line)) {
                ++line_number;
                bytes_read += line.size() + 1;
                if (is_blank(line)) continue;
                source = current_path + ":" + std::to_string(line_number);
                kind = DataFileKind::jsonl;
                return true;
            }
            SY_CHECK(in.eof(), IoError, current_path + ": read error after line " + std::to_string(line_number));
            in.close();
        }
        if (next_file >= files.size()) return false;
        const std::filesystem::path& path = files[next_file++];
        current_path = path.string();
        line_number = 0;
        if (data_file_kind(path) == DataFileKind::text) {
            line = read_whole_file(path);
            bytes_read += line.size();
            source = current_path + ":1";
            kind = DataFileKind::text;
            return true;
        }
        in.open(path, std::ios::binary);
        SY_CHECK(in.is_open(), IoError, current_path + ": cannot open");
    }
}

std::vector<int32_t> DatasetReader::Impl::encode_text(const std::string& text, const std::string& source) const {
    SY_CHECK(tokenizer != nullptr, UsageError,
             source + ": a \"text\" record needs the model's tokenizer.json (absent); use \"input_ids\"");
    std::vector<int32_t> ids;
    try {
        ids = tokenizer->encode(text, options.text.add_special_tokens).ids;
    } catch (const TokenizerError& e) {
        throw TokenizerError(source + ": " + e.what());
    }
    if (options.text.prepend_id) ids.insert(ids.begin(), *options.text.prepend_id);
    return ids;
}

void DatasetReader::Impl::add_document(const std::string& domain, const std::string& source, std::vector<int32_t> ids,
                                       std::vector<DocumentInfo>& new_docs) {
    const int64_t doc = docs++;
    new_docs.push_back(DocumentInfo{doc, domain, source});
    const int64_t length = static_cast<int64_t>(ids.size());
    // Consecutive windows, each its own attention window from position 0.
    for (int64_t start = 0; start < length; start += options.seq_len) {
        const int64_t end = std::min(length, start + options.seq_len);
        pending.push_back(Window{doc, start, std::vector<int32_t>(ids.begin() + start, ids.begin() + end)});
    }
}

bool DatasetReader::Impl::read_document(std::vector<DocumentInfo>& new_docs) {
    std::string line, source;
    DataFileKind kind = DataFileKind::jsonl;
    if (!read_record(line, source, kind)) return false;
    if (kind == DataFileKind::text) {
        add_document("", source, encode_text(line, source), new_docs);
        return true;
    }
    DataRecord record = parse_data_record(line, source, options.vocab_size);
    std::vector<int32_t> ids = record.has_input_ids ? std::move(record.input_ids) : encode_text(*record.text, source);
    add_document(record.domain, source, std::move(ids), new_docs);
    return true;
}

DatasetReader::DatasetReader(const DatasetOptions& options, const Tokenizer* tokenizer)
    : m_impl(std::make_unique<Impl>()) {
    Impl& impl = *m_impl;
    impl.options = options;
    if (impl.options.batch_tokens == 0) impl.options.batch_tokens = default_batch_tokens(options.seq_len);
    SY_CHECK(options.seq_len >= 1, UsageError, "--seq-len must be at least 1");
    SY_CHECK(impl.options.batch_tokens >= options.seq_len, UsageError,
             "--batch-tokens (" + std::to_string(impl.options.batch_tokens) + ") must be at least --seq-len (" +
                 std::to_string(options.seq_len) + ")");
    SY_CHECK(options.max_tokens >= 0, UsageError, "--max-tokens must not be negative");
    impl.tokenizer = tokenizer;
    impl.files = expand_dataset_files(options.files);
    for (const auto& file : impl.files) impl.total_bytes += std::filesystem::file_size(file);
}

DatasetReader::DatasetReader(DatasetReader&&) noexcept = default;
DatasetReader& DatasetReader::operator=(DatasetReader&&) noexcept = default;
DatasetReader::~DatasetReader() = default;

bool DatasetReader::next(DatasetBatch& batch) {
    Impl& impl = *m_impl;
    batch.windows.clear();
    batch.new_docs.clear();
    batch.first_token = impl.emitted;
    int64_t batch_tokens = 0;
    while (!impl.cap_reached()) {
        if (impl.pending.empty()) {
            if (!impl.read_document(batch.new_docs)) break;
            continue;
        }
        Window& window = impl.pending.front();
        // Windows are never split across batches; one window always fits an empty batch.
        if (batch_tokens + static_cast<int64_t>(window.ids.size()) > impl.options.batch_tokens) break;
        if (impl.options.max_tokens > 0)
            window.ids.resize(
                std::min<int64_t>(static_cast<int64_t>(window.ids.size()), impl.options.max_tokens - impl.emitted));
        const auto size = static_cast<int64_t>(window.ids.size());
        batch_tokens += size;
        impl.emitted += size;
        batch.windows.push_back(std::move(window));
        impl.pending.pop_front();
    }
    return !batch.windows.empty();
}

int64_t DatasetReader::tokens_emitted() const { return m_impl->emitted; }
int64_t DatasetReader::docs_read() const { return m_impl->docs; }
uint64_t DatasetReader::total_bytes() const { return m_impl->total_bytes; }
const std::vector<std::filesystem::path>& DatasetReader::files() const { return m_impl->files; }
const DatasetOptions& DatasetReader::options() const { return m_impl->options; }

double DatasetReader::fraction_read() const {
    if (m_impl->total_bytes == 0) return 1.0;
    return std::min(1.0, double(m_impl->bytes_read) / double(m_impl->total_bytes));
}

}  // namespace sy
