#include "switchyard/editing/upcycle_hidden.h"

#include <nlohmann/json.hpp>

#include "switchyard/compute/layer_input_means.h"

namespace sy {

HiddenStateFn hidden_state_fn(std::string device, int64_t seq_len, Progress& progress, const CancelToken& cancel) {
    return [device, seq_len, &progress, &cancel](const Model& dense, const std::filesystem::path& prompts,
                                                 const std::vector<std::string>& domains, HiddenPool pool) {
        LayerInputMeansOptions options;
        options.corpus.data = {prompts};
        options.corpus.seq_len = seq_len;
        options.runner.device = device;
        options.runner.dtype = device.rfind("cuda", 0) == 0 ? ComputeDType::bf16 : ComputeDType::f32;
        options.domains = domains;
        options.last_token = pool == HiddenPool::last;
        return mean_layer_inputs(dense, options, progress, cancel).means;
    };
}

UpcycleResult run_upcycle_entry(const std::filesystem::path& dense, const UpcycleEdit& entry, ExportDType dtype,
                                const EditOutput& output, const HiddenStateFn& hidden_states, Progress& progress,
                                const CancelToken& cancel) {
    UpcycleOptions options = nlohmann::json::parse(entry.options_json);
    options.dtype = dtype;
    return upcycle(dense, options, output, hidden_states, progress, cancel);
}

const UpcycleEdit* upcycle_entry(const Recipe& recipe) {
    return recipe.edits.size() == 1 ? std::get_if<UpcycleEdit>(&recipe.edits[0]) : nullptr;
}

}  // namespace sy
