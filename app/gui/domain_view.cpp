#include "domain_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

#include "expert_selection.h"
#include "layer_heat_map.h"
#include "plot_selection.h"

namespace sy::gui {

QString domain_label(const std::string& name) {
    return name.empty() ? QStringLiteral("(none)") : QString::fromStdString(name);
}

void sync_layer_combo(QComboBox* combo, const RoutingSnapshot& snapshot, int first_index) {
    const int layers = snapshot.layers() - first_index;
    if (combo->count() == layers) return;
    const QSignalBlocker block(combo);
    combo->clear();
    for (int l = 0; l < layers; ++l)
        combo->addItem(QObject::tr("layer %1").arg(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]), l);
}

DomainView::DomainView(QWidget* parent) : RoutingView(tr("Domains"), parent) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Layer:"), content));
    m_layer = new QComboBox(content);
    bar->addWidget(m_layer);
    bar->addStretch();
    layout->addLayout(bar);
    m_heat = std::make_unique<HeatMapPlot>(content, tr("share of the domain's routed slots"));
    layout->addWidget(m_heat->plot(), 1);
    set_content(content);
    attach_context_menu(m_heat->plot());
    m_marks = std::make_unique<SelectionMarks>(m_heat->plot());
    on_plot_click(m_heat->plot(), this, [this](double x, double, bool add) {
        const int e = static_cast<int>(std::lround(x));
        if (model_layer() >= 0 && e >= 0 && snapshot() && e < snapshot()->shape.max_experts())
            emit expert_clicked(model_layer(), e, add);
    });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this]() { schedule_redraw(); });
    m_heat->set_tooltip([this](int row, int column) -> QString {
        if (!snapshot()) return {};
        const auto& domains = snapshot()->stats.domains;
        const int l = std::max(m_layer->currentIndex(), 0);
        if (l >= static_cast<int>(domains.layers.size())) return {};
        const auto& layer = domains.layers[static_cast<std::size_t>(l)];
        if (row >= static_cast<int>(layer.frequency.size())) return {};
        const std::size_t d = static_cast<std::size_t>(row), e = static_cast<std::size_t>(column);
        return tr("domain %1, expert %2\nselected for %3% of its tokens (lift %4)")
            .arg(domain_label(domains.names[d]))
            .arg(column)
            .arg(layer.frequency[d][e] * 100, 0, 'f', 1)
            .arg(layer.lift[d][e], 0, 'f', 2);
    });
}

DomainView::~DomainView() = default;

void DomainView::set_layer(int moe_index) {
    if (snapshot()) sync_layer_combo(m_layer, *snapshot());
    m_layer->setCurrentIndex(moe_index);
}

int DomainView::model_layer() const {
    if (!snapshot() || snapshot()->layers() == 0) return -1;
    const int l = std::clamp(m_layer->currentIndex(), 0, snapshot()->layers() - 1);
    return snapshot()->shape.moe_layers[static_cast<std::size_t>(l)];
}

void DomainView::show_selection() {
    std::vector<QRectF> columns;
    if (selection())
        for (int e : selection()->in_layer(model_layer())) columns.emplace_back(e - 0.5, -0.5, 1.0, m_rows);
    m_marks->show(columns);
}

void DomainView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    m_heat->plot()->replot();
}

int DomainView::marked_experts() const { return m_marks->count(); }

QCustomPlot* DomainView::plot() const { return m_heat->plot(); }

bool DomainView::redraw(const RoutingSnapshot& snapshot) {
    const analysis::DomainStats& domains = snapshot.stats.domains;
    if (domains.layers.empty() || domains.names.empty()) return false;
    sync_layer_combo(m_layer, snapshot);
    const int l = std::max(m_layer->currentIndex(), 0);
    const analysis::DomainLayerStats& layer = domains.layers[static_cast<std::size_t>(l)];
    const int rows = static_cast<int>(layer.frequency.size());
    const int experts = rows > 0 ? static_cast<int>(layer.frequency[0].size()) : 0;
    if (rows == 0 || experts == 0) return false;
    std::vector<double> values(static_cast<std::size_t>(rows) * experts);
    QStringList labels;
    for (int d = 0; d < rows; ++d) {
        for (int e = 0; e < experts; ++e)
            values[static_cast<std::size_t>(d) * experts + e] = layer.frequency[d][e] / std::max(snapshot.shape.top_k, 1);
        labels << QStringLiteral("%1 (%2 tok, spec. %3)")
                      .arg(domain_label(domains.names[static_cast<std::size_t>(d)]))
                      .arg(domains.tokens[static_cast<std::size_t>(d)])
                      .arg(layer.specialisation[static_cast<std::size_t>(d)], 0, 'f', 2);
    }
    m_rows = rows;
    show_selection();
    m_heat->show(values, rows, experts, labels, {}, tr("expert"), QString(),
                 tr("Domain × expert, layer %1 — %2 tokens").arg(layer.layer).arg(snapshot.tokens));
    return true;
}

QString DomainView::csv() const {
    QString out = QStringLiteral("layer,domain,tokens,expert,count,frequency,lift,specialisation\n");
    if (!snapshot()) return out;
    const analysis::DomainStats& domains = snapshot()->stats.domains;
    for (const analysis::DomainLayerStats& layer : domains.layers)
        for (std::size_t d = 0; d < layer.counts.size(); ++d)
            for (std::size_t e = 0; e < layer.counts[d].size(); ++e)
                out += QStringLiteral("%1,\"%2\",%3,%4,%5,%6,%7,%8\n")
                           .arg(layer.layer)
                           .arg(QString::fromStdString(domains.names[d]))
                           .arg(domains.tokens[d])
                           .arg(e)
                           .arg(layer.counts[d][e])
                           .arg(layer.frequency[d][e], 0, 'g', 8)
                           .arg(layer.lift[d][e], 0, 'g', 8)
                           .arg(layer.specialisation[d], 0, 'g', 8);
    return out;
}

}  // namespace sy::gui
