#pragma once
// A model held for training: every layer's weights resident in the compute dtype (frozen: no
// autograd, never written after loading), and the trained tensors as f32 master copies that
// require gradients. The forward pass asks for a layer's weights with the masters substituted
// (cast to the compute dtype, so autograd carries gradients back to the masters): the same
// LayerWeights the inference runner builds, run through the same decoder_layer.
// Compute thread only.
#include <torch/types.h>

#include <memory>
#include <vector>

#include "forward/lm_output.h"
#include "switchyard/compute/training.h"
#include "weights/layer_weights.h"
#include "weights/weight_loader.h"

namespace sy {

class TrainableModel {
public:
    // Loads every weight, applies `initial` values (trained or not) and makes the masters.
    // Throws UsageError for a value whose shape does not match its tensor.
    TrainableModel(const Model& model, const RunnerOptions& runner, const std::vector<ParameterRef>& parameters,
                   const std::vector<ParameterValues>& initial);

    const Model& model() const { return m_model; }
    const ModelDescription& description() const;
    torch::Device device() const { return m_device; }
    torch::ScalarType dtype() const { return m_dtype; }
    const torch::Tensor& embedding() const { return m_embedding; }
    const LmHeadWeights& head() const { return m_head; }
    const std::vector<torch::Tensor>& masks() const { return m_masks; }

    // Layers below this index hold no trained tensor: they run without autograd.
    int first_trained_layer() const { return m_first_trained; }
    // Weights of `layer` for one forward pass, masters substituted. `differentiable`: grouped
    // expert stacks are dropped so every expert runs through the per-expert path autograd knows.
    LayerWeights layer(int layer, bool differentiable) const;

    const std::vector<ParameterRef>& parameters() const { return m_refs; }
    std::vector<torch::Tensor>& masters() { return m_masters; }   // f32 leaves, requires_grad
    // Copies `values` (same order and shapes as masters) into the masters.
    void set_masters(const std::vector<torch::Tensor>& values);
    const std::vector<torch::Tensor>& initial_masters() const { return m_initial; }
    // Masters rounded as each tensor will be stored (bf16 / f16 / FP8 blocks / f32), for
    // evaluating what the export will hold. Not differentiable.
    std::vector<torch::Tensor> stored_masters(const std::optional<DType>& store_dtype) const;

private:
    torch::Tensor& frozen_tensor(const ParameterRef& ref);

    const Model& m_model;
    torch::Device m_device;
    torch::ScalarType m_dtype;
    ComputeDType m_compute_dtype;
    WeightLoader m_loader;
    std::vector<std::shared_ptr<LayerWeights>> m_layers;
    torch::Tensor m_embedding;   // [V, H] in loaded_dtype (embed_tokens)
    LmHeadWeights m_head;
    std::vector<torch::Tensor> m_masks;
    std::vector<ParameterRef> m_refs;
    std::vector<torch::Tensor> m_masters, m_initial;
    int m_first_trained = 0;
};

}  // namespace sy
