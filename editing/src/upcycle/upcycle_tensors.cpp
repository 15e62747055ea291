#include "upcycle_tensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "output_files.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/tensor_names.h"
#include "upcycle_random.h"

namespace sy {
namespace {

const unsigned char* bytes_of(const Checkpoint& checkpoint, const TensorInfo& info) {
    return reinterpret_cast<const unsigned char*>(checkpoint.view(info).data);
}

std::size_t element_count(const TensorDecl& decl) { return static_cast<std::size_t>(decl.nbytes() / dtype_size(decl.dtype)); }

void store_all(const std::vector<float>& values, const TensorDecl& decl, unsigned char* out) {
    const std::size_t size = dtype_size(decl.dtype);
    for (std::size_t i = 0; i < values.size(); ++i) store_f32(decl.dtype, values[i], out + i * size);
}

// Part index of an FFN role in the streams of Drop-Upcycling values (gate, up, down).
int64_t part_index(TensorRole role) { return role == TensorRole::ffn_gate ? 0 : role == TensorRole::ffn_up ? 1 : 2; }

// Element `n` of `in` (dtype `from`) to element `m` of `out` (dtype `to`), bit for bit when the
// dtypes agree.
struct ElementCopy {
    DType from, to;
    const unsigned char* in;
    unsigned char* out;
    const std::string& name;

