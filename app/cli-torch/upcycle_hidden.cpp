#include "upcycle_hidden.h"

#include "switchyard/compute/layer_input_means.h"

namespace sy::cli {

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

}  // namespace sy::cli
