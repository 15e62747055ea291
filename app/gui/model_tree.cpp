#include "model_tree.h"

#include <QGuiApplication>
#include <QHeaderView>
#include <QPoint>
#include <QTreeWidgetItemIterator>
#include <array>
#include <stdexcept>
#include <utility>

#include "switchyard/core/model.h"
#include "switchyard/core/model_validation.h"
#include "switchyard/core/tensor_names.h"

namespace sy::gui {

namespace {

constexpr int expert_role = Qt::UserRole;   // QPoint(layer, expert) on "expert N" nodes

enum class Group { attention, router, experts, shared, mlp, norms };

// Where each per-layer role is listed (presentation only; names come from tensor_name).
struct RoleGroup {
    TensorRole role;
    Group group;
};
constexpr std::array<RoleGroup, 44> role_groups = {{
    {TensorRole::attn_norm, Group::norms},        {TensorRole::ffn_norm, Group::norms},
    {TensorRole::attn_q, Group::attention},       {TensorRole::attn_k, Group::attention},
    {TensorRole::attn_v, Group::attention},       {TensorRole::attn_o, Group::attention},
    {TensorRole::attn_q_bias, Group::attention},  {TensorRole::attn_k_bias, Group::attention},
    {TensorRole::attn_v_bias, Group::attention},  {TensorRole::attn_o_bias, Group::attention},
    {TensorRole::attn_q_norm, Group::attention},  {TensorRole::attn_k_norm, Group::attention},
    {TensorRole::mla_q_a, Group::attention},      {TensorRole::mla_q_a_bias, Group::attention},
    {TensorRole::mla_q_a_norm, Group::attention}, {TensorRole::mla_q_b, Group::attention},
    {TensorRole::mla_kv_a, Group::attention},     {TensorRole::mla_kv_a_bias, Group::attention},
    {TensorRole::mla_kv_a_norm, Group::attention}, {TensorRole::mla_kv_b, Group::attention},
    {TensorRole::ffn_gate, Group::mlp},           {TensorRole::ffn_up, Group::mlp},
    {TensorRole::ffn_down, Group::mlp},           {TensorRole::router, Group::router},
    {TensorRole::router_score_bias, Group::router}, {TensorRole::expert_gate, Group::experts},
    {TensorRole::expert_up, Group::experts},      {TensorRole::expert_gate_up, Group::experts},
    {TensorRole::expert_down, Group::experts},    {TensorRole::shared_gate, Group::shared},
    {TensorRole::shared_up, Group::shared},       {TensorRole::shared_down, Group::shared},
    {TensorRole::shared_expert_gate, Group::shared}, {TensorRole::attn_sinks, Group::attention},
    {TensorRole::router_bias, Group::router},     {TensorRole::expert_gate_up_bias, Group::experts},
    {TensorRole::expert_down_bias, Group::experts}, {TensorRole::lin_qkvz, Group::attention},
    {TensorRole::lin_ba, Group::attention},       {TensorRole::lin_conv, Group::attention},
    {TensorRole::lin_dt_bias, Group::attention},  {TensorRole::lin_a_log, Group::attention},
    {TensorRole::lin_norm, Group::attention},     {TensorRole::lin_out, Group::attention},
}};

QString group_title(Group group) {
    switch (group) {
        case Group::attention: return QObject::tr("attention");
        case Group::router: return QObject::tr("router");
        case Group::experts: return QObject::tr("experts");
        case Group::shared: return QObject::tr("shared experts");
        case Group::mlp: return QObject::tr("MLP (dense)");
        case Group::norms: return QObject::tr("norms");
    }
    return {};
}

QString count_text(int64_t n) {
    if (n >= 1'000'000'000) return QString::number(n / 1e9, 'f', 2) + QLatin1Char('B');
    if (n >= 1'000'000) return QString::number(n / 1e6, 'f', 2) + QLatin1Char('M');
    if (n >= 10'000) return QString::number(n / 1e3, 'f', 1) + QLatin1Char('K');
    return QString::number(n);
}

class TreeBuilder {
public:
    TreeBuilder(const sy::Model& model, int& tensor_items) : m_model(model), m_items(tensor_items) {}

    // Adds the tensor `name` under `parent` when the checkpoint has it (a gpt-oss MXFP4 weight: its
    // blocks and scales); returns its parameters.
    int64_t add_tensor(QTreeWidgetItem* parent, const std::string& name, const QString& label) {
        if (stored_as_mxfp4(m_model.checkpoint, name)) {
            const int64_t blocks = add_tensor(parent, mxfp4_blocks_name(name), label + QObject::tr(" (MXFP4 blocks)"));
            add_tensor(parent, mxfp4_scales_name(name), label + QObject::tr(" (MXFP4 scales)"));
            return 2 * blocks;   // two E2M1 values per byte
        }
        const TensorInfo* info = m_model.checkpoint.find(name);
        if (info == nullptr) return 0;
        auto* item = new QTreeWidgetItem(parent);
        item->setText(0, label);
        item->setText(1, QString::fromStdString(shape_to_string(info->shape)));
        item->setText(2, QString::fromUtf8(dtype_name(info->dtype).data(), int(dtype_name(info->dtype).size())));
        item->setText(3, count_text(info->numel()));
        item->setText(4, QString::fromStdString(m_model.checkpoint.files()[info->file_index]));
        item->setToolTip(0, QString::fromStdString(name));
        ++m_items;
        return info->numel();
    }

    // "" when the family has no such name (tensor_name throws std::invalid_argument then).
    std::string name(TensorRole role, int layer, int expert) const {
        try {
            return tensor_name(*m_model.description.family, role, layer, expert, m_model.layout);
        } catch (const std::invalid_argument&) {
            return {};
        }
    }

    bool has(TensorRole role) const { return has_tensor_role(*m_model.description.family, role, m_model.layout); }
    bool per_expert(TensorRole role) const {
        return role_is_per_expert(*m_model.description.family, role, m_model.layout);
    }
    QString role_label(TensorRole role) const {
        const std::string_view text = tensor_role_name(role);
        return QString::fromUtf8(text.data(), static_cast<int>(text.size()));
    }

    void add_layer(QTreeWidgetItem* root, int layer) {
        auto* item = new QTreeWidgetItem(root);
        const int64_t experts = m_model.description.experts_in_layer(layer);
        item->setText(0, experts > 0 ? QObject::tr("layer %1 (MoE, %2 experts)").arg(layer).arg(experts)
                                     : QObject::tr("layer %1").arg(layer));
        std::array<QTreeWidgetItem*, 6> groups{};
        std::array<int64_t, 6> params{};
        std::vector<QTreeWidgetItem*> expert_items;
        for (const RoleGroup& rg : role_groups) {
            if (!has(rg.role)) continue;
            const std::size_t g = static_cast<std::size_t>(rg.group);
            if (groups[g] == nullptr) groups[g] = new QTreeWidgetItem(item, {group_title(rg.group)});
            if (per_expert(rg.role)) {
                for (int e = 0; e < experts; ++e) {
                    if (static_cast<int>(expert_items.size()) <= e) {
                        expert_items.push_back(new QTreeWidgetItem(groups[g], {QObject::tr("expert %1").arg(e)}));
                        expert_items.back()->setData(0, expert_role, QPoint(layer, e));
                    }
                    params[g] += add_tensor(expert_items[static_cast<std::size_t>(e)], name(rg.role, layer, e), role_label(rg.role));
                }
            } else {
                params[g] += add_tensor(groups[g], name(rg.role, layer, -1), role_label(rg.role));
            }
        }
        int64_t total = 0;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            if (groups[g] == nullptr) continue;
            if (groups[g]->childCount() == 0) {
                delete groups[g];
                continue;
            }
            groups[g]->setText(3, count_text(params[g]));
            total += params[g];
        }
        item->setText(3, count_text(total));
    }

private:
    const sy::Model& m_model;
    int& m_items;
};

}  // namespace

ModelTree::ModelTree(QWidget* parent) : QTreeWidget(parent) {
    setHeaderLabels({tr("Name"), tr("Shape"), tr("DType"), tr("Params"), tr("File")});
    header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    connect(this, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        const QVariant at = item->data(0, expert_role);
        if (at.isValid())
            emit expert_clicked(at.toPoint().x(), at.toPoint().y(),
                                QGuiApplication::keyboardModifiers() & (Qt::ControlModifier | Qt::MetaModifier));
    });
}

QTreeWidgetItem* ModelTree::expert_item(int layer, int expert) const {
    for (QTreeWidgetItemIterator it(const_cast<ModelTree*>(this)); *it; ++it)
        if ((*it)->data(0, expert_role) == QVariant(QPoint(layer, expert))) return *it;
    return nullptr;
}

void ModelTree::show_model(const sy::Model& model) {
    clear();
    m_tensor_items = 0;
    TreeBuilder builder(model, m_tensor_items);
    auto* root = new QTreeWidgetItem(this, {QString::fromStdString(model.checkpoint.dir().filename().string())});
    for (TensorRole role : {TensorRole::token_embedding}) builder.add_tensor(root, builder.name(role, -1, -1), builder.role_label(role));
    for (int layer = 0; layer < model.description.num_layers; ++layer) builder.add_layer(root, layer);
    builder.add_tensor(root, builder.name(TensorRole::final_norm, -1, -1), builder.role_label(TensorRole::final_norm));
    if (builder.has(TensorRole::lm_head))
        builder.add_tensor(root, builder.name(TensorRole::lm_head, -1, -1), builder.role_label(TensorRole::lm_head));
    root->setExpanded(true);
    if (root->childCount() > 1) root->child(1)->setExpanded(true);
}

}  // namespace sy::gui