    void operator()(std::size_t m, std::size_t n, std::size_t count = 1) const {
        if (from == to) {
            const std::size_t size = dtype_size(from);
            std::memcpy(out + m * size, in + n * size, count * size);
            return;
        }
        for (std::size_t i = 0; i < count; ++i) store_f32(to, load_f32(from, in, n + i, name), out + (m + i) * dtype_size(to));
    }
};

}  // namespace

UpcycleTensorMaker::UpcycleTensorMaker(const std::vector<const Model*>& sources, const UpcyclePlan& plan,
                                       const HiddenStateMeans* hidden_means, std::vector<int> expert_domain)
    : m_sources(sources), m_plan(plan), m_o(plan.summary.resolved), m_hidden(hidden_means),
      m_expert_domain(std::move(expert_domain)) {}

std::vector<int64_t> UpcycleTensorMaker::expert_neurons(int layer, int expert) const {
    const int64_t width = m_plan.expert_width, part = expert % m_o.granularity;
    if (m_o.granularity == 1) {
        std::vector<int64_t> all(static_cast<std::size_t>(width));
        for (int64_t i = 0; i < width; ++i) all[static_cast<std::size_t>(i)] = i;
        return all;
    }
    RandomStream random(m_o.seed, RandomPurpose::partition, layer, expert / m_o.granularity);
    const std::vector<int64_t> shuffled = random_permutation(random, m_plan.dense_width);
    std::vector<int64_t> neurons(shuffled.begin() + part * width, shuffled.begin() + (part + 1) * width);
    std::sort(neurons.begin(), neurons.end());
    return neurons;
}

std::vector<int64_t> UpcycleTensorMaker::dropped_positions(int layer, int expert) const {
    // floor(R * I_e); the epsilon keeps 0.29 * 100 at 29 despite binary rounding.
    const auto count = static_cast<int64_t>(std::floor(m_o.drop_rate * double(m_plan.expert_width) + 1e-9));
    if (count == 0) return {};
    RandomStream random(m_o.seed, RandomPurpose::drop_indices, layer, expert);
    return random_subset(random, m_plan.expert_width, count);
}

unsigned char* UpcycleTensorMaker::buffer(std::size_t bytes) {
    if (m_buffer.size() < bytes) m_buffer.resize(bytes);
    return m_buffer.data();
}

void UpcycleTensorMaker::write(const PlannedTensor& t, ShardedCheckpointWriter& out) {
    const std::size_t bytes = t.decl.nbytes();
    switch (t.recipe) {
        case TensorRecipe::carry: carry(t, out); return;
        case TensorRecipe::expert_slice:
            if (const unsigned char* whole = whole_copy(t)) {   // the FFN itself: straight from the mapping
                out.write(whole, bytes);
                return;
            }
            expert_slice(t, buffer(bytes));
            break;
        case TensorRecipe::router: router(t, buffer(bytes)); break;
        case TensorRecipe::zeros: std::memset(buffer(bytes), 0, bytes); break;   // +0.0 in every float dtype
    }
    out.write(m_buffer.data(), bytes);
}

const unsigned char* UpcycleTensorMaker::whole_copy(const PlannedTensor& t) {
    const Checkpoint& c = m_sources[static_cast<std::size_t>(t.source)]->checkpoint;
    const TensorInfo& info = c.at(t.source_name);
    if (m_o.granularity != 1 || info.dtype != t.decl.dtype || !dropped_positions(t.layer, t.expert).empty()) return nullptr;
    release_ffn_of_other_layers(t.layer);
    return bytes_of(c, info);
}

void UpcycleTensorMaker::carry(const PlannedTensor& t, ShardedCheckpointWriter& out) {
    const std::size_t n = element_count(t.decl), bytes = t.decl.nbytes();
    if (!t.average) {
        const Checkpoint& c = m_sources.front()->checkpoint;
        const TensorInfo& info = c.at(t.source_name);
        if (info.dtype == t.decl.dtype) {
            out.write(bytes_of(c, info), bytes);   // byte for byte, straight from the mapping
        } else {
            ElementCopy{info.dtype, t.decl.dtype, bytes_of(c, info), buffer(bytes), info.name}(0, 0, n);
            out.write(m_buffer.data(), bytes);
        }
        c.release(info);
        return;
    }
    // Mean over the sources, in chunks so that the double sums stay small beside the output.
    constexpr std::size_t k_chunk = 1 << 20;
    unsigned char* mean = buffer(bytes);
    std::vector<const unsigned char*> inputs;
    for (const Model* source : m_sources) inputs.push_back(bytes_of(source->checkpoint, source->checkpoint.at(t.source_name)));
    std::vector<double> sum;
    for (std::size_t start = 0; start < n; start += k_chunk) {
        const std::size_t count = std::min(k_chunk, n - start);
        sum.assign(count, 0.0);
        for (std::size_t s = 0; s < m_sources.size(); ++s) {
            const DType dtype = m_sources[s]->checkpoint.at(t.source_name).dtype;
            for (std::size_t i = 0; i < count; ++i) sum[i] += load_f32(dtype, inputs[s], start + i, t.source_name);
        }
        for (std::size_t i = 0; i < count; ++i)
            store_f32(t.decl.dtype, static_cast<float>(sum[i] / double(m_sources.size())),
                      mean + (start + i) * dtype_size(t.decl.dtype));
    }
    out.write(mean, bytes);
    for (const Model* source : m_sources) source->checkpoint.release(source->checkpoint.at(t.source_name));
}

void UpcycleTensorMaker::expert_slice(const PlannedTensor& t, unsigned char* out) {
    release_ffn_of_other_layers(t.layer);
    const Checkpoint& c = m_sources[static_cast<std::size_t>(t.source)]->checkpoint;
    const TensorInfo& info = c.at(t.source_name);
    // gate/up [I, H]: neuron n is row n; down [H, I]: neuron n is column n.
    const bool rows = t.ffn_role != TensorRole::ffn_down;
    const int64_t dense = m_plan.dense_width, hidden = rows ? info.shape.at(1) : info.shape.at(0);
    const std::vector<int64_t> neurons = expert_neurons(t.layer, t.expert);
    const auto width = static_cast<int64_t>(neurons.size());
    const auto src = [&](int64_t n, int64_t h) { return static_cast<std::size_t>(rows ? n * hidden + h : h * dense + n); };
    const auto dst = [&](int64_t j, int64_t h) { return static_cast<std::size_t>(rows ? j * hidden + h : h * width + j); };

    const unsigned char* in = bytes_of(c, info);
    const ElementCopy copy{info.dtype, t.decl.dtype, in, out, info.name};
    // Everything copied first; Drop-Upcycling overwrites its neurons below.
    if (rows)
        for (int64_t j = 0; j < width; ++j)
            copy(dst(j, 0), src(neurons[static_cast<std::size_t>(j)], 0), static_cast<std::size_t>(hidden));
    else if (width == dense)   // all neurons in order: whole rows of down_proj
        copy(0, 0, static_cast<std::size_t>(hidden * dense));
    else
        for (int64_t h = 0; h < hidden; ++h)
            for (int64_t j = 0; j < width; ++j) copy(dst(j, h), src(neurons[static_cast<std::size_t>(j)], h));
    const std::vector<int64_t> dropped = dropped_positions(t.layer, t.expert);
    if (dropped.empty()) return;
    // Drop-Upcycling (editing.md §5.2): N(mu, sigma^2) with the mean and (population) standard
    // deviation of this matrix's original values at the re-initialised positions.
    double sum = 0, squares = 0;
    for (int64_t j : dropped)
        for (int64_t h = 0; h < hidden; ++h) {
            const double v = load_f32(info.dtype, in, src(neurons[static_cast<std::size_t>(j)], h), info.name);
            sum += v, squares += v * v;
        }
    const double count = double(dropped.size()) * double(hidden), mean = sum / count;
    const double sigma = std::sqrt(std::max(0.0, squares / count - mean * mean));
    RandomStream random(m_o.seed, RandomPurpose::drop_values, t.layer, int64_t(t.expert) * 3 + part_index(t.ffn_role));
    const std::size_t size = dtype_size(t.decl.dtype);
    for (int64_t j : dropped)
        for (int64_t h = 0; h < hidden; ++h)
            store_f32(t.decl.dtype, static_cast<float>(mean + sigma * random.normal()), out + dst(j, h) * size);
}

void UpcycleTensorMaker::router(const PlannedTensor& t, unsigned char* out) {
    const int64_t experts = t.decl.shape.at(0), hidden = t.decl.shape.at(1);
    std::vector<float> rows(static_cast<std::size_t>(experts * hidden), 0.0f);
    if (m_o.router == UpcycleRouter::random) {
        RandomStream random(m_o.seed, RandomPurpose::router, t.layer, 0);
        for (float& v : rows) v = static_cast<float>(m_o.router_std * random.normal());
    } else if (m_o.router == UpcycleRouter::hidden) {
        // mergekit-moe `hidden` gate mode (editing.md §1.5): the L2-normalised mean hidden state.
        for (int64_t e = 0; e < experts; ++e) {
            const int domain = m_expert_domain.at(static_cast<std::size_t>(e));
            const std::vector<float>& mean = m_hidden->at(static_cast<std::size_t>(domain)).at(static_cast<std::size_t>(t.layer));
            double norm = 0;
            for (float v : mean) norm += double(v) * double(v);
            norm = std::sqrt(norm);
            SY_CHECK(norm > 0 && std::isfinite(norm), UsageError,
                     "--router hidden: the mean hidden state of expert " + std::to_string(e) + "'s prompts at layer " +
                         std::to_string(t.layer) + " is zero or not finite");
            for (int64_t h = 0; h < hidden; ++h)
                rows[static_cast<std::size_t>(e * hidden + h)] = static_cast<float>(mean.at(static_cast<std::size_t>(h)) / norm);
        }
    }
    store_all(rows, t.decl, out);
}

// Every expert of a layer reads that layer's FFN; its pages are dropped once the output moves on
// (the plan is sorted by name, which keeps each layer's tensors together).
void UpcycleTensorMaker::release_ffn_of_other_layers(int layer) {
    if (m_ffn_layer == layer) return;
    if (m_ffn_layer >= 0)
        for (const Model* source : m_sources)
            for (TensorRole role : {TensorRole::ffn_gate, TensorRole::ffn_up, TensorRole::ffn_down})
                source->checkpoint.release(source->checkpoint.at(tensor_name(*source->description.family, role, m_ffn_layer)));
    m_ffn_layer = layer;
}

}  // namespace sy
