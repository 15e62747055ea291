// upcycle(): open the sources, plan (every check before anything is created), compute the
// hidden router if asked, then stream the planned tensors into a staged folder with the new
// config.json, the first source's tokenizer files and switchyard-edit.json; rename when done.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "edit_provenance.h"
#include "output_files.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/staged_directory.h"
#include "upcycle_tensors.h"

namespace fs = std::filesystem;

namespace sy {
namespace {

// Expert e's prompt domain (editing/upcycle.h, prompt_domains) as an index into `domains`.
std::vector<int> expert_domains(const UpcycleOptions& o, std::size_t source_count, std::vector<std::string>& domains) {
    std::vector<int> of_expert;
    for (int64_t e = 0; e < o.experts; ++e) {
        std::string name;
        if (o.prompt_domains.empty()) name = std::to_string(e);
        else if (static_cast<int64_t>(o.prompt_domains.size()) == o.experts) name = o.prompt_domains[static_cast<std::size_t>(e)];
        else name = o.prompt_domains.at(static_cast<std::size_t>(source_of_expert(e, o.experts, source_count)));
        const auto it = std::find(domains.begin(), domains.end(), name);
        of_expert.push_back(static_cast<int>(it - domains.begin()));
        if (it == domains.end()) domains.push_back(name);
    }
    return of_expert;
}

void check_hidden_means(const HiddenStateMeans& means, const std::vector<std::string>& domains, const UpcyclePlan& plan) {
    SY_CHECK(means.size() == domains.size(), ShapeMismatch,
             "hidden router: expected mean hidden states for " + std::to_string(domains.size()) + " domains, got " +
                 std::to_string(means.size()));
    for (const auto& per_layer : means) {
        SY_CHECK(static_cast<int>(per_layer.size()) == plan.target.num_layers, ShapeMismatch,
                 "hidden router: expected " + std::to_string(plan.target.num_layers) + " layers, got " +
                     std::to_string(per_layer.size()));
        for (const auto& mean : per_layer)
            SY_CHECK(static_cast<int64_t>(mean.size()) == plan.target.hidden_size, ShapeMismatch,
                     "hidden router: expected hidden size " + std::to_string(plan.target.hidden_size) + ", got " +
                         std::to_string(mean.size()));
    }
}

nlohmann::ordered_json edit_entry(const UpcycleResult& summary) {
    nlohmann::ordered_json entry = upcycle_options_json(summary.resolved);
    entry["exact"] = summary.exactness.exact;
    entry["output_at_init"] = summary.exactness.output;
    return entry;
}

void write_tensors(const std::vector<const Model*>& sources, const UpcyclePlan& plan, UpcycleTensorMaker& maker,
                   const EditOutput& output, const fs::path& dir, UpcycleResult& result, Progress& progress,
                   const CancelToken& cancel) {
    std::vector<uint64_t> sizes;
    for (const PlannedTensor& t : plan.tensors) sizes.push_back(t.decl.nbytes());
    std::vector<std::vector<TensorDecl>> shards;
    for (const auto& indices : pack_shards(sizes, output.shard_size_bytes)) {
        shards.emplace_back();
        for (std::size_t i : indices) shards.back().push_back(plan.tensors[i].decl);
    }
    uint64_t total = 0;
    for (uint64_t size : sizes) total += size;
    ShardedCheckpointWriter writer(dir, std::move(shards),
                                   provenance_metadata(sources.front()->checkpoint, output.command_line));
    for (const PlannedTensor& t : plan.tensors) {
        cancel.throw_if_cancelled();
        maker.write(t, writer);
        result.total_bytes += t.decl.nbytes();
        ++result.tensor_count;
        progress.report(total ? double(result.total_bytes) / double(total) : 1.0, "upcycle");
    }
    writer.finish();
    result.files = writer.files();
}

}  // namespace

UpcycleResult upcycle(const fs::path& dense, const UpcycleOptions& options, const EditOutput& output,
                      const HiddenStateFn& hidden_states, Progress& progress, const CancelToken& cancel) {
    std::vector<Model> models;
    models.push_back(open_model(dense));
    for (const fs::path& source : options.sources) models.push_back(open_model(source));
    std::vector<const Model*> sources;
    std::vector<fs::path> inputs;
    for (const Model& m : models) {
        check_not_overlapping(m.checkpoint.dir(), output.dir);
        sources.push_back(&m);
        inputs.push_back(m.checkpoint.dir());
    }
    const UpcyclePlan plan = plan_upcycle(sources, options);
    const UpcycleOptions& o = plan.summary.resolved;
    const bool hidden = o.router == UpcycleRouter::hidden;
    SY_CHECK(!hidden || static_cast<bool>(hidden_states), UsageError,
             "--router hidden runs the dense model's forward pass, which this caller does not provide "
             "(switchyard upcycle does, through switchyard-torch)");
    StagedDirectory staged(output.dir, output.force);   // refuses a non-empty folder before the forward pass

    HiddenStateMeans means;
    std::vector<std::string> domains;
    std::vector<int> of_expert;
    if (hidden) {
        of_expert = expert_domains(o, sources.size(), domains);
        try {
            means = hidden_states(*sources.front(), o.prompts, domains, o.hidden_pool);
        } catch (const UsageError& e) {
            throw UsageError("--router hidden: " + std::string(e.what()) +
                             " (expert e's prompts are the records whose domain is \"e\" unless --prompt-domains names them)");
        }
        check_hidden_means(means, domains, plan);
    }
    UpcycleResult result = plan.summary;
    UpcycleTensorMaker maker(sources, plan, hidden ? &means : nullptr, of_expert);
    write_tensors(sources, plan, maker, output, staged.path(), result, progress, cancel);
    write_text(staged.path() / "config.json", plan.config.dump(2) + "\n");
    copy_side_files(sources.front()->checkpoint.dir(), staged.path(), {"config.json", k_edit_provenance_file});
    write_edit_provenance(staged.path(), inputs, output.command_line, nlohmann::ordered_json::array({edit_entry(result)}));
    staged.commit();
    return result;
}

}  // namespace sy
