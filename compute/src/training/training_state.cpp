#include "training/training_state.h"

#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "switchyard/core/errors.h"
#include "switchyard/core/safetensors_header.h"
#include "switchyard/core/safetensors_writer.h"
#include "switchyard/core/staged_directory.h"

namespace sy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* k_format = "switchyard-training-state";
constexpr int64_t k_version = 1;

struct Named {
    std::string name;
    torch::Tensor tensor;   // f32, host, contiguous
};

std::vector<Named> named_tensors(const TrainingState& s) {
    std::vector<Named> out;
    const auto add = [&](const std::string& prefix, const std::vector<torch::Tensor>& list) {
        for (std::size_t i = 0; i < list.size(); ++i)
            out.push_back({prefix + "." + std::to_string(i),
                           list[i].detach().to(torch::kCPU).to(torch::kFloat32).contiguous()});
    };
    add("master", s.masters);
    add("exp_avg", s.exp_avg);
    add("exp_avg_sq", s.exp_avg_sq);
    add("best", s.best);
    for (std::size_t i = 0; i < s.npo_reference.size(); ++i)
        if (!s.npo_reference[i].empty())
            out.push_back({"npo_reference." + std::to_string(i),
                           torch::tensor(s.npo_reference[i], torch::kFloat32).contiguous()});
    return out;
}

Json state_json(const TrainingState& s) {
    Json cursors = Json::array();
    for (const SamplerCursor& c : s.cursors) cursors.push_back({{"epoch", c.epoch}, {"position", c.position}});
    return {{"format", k_format},
            {"format_version", k_version},
            {"run_id", s.run_id},
            {"run", Json::parse(s.run_json.empty() ? "null" : s.run_json, nullptr, false)},
            {"step", s.step},
            {"lr", s.lr},
            {"checkpointing", s.checkpointing},
            {"cursors", cursors},
            {"best_step", s.best_step},
            {"best_loss", std::isfinite(s.best_loss) ? Json(s.best_loss) : Json(nullptr)},
            {"evaluations_since_best", s.evaluations_since_best},
            {"seconds", s.seconds},
            {"tokens", s.tokens},
            {"before", Json::parse(s.before_json.empty() ? "null" : s.before_json)},
            {"heldout_before", s.heldout_before}};
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    SY_CHECK(in, IoError, path.string() + ": cannot open");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The first place where two run descriptions differ: "steps: 30 in the state, 20 now".
std::string first_difference(const Json& stored, const Json& now, const std::string& path) {
    if (stored.is_object() && now.is_object()) {
        for (const auto& [key, value] : now.items()) {
            const std::string where = path.empty() ? key : path + "." + key;
            if (!stored.contains(key)) return where + ": absent in the state";
            const std::string d = first_difference(stored.at(key), value, where);
            if (!d.empty()) return d;
        }
        return {};
    }
    if (stored.is_array() && now.is_array() && stored.size() == now.size()) {
        for (std::size_t i = 0; i < now.size(); ++i) {
            const std::string d = first_difference(stored[i], now[i], path + "[" + std::to_string(i) + "]");
            if (!d.empty()) return d;
        }
        return {};
    }
    return stored == now ? std::string() : path + ": " + stored.dump() + " in the state, " + now.dump() + " now";
}

std::vector<double> nan_for_null(const Json& list) {
    std::vector<double> out;
    for (const Json& v : list) out.push_back(v.is_null() ? std::nan("") : v.get<double>());
    return out;
}

}  // namespace

bool has_training_state(const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / "state.json", ec) && fs::exists(dir / "state.safetensors", ec);
}

void save_training_state(const fs::path& dir, const TrainingState& state) {
    StagedDirectory staged(dir, /*replace_existing=*/true);
    const std::vector<Named> tensors = named_tensors(state);
    std::vector<TensorDecl> decls;
    for (const Named& n : tensors) decls.push_back({n.name, DType::f32, n.tensor.sizes().vec()});
    SafetensorsWriter writer(staged.path() / "state.safetensors", decls, {{"format", "pt"}});
    for (const Named& n : tensors) writer.write(n.tensor.data_ptr<float>(), static_cast<std::size_t>(n.tensor.nbytes()));
    writer.finish();
    {
        Json json = state_json(state);
        // NaN is not JSON: held-out values of streams without held-out windows are written as null.
        Json heldout = Json::array();
        for (double v : state.heldout_before) heldout.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
        json["heldout_before"] = heldout;
        std::ofstream out(staged.path() / "state.json", std::ios::binary);
        out << json.dump(2) << "\n";
        SY_CHECK(out, IoError, (staged.path() / "state.json").string() + ": write failed");
    }
    staged.commit();
}

