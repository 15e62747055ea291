#include "expert_table.h"

#include <cmath>
#include <limits>

#include "domain_view.h"
#include "expert_data.h"
#include "switchyard/core/expert_scores.h"
#include "switchyard/core/model.h"

namespace sy::gui {

namespace {

constexpr double none = std::numeric_limits<double>::quiet_NaN();
constexpr int top_tokens_shown = 6;

QString percent(double value) { return std::isnan(value) ? QStringLiteral("—") : QString::number(value * 100, 'f', 2) + QLatin1Char('%'); }
QString number(double value, int decimals) { return std::isnan(value) ? QStringLiteral("—") : QString::number(value, 'f', decimals); }

// Layers and expert counts: the model's, else the trace's.
std::vector<std::pair<int, int>> layer_shapes(const RoutingSnapshot* snapshot, const ExpertData* data) {
    std::vector<std::pair<int, int>> layers;
    if (data && data->model()) {
        const ModelDescription& d = data->model()->description;
        for (std::size_t i = 0; i < d.moe_layers.size(); ++i) layers.emplace_back(d.moe_layers[i], static_cast<int>(d.num_experts[i]));
    } else if (snapshot) {
        for (int l = 0; l < snapshot->layers(); ++l)
            layers.emplace_back(snapshot->shape.moe_layers[static_cast<std::size_t>(l)], snapshot->shape.num_experts[static_cast<std::size_t>(l)]);
    }
    return layers;
}

int moe_index(const RoutingSnapshot* snapshot, int layer) {
    if (!snapshot) return -1;
    for (int l = 0; l < snapshot->layers(); ++l)
        if (snapshot->shape.moe_layers[static_cast<std::size_t>(l)] == layer) return l;
    return -1;
}

}  // namespace

ExpertTableModel::ExpertTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ExpertTableModel::rebuild(const RoutingSnapshot* snapshot, const ExpertData* data) {
    beginResetModel();
    m_rows.clear();
    m_headers = QStringList{tr("layer"), tr("expert"), tr("load"), tr("first choice"), tr("gate mass")};
    m_tooltips = QStringList{tr("model-layer index"), tr("expert index"),
                             tr("share of the trace's routed slots (counts / (k × tokens))"),
                             tr("share of the trace's tokens whose first choice it is"),
                             tr("mean final gate weight per token of the trace (sum of g_e / tokens)")};
    const bool trace = snapshot && snapshot->tokens > 0 && !snapshot->stats.loads.empty();
    const std::vector<std::string> domains = trace ? snapshot->stats.domains.names : std::vector<std::string>{};
    for (const std::string& name : domains) {
        m_headers << tr("in %1").arg(domain_label(name));
        m_tooltips << tr("share of domain %1's routed slots going to the expert").arg(domain_label(name));
    }
    m_headers << tr("top tokens") << tr("EAN") << tr("REAP") << tr("calib. load") << tr("nearest");
    m_tooltips << tr("tokens routed to the expert most often (count)")
               << tr("score file: mean output norm over routed tokens (EAN)")
               << tr("score file: mean gate-weighted output norm over routed tokens (REAP, Lasby et al.)")
               << tr("score file: share of the calibration data's routed slots")
               << tr("most similar other expert of the layer (Similarity view), with the cosine");
    const sy::ExpertScores* scores = data ? data->scores() : nullptr;
    for (const auto& [layer, experts] : layer_shapes(snapshot, data)) {
        const int l = trace ? moe_index(snapshot, layer) : -1;
        const analysis::LayerLoad* load = l >= 0 ? &snapshot->stats.loads[static_cast<std::size_t>(l)] : nullptr;
        const analysis::DomainLayerStats* domain =
            l >= 0 && static_cast<std::size_t>(l) < snapshot->stats.domains.layers.size() ? &snapshot->stats.domains.layers[static_cast<std::size_t>(l)] : nullptr;
        const analysis::TokenLayerStats* tokens = nullptr;
        if (trace)
            for (const analysis::TokenLayerStats& t : snapshot->stats.token_table.layers)
                if (t.layer == layer) tokens = &t;
        const sy::LayerExpertScores* score = nullptr;
        if (scores)
            for (const sy::LayerExpertScores& s : scores->layers)
                if (s.layer == layer) score = &s;
        const sy::ExpertSimilarity* similarity = data ? data->similarity(layer) : nullptr;
        const double k = trace ? std::max(snapshot->shape.top_k, 1) : 1;
        for (int e = 0; e < experts; ++e) {
            const std::size_t i = static_cast<std::size_t>(e);
            Row row;
            row.layer = layer;
            row.expert = e;
            auto add = [&row](QString text, double value) {
                row.text << std::move(text);
                row.value.push_back(value);
            };
            add(QString::number(layer), layer);
            add(QString::number(e), e);
            const bool has = load && i < load->fractions.size();
            const double share = has ? load->fractions[i] : none;
            const double first = has && load->tokens > 0 ? double(load->first_choice_counts[i]) / double(load->tokens) : none;
            const double gate = has && load->tokens > 0 && i < load->gate_mass.size() ? load->gate_mass[i] / double(load->tokens) : none;
            add(percent(share), share);
            add(percent(first), first);
            add(number(gate, 4), gate);
            for (std::size_t d = 0; d < domains.size(); ++d) {
                const double v = domain && d < domain->frequency.size() && i < domain->frequency[d].size() ? domain->frequency[d][i] / k : none;
                add(percent(v), v);
            }
            QStringList top;
            if (tokens && i < tokens->top_tokens.size())
                for (const analysis::TopToken& t : tokens->top_tokens[i]) {
                    if (top.size() == top_tokens_shown) break;
                    top << QStringLiteral("%1 (%2)").arg(QString::fromStdString(snapshot->token_text(t.token_id))).arg(t.count);
                }
            add(top.join(QStringLiteral("  ")), tokens && i < tokens->top_tokens.size() && !tokens->top_tokens[i].empty() ? double(tokens->top_tokens[i][0].count) : none);
            const bool scored = score && i < score->ean.size();
            add(number(scored ? score->ean[i] : none, 4), scored ? score->ean[i] : none);
            add(number(scored ? score->reap[i] : none, 4), scored ? score->reap[i] : none);
            add(percent(scored ? score->frequency[i] : none), scored ? score->frequency[i] : none);
            double cosine = none;
            QString kind;
            const int nearest = similarity ? nearest_expert(*similarity, e, cosine, kind) : -1;
            add(nearest >= 0 ? tr("%1 (%2, %3)").arg(nearest).arg(cosine, 0, 'f', 3).arg(kind) : QStringLiteral("—"),
                nearest >= 0 ? cosine : none);
            m_rows.push_back(std::move(row));
        }
    }
    endResetModel();
}

int ExpertTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int ExpertTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_headers.size(); }

