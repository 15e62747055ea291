// Checks on `trace -o` made before the output is created or replaced; see trace_output.h.
#include "jobs/trace_output.h"

#include "jobs/corpus_job.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/result_store.h"
#include "switchyard/core/trace_store.h"

namespace sy {

void check_trace_output_is_no_input(const Model& model, const std::filesystem::path& output,
                                    const std::vector<std::filesystem::path>& data_files) {
    for (const auto& file : data_files)
        SY_CHECK(!same_file(output, file), UsageError,
                 output.string() + ": is one of the --data files; write the trace somewhere else");
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(model.checkpoint.dir(), ec))
        SY_CHECK(!same_file(output, entry.path()), UsageError,
                 output.string() + ": is a file of the model folder " + model.checkpoint.dir().string() +
                     "; write the trace somewhere else");
}

bool read_first_batch(const TraceOptions& options, DatasetReader& reader, DatasetBatch& batch) {
    if (options.resume) return false;
    if (reader.next(batch)) {
        for (const DocumentInfo& doc : batch.new_docs) check_trace_domain(doc.domain, doc.source);
        return true;
    }
    throw_no_tokens(reader, "trace; nothing was written");
}

}  // namespace sy