TrainingState load_training_state(const fs::path& dir, const std::string& run_id, const std::string& run_json,
                                  std::size_t parameters, std::size_t streams) {
    SY_CHECK(has_training_state(dir), UsageError,
             dir.string() + ": no resumable training state here (a run saves one when it is stopped with Ctrl-C or SIGTERM)");
    const Json json = Json::parse(read_text(dir / "state.json"), nullptr, false);
    const std::string where = (dir / "state.json").string();
    SY_CHECK(!json.is_discarded() && json.value("format", "") == k_format, UsageError, where + ": not a training state");
    SY_CHECK(json.value("format_version", int64_t(0)) <= k_version, UsageError, where + ": written by a newer Switchyard");
    if (json.value("run_id", "") != run_id) {
        const Json now = Json::parse(run_json.empty() ? "null" : run_json, nullptr, false);
        const std::string difference = json.contains("run") ? first_difference(json.at("run"), now, "") : std::string();
        throw UsageError(where + ": this state belongs to another run (" +
                         (difference.empty() ? std::string("other model, data or options") : difference) +
                         "); start the run again without --resume, or resume it with the command that made it");
    }
    TrainingState s;
    s.run_id = run_id;
    s.step = json.at("step").get<int64_t>();
    s.lr = json.at("lr").get<double>();
    s.checkpointing = json.at("checkpointing").get<bool>();
    for (const Json& c : json.at("cursors")) s.cursors.push_back({c.at("epoch").get<int64_t>(), c.at("position").get<int64_t>()});
    s.best_step = json.at("best_step").get<int64_t>();
    s.best_loss = json.at("best_loss").is_null() ? std::nan("") : json.at("best_loss").get<double>();
    s.evaluations_since_best = json.at("evaluations_since_best").get<int64_t>();
    s.seconds = json.at("seconds").get<double>();
    s.tokens = json.at("tokens").get<int64_t>();
    s.before_json = json.at("before").dump();
    s.heldout_before = nan_for_null(json.at("heldout_before"));
    SY_CHECK(s.cursors.size() == streams, UsageError, where + ": holds " + std::to_string(s.cursors.size()) +
                                                           " data streams, the run has " + std::to_string(streams));
    const fs::path file = dir / "state.safetensors";
    const SafetensorsHeader header = read_safetensors_header(file);
    std::ifstream in(file, std::ios::binary);
    std::map<std::string, torch::Tensor> tensors;
    for (const TensorInfo& t : header.tensors) {
        SY_CHECK(t.dtype == DType::f32, UsageError, file.string() + ": " + t.name + ": expected F32");
        torch::Tensor values = torch::empty(t.shape, torch::kFloat32);
        in.seekg(static_cast<std::streamoff>(header.data_offset + t.data_begin));
        in.read(reinterpret_cast<char*>(values.data_ptr<float>()), static_cast<std::streamsize>(t.nbytes()));
        SY_CHECK(in, IoError, file.string() + ": " + t.name + ": cannot read");
        tensors.emplace(t.name, values);
    }
    const auto list = [&](const std::string& prefix, std::size_t count, bool required) {
        std::vector<torch::Tensor> out;
        for (std::size_t i = 0; i < count; ++i) {
            auto it = tensors.find(prefix + "." + std::to_string(i));
            if (it == tensors.end()) {
                SY_CHECK(!required, UsageError, file.string() + ": " + prefix + "." + std::to_string(i) + " is missing");
                return std::vector<torch::Tensor>();
            }
            out.push_back(it->second);
        }
        return out;
    };
    s.masters = list("master", parameters, true);
    s.exp_avg = list("exp_avg", parameters, true);
    s.exp_avg_sq = list("exp_avg_sq", parameters, true);
    s.best = list("best", parameters, false);
    s.npo_reference.resize(streams);
    for (std::size_t i = 0; i < streams; ++i) {
        auto it = tensors.find("npo_reference." + std::to_string(i));
        if (it != tensors.end())
            s.npo_reference[i].assign(it->second.data_ptr<float>(), it->second.data_ptr<float>() + it->second.numel());
    }
    return s;
}

}  // namespace sy