QVariant ExpertTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount()) return {};
    const Row& row = m_rows[static_cast<std::size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole: return row.text[index.column()];
        case Qt::ToolTipRole: return row.text[index.column()];
        case Qt::TextAlignmentRole:
            return m_headers[index.column()] == tr("top tokens") || m_headers[index.column()] == tr("nearest")
                       ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                       : QVariant(Qt::AlignRight | Qt::AlignVCenter);
        case sort_role: return row.value[static_cast<std::size_t>(index.column())];
        case layer_role: return row.layer;
        case expert_role: return row.expert;
        default: return {};
    }
}

QVariant ExpertTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= m_headers.size()) return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) return m_headers[section];
    if (role == Qt::ToolTipRole) return m_tooltips[section];
    return {};
}

int ExpertTableModel::row_of(int layer, int expert) const {
    for (std::size_t r = 0; r < m_rows.size(); ++r)
        if (m_rows[r].layer == layer && m_rows[r].expert == expert) return static_cast<int>(r);
    return -1;
}

int ExpertTableModel::column_of(const QString& header) const { return m_headers.indexOf(header); }

QString ExpertTableModel::csv() const {
    auto quote = [](QString text) { return QLatin1Char('"') + text.replace(QLatin1Char('"'), QLatin1String("\"\"")) + QLatin1Char('"'); };
    QStringList header;
    for (const QString& h : m_headers) header << quote(h);
    QString out = header.join(QLatin1Char(',')) + QLatin1Char('\n');
    for (const Row& row : m_rows) {
        QStringList cells;
        for (int c = 0; c < row.text.size(); ++c) {
            const double v = row.value[static_cast<std::size_t>(c)];
            // Numbers at full precision where there is one; text (top tokens) quoted.
            cells << (m_headers[c] == tr("top tokens") || m_headers[c] == tr("nearest") ? quote(row.text[c])
                      : std::isnan(v)                                                   ? QString()
                                                                                        : QString::number(v, 'g', 10));
        }
        out += cells.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out;
}

ExpertTableFilter::ExpertTableFilter(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(ExpertTableModel::sort_role);
}

void ExpertTableFilter::set_layer(int layer) {
    m_layer = layer;
    invalidateFilter();
}

void ExpertTableFilter::set_text(const QString& text) {
    m_text = text.trimmed();
    invalidateFilter();
}

bool ExpertTableFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
    const QAbstractItemModel* model = sourceModel();
    if (m_layer >= 0 && model->index(row, 0, parent).data(ExpertTableModel::layer_role).toInt() != m_layer) return false;
    if (m_text.isEmpty()) return true;
    for (int c = 0; c < model->columnCount(parent); ++c)
        if (model->index(row, c, parent).data(Qt::DisplayRole).toString().contains(m_text, Qt::CaseInsensitive)) return true;
    return false;
}

bool ExpertTableFilter::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    const double a = left.data(ExpertTableModel::sort_role).toDouble(), b = right.data(ExpertTableModel::sort_role).toDouble();
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && !std::isnan(b);   // no value sorts first
    return a < b;
}

}  // namespace sy::gui
