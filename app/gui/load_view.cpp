#include "load_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "expert_selection.h"
#include "plot_selection.h"
#include "plot_style.h"

namespace sy::gui {

LoadView::LoadView(QWidget* parent) : RoutingView(tr("Load"), parent) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Layer:"), content));
    m_layer = new QComboBox(content);
    m_layer->addItem(tr("All layers (heat map)"), -1);
    bar->addWidget(m_layer);
    bar->addStretch();
    layout->addLayout(bar);
    m_plots = new QStackedWidget(content);
    m_bars = new QCustomPlot(content);
    style_plot(m_bars);
    m_bars_title = add_title(m_bars);
    m_bars->xAxis->setLabel(tr("expert"));
    m_bars->yAxis->setLabel(tr("share of routed slots"));
    m_heat = new QCustomPlot(content);
    style_plot(m_heat);
    m_map = new QCPColorMap(m_heat->xAxis, m_heat->yAxis);
    m_map->setInterpolate(false);
    m_map->setGradient(sequential_gradient());
    m_map->setColorScale(add_color_scale(m_heat, tr("share of routed slots")));
    m_heat_title = add_title(m_heat);
    m_heat->xAxis->setLabel(tr("expert"));
    m_heat->yAxis->setLabel(tr("MoE layer"));
    m_plots->addWidget(m_heat);
    m_plots->addWidget(m_bars);
    layout->addWidget(m_plots, 1);
    set_content(content);
    attach_context_menu(m_bars);
    attach_context_menu(m_heat);
    m_bar_marks = std::make_unique<SelectionMarks>(m_bars);
    m_heat_marks = std::make_unique<SelectionMarks>(m_heat);
    on_plot_click(m_bars, this, [this](double x, double y, bool add) { on_click(x, y, add); });
    on_plot_click(m_heat, this, [this](double x, double y, bool add) { on_click(x, y, add); });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this]() { schedule_redraw(); });
}

LoadView::~LoadView() = default;

void LoadView::on_click(double x, double y, bool add) {
    if (!snapshot() || snapshot()->stats.loads.empty()) return;
    const int l = layer() >= 0 ? layer() : static_cast<int>(std::lround(y));
    const int e = static_cast<int>(std::lround(x));
    if (l < 0 || l >= static_cast<int>(snapshot()->stats.loads.size())) return;
    const auto& load = snapshot()->stats.loads[static_cast<std::size_t>(l)];
    if (e >= 0 && e < static_cast<int>(load.fractions.size())) emit expert_clicked(load.layer, e, add);
}

void LoadView::show_selection() {
    std::vector<QRectF> bars, cells;
    if (snapshot() && selection())
        for (int l = 0; l < static_cast<int>(snapshot()->stats.loads.size()); ++l) {
            const analysis::LayerLoad& load = snapshot()->stats.loads[static_cast<std::size_t>(l)];
            for (int e : selection()->in_layer(load.layer)) {
                if (e >= static_cast<int>(load.fractions.size())) continue;
                cells.emplace_back(e - 0.5, l - 0.5, 1.0, 1.0);
                if (l == layer()) bars.emplace_back(e - 0.45, 0.0, 0.9, load.fractions[static_cast<std::size_t>(e)]);
            }
        }
    m_bar_marks->show(bars);
    m_heat_marks->show(cells);
}

void LoadView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    plot()->replot();
}

int LoadView::marked_experts() const { return layer() < 0 ? m_heat_marks->count() : m_bar_marks->count(); }

QCustomPlot* LoadView::plot() const { return layer() < 0 ? m_heat : m_bars; }

int LoadView::layer() const { return m_layer->currentData().toInt(); }

void LoadView::set_layer(int moe_index) {
    const int at = m_layer->findData(moe_index);
    if (at >= 0) m_layer->setCurrentIndex(at);
}

