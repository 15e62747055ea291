#include "edit_entries.h"

#include <QFileInfo>
#include <QStringList>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "expert_selection.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/editing/upcycle.h"

namespace sy::gui {

namespace {

std::string expert_text(int layer, int expert) { return "layer " + std::to_string(layer) + " expert " + std::to_string(expert); }

// The edited expert holding open-model expert `expert` of `layer`: the one occupying its slot,
// else the merge that folded it in.
int recipe_index(const EditPlan& before, int layer, int expert, const std::string& op) {
    const LayerPlan& l = before.layer(layer);
    for (std::size_t i = 0; i < l.experts.size(); ++i)
        if (l.experts[i].home == expert) return static_cast<int>(i);
    for (std::size_t i = 0; i < l.experts.size(); ++i)
        if (std::count(l.experts[i].origin.begin(), l.experts[i].origin.end(), expert)) return static_cast<int>(i);
    throw UsageError(op + ": " + expert_text(layer, expert) + " was removed by an earlier entry of the stack");
}

int model_index(const EditPlan& before, int layer, int index, const std::string& op) {
    const LayerPlan& l = before.layer(layer);
    SY_CHECK(index >= 0 && index < static_cast<int>(l.experts.size()), UsageError,
             op + ": layer " + std::to_string(layer) + " has experts 0.." + std::to_string(l.experts.size() - 1) + " at this entry, found " +
                 std::to_string(index));
    return l.experts[static_cast<std::size_t>(index)].home;
}

template <class Map>
ExpertsByLayer map_experts(const ExpertsByLayer& experts, const EditPlan& before, const std::string& op, Map map) {
    ExpertsByLayer out;
    for (const auto& [layer, list] : experts) {
        std::set<int> mapped;
        for (int e : list) mapped.insert(map(before, layer, e, op));
        out[layer].assign(mapped.begin(), mapped.end());
    }
    return out;
}

template <class Map>
MergeEdit map_merge(MergeEdit merge, const EditPlan& before, Map map) {
    for (auto& [layer, groups] : merge.groups)
        for (MergeGroup& g : groups) {
            std::set<int> distinct;
            for (int& m : g.members) {
                m = map(before, layer, m, "merge");
                distinct.insert(m);
            }
            g.dominant = map(before, layer, g.dominant, "merge");
            SY_CHECK(distinct.size() == g.members.size(), UsageError,
                     "merge: layer " + std::to_string(layer) + ": two members of a group are already one expert (merged by an earlier entry)");
        }
    return merge;
}

template <class Map>
Edit map_edit(const Edit& edit, const EditPlan& before, Map map) {
    // A training entry is last and numbers its experts as the entries before it leave the model
    // (what it trained); it keeps that numbering in both directions.
    if (training_entry_json(edit)) return edit;
    if (const auto* prune = std::get_if<PruneEdit>(&edit)) {
        PruneEdit out = *prune;
        out.experts = map_experts(prune->experts, before, "prune", map);
        return out;
    }
    if (const auto* merge = std::get_if<MergeEdit>(&edit)) return map_merge(*merge, before, map);
    MaskEdit out = std::get<MaskEdit>(edit);
    out.experts = map_experts(out.experts, before, "mask", map);
    return out;
}

QString groups_text(const MergeEdit& merge) {
    QStringList layers;
    for (const auto& [layer, groups] : merge.groups) {
        QStringList parts;
        for (const MergeGroup& g : groups) {
            QStringList members;
            for (int m : g.members) members << QString::number(m);
            parts << members.join(QLatin1Char('+'));
        }
        layers << QObject::tr("layer %1: %2").arg(layer).arg(parts.join(QStringLiteral(", ")));
    }
    return layers.join(QStringLiteral("; "));
}

}  // namespace

EditPlan index_plan(const Model& model, const std::vector<Edit>& edits) {
    SY_CHECK(!model.description.moe_layers.empty(), UsageError,
             model.checkpoint.dir().string() + ": " + model.description.model_type +
                 " is a dense model (no MoE layers): there are no experts to edit");
    EditPlan plan = identity_plan(model.description);
    NullProgress progress;
    CancelToken cancel;
    for (const Edit& edit : edits) {
        if (training_entry_json(edit)) continue;   // trains weights; expert numbering unchanged
        Edit unaligned = edit;
        if (auto* merge = std::get_if<MergeEdit>(&unaligned)) merge->align = false;
        plan = apply_edit(model, std::move(plan), unaligned, progress, cancel);
    }
    return plan;
}

Edit to_recipe_indices(const Edit& edit, const EditPlan& before) { return map_edit(edit, before, recipe_index); }

Edit to_model_indices(const Edit& entry, const EditPlan& before) { return map_edit(entry, before, model_index); }

QString describe_training(const Edit& edit, const EditPlan* before) {
    const nlohmann::json entry = nlohmann::json::parse(*training_entry_json(edit));
    QStringList experts;
    for (const auto& e : entry.value("experts", nlohmann::json::array())) {
        const int layer = e.at("layer").get<int>(), expert = e.at("expert").get<int>();
        experts << QStringLiteral("%1:%2").arg(layer).arg(before ? model_index(*before, layer, expert, edit_op_name(edit)) : expert);
    }
    QStringList data;
    for (const auto& stream : entry.at("streams"))
        for (const auto& file : stream.at("data"))
            data << QStringLiteral("%1 %2").arg(QString::fromStdString(stream.at("name").get<std::string>()),
                                                QFileInfo(QString::fromStdString(file.at("path").get<std::string>())).fileName());
    const QString what = experts.isEmpty() ? QObject::tr("%n tensor(s)", nullptr, static_cast<int>(entry.at("parameters").size()))
                         : experts.size() > 6 ? QObject::tr("%n expert(s)", nullptr, static_cast<int>(experts.size()))
                                              : QObject::tr("experts %1").arg(experts.join(QStringLiteral(", ")));
    return QObject::tr("%1  %2, %3 steps at lr %4 (seed %5); %6")
        .arg(QString::fromStdString(edit_op_name(edit)), what)
        .arg(entry.at("steps").get<int64_t>())
        .arg(entry.at("optimizer").at("lr").get<double>(), 0, 'g', 3)
        .arg(entry.at("seed").get<uint64_t>())
        .arg(data.join(QStringLiteral(", ")));
}

QString describe_edit(const Edit& edit, const EditPlan* before) {
    if (training_entry_json(edit)) return describe_training(edit, before);
    if (const auto* prune = std::get_if<PruneEdit>(&edit))
        return QObject::tr("prune  %1%2")
            .arg(describe_experts(prune->experts))
            .arg(prune->method == "experts" ? QString() : QObject::tr("  (%1)").arg(QString::fromStdString(prune->method)));
    if (const auto* merge = std::get_if<MergeEdit>(&edit))
        return QObject::tr("merge  %1  (%2, %3 router%4)")
            .arg(groups_text(*merge))
            .arg(merge->layout == MergeLayout::collapse ? QObject::tr("collapse") : QObject::tr("duplicate"))
            .arg(merge->router == MergeRouter::fitted ? QObject::tr("fitted") : QObject::tr("dominant"))
            .arg(merge->align ? QObject::tr(", aligned") : QString());
    return QObject::tr("mask  %1").arg(describe_experts(std::get<MaskEdit>(edit).experts));
}

QString describe_upcycle(const UpcycleOptions& o) {
    QString text = QObject::tr("upcycle  → %1, %2 experts, top-%3, router %4")
                       .arg(o.family.empty() ? QObject::tr("first MoE family that fits") : QString::fromStdString(o.family))
                       .arg(o.experts)
                       .arg(o.top_k)
                       .arg(o.router == UpcycleRouter::random ? QObject::tr("random (seed %1)").arg(o.seed)
                            : o.router == UpcycleRouter::zero ? QObject::tr("zero")
                                                              : QObject::tr("hidden"));
    if (o.drop_rate > 0) text += QObject::tr(", Drop-Upcycling %1").arg(o.drop_rate);
    if (o.granularity > 1) text += QObject::tr(", granularity %1").arg(o.granularity);
    if (o.shared_expert) text += QObject::tr(", shared expert");
    return text;
}

}  // namespace sy::gui