void LoadView::sync_layer_choices(const RoutingSnapshot& snapshot) {
    if (m_layer->count() == snapshot.layers() + 1) return;
    const QSignalBlocker block(m_layer);
    while (m_layer->count() > 1) m_layer->removeItem(1);
    for (int l = 0; l < snapshot.layers(); ++l)
        m_layer->addItem(tr("layer %1").arg(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]), l);
}

bool LoadView::redraw(const RoutingSnapshot& snapshot) {
    if (snapshot.stats.loads.empty()) return false;
    sync_layer_choices(snapshot);
    const int l = layer();
    m_plots->setCurrentWidget(l < 0 ? m_heat : m_bars);
    show_selection();
    if (l < 0)
        draw_heat_map(snapshot);
    else
        draw_bars(snapshot, l);
    return true;
}

void LoadView::draw_bars(const RoutingSnapshot& snapshot, int l) {
    const analysis::LayerLoad& load = snapshot.stats.loads[static_cast<std::size_t>(l)];
    const int experts = static_cast<int>(load.fractions.size());
    m_bars->clearPlottables();
    double top = 0;
    for (int e = 0; e < experts; ++e) {
        auto* bars = new QCPBars(m_bars->xAxis, m_bars->yAxis);
        bars->setWidth(0.8);
        bars->setPen(Qt::NoPen);
        bars->setBrush(expert_color(e, experts));
        bars->setName(tr("expert %1").arg(e));
        bars->addData(e, load.fractions[static_cast<std::size_t>(e)]);
        top = std::max(top, load.fractions[static_cast<std::size_t>(e)]);
    }
    auto* even = new QCPGraph(m_bars->xAxis, m_bars->yAxis);   // the balanced share 1/E
    even->setData({-0.5, experts - 0.5}, {1.0 / experts, 1.0 / experts});
    even->setPen(QPen(Qt::darkGray, 1, Qt::DashLine));
    m_bars->xAxis->setRange(-0.6, experts - 0.4);
    m_bars->yAxis->setRange(0, std::max(top, 1.0 / experts) * 1.15);
    m_bars_title->setText(tr("Expert load, layer %1 — %2 tokens, max/mean %3, CV %4")
                              .arg(load.layer)
                              .arg(snapshot.tokens)
                              .arg(load.metrics.max_over_mean, 0, 'f', 2)
                              .arg(load.metrics.cv, 0, 'f', 3));
    m_bars->replot();
}

void LoadView::draw_heat_map(const RoutingSnapshot& snapshot) {
    const int layers = snapshot.layers(), experts = snapshot.shape.max_experts();
    m_map->data()->setSize(experts, layers);
    m_map->data()->setRange(QCPRange(0, experts - 1), QCPRange(0, layers - 1));
    for (int l = 0; l < layers; ++l) {
        const auto& fractions = snapshot.stats.loads[static_cast<std::size_t>(l)].fractions;
        for (int e = 0; e < experts; ++e)
            m_map->data()->setCell(e, l, e < static_cast<int>(fractions.size()) ? fractions[static_cast<std::size_t>(e)] : qQNaN());
    }
    m_map->rescaleDataRange(true);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int l = 0; l < layers; ++l) ticker->addTick(l, QString::number(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]));
    m_heat->yAxis->setTicker(ticker);
    m_heat->xAxis->setRange(-0.5, experts - 0.5);
    m_heat->yAxis->setRange(-0.5, layers - 0.5);
    m_heat_title->setText(tr("Expert load, all MoE layers — %1 tokens").arg(snapshot.tokens));
    m_heat->replot();
}

QString LoadView::csv() const {
    QString out = QStringLiteral("layer,expert,count,first_choice_count,fraction\n");
    if (!snapshot()) return out;
    for (const analysis::LayerLoad& load : snapshot()->stats.loads)
        for (std::size_t e = 0; e < load.counts.size(); ++e)
            out += QStringLiteral("%1,%2,%3,%4,%5\n")
                       .arg(load.layer)
                       .arg(e)
                       .arg(load.counts[e])
                       .arg(load.first_choice_counts[e])
                       .arg(load.fractions[e], 0, 'g', 8);
    return out;
}

}  // namespace sy::gui
