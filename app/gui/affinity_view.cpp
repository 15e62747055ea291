#include "affinity_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "expert_selection.h"
#include "layer_heat_map.h"
#include "plot_selection.h"

namespace sy::gui {

AffinityView::AffinityView(QWidget* parent) : RoutingView(tr("Affinity"), parent) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("From layer:"), content));
    m_from = new QComboBox(content);
    bar->addWidget(m_from);
    bar->addWidget(new QLabel(tr("to"), content));
    m_hops = new QComboBox(content);
    bar->addWidget(m_hops);
    bar->addStretch();
    layout->addLayout(bar);
    m_heat = std::make_unique<HeatMapPlot>(content, tr("P(expert j at the later layer | expert i)"));
    layout->addWidget(m_heat->plot(), 1);
    set_content(content);
    set_empty_text(default_empty_text() + tr("\n(Affinity needs a model with at least two MoE layers.)"));
    attach_context_menu(m_heat->plot());
    m_marks = std::make_unique<SelectionMarks>(m_heat->plot());
    on_plot_click(m_heat->plot(), this, [this](double x, double y, bool add) {
        const analysis::AffinityPair* pair = current_pair();
        const int row = static_cast<int>(std::lround(y)), column = static_cast<int>(std::lround(x));
        if (pair == nullptr || row < 0 || row >= pair->from_experts || column < 0 || column >= pair->to_experts) return;
        emit expert_clicked(pair->from_layer, row, add);
        emit expert_clicked(pair->to_layer, column, true);
    });
    connect(m_from, &QComboBox::currentIndexChanged, this, [this]() { schedule_redraw(); });
    connect(m_hops, &QComboBox::currentIndexChanged, this, [this]() { schedule_redraw(); });
    m_heat->set_tooltip([this](int row, int column) -> QString {
        const analysis::AffinityPair* pair = current_pair();
        if (pair == nullptr || row >= pair->from_experts || column >= pair->to_experts) return {};
        return tr("layer %1 expert %2 → layer %3 expert %4\nP = %5 (%6 tokens)")
            .arg(pair->from_layer)
            .arg(row)
            .arg(pair->to_layer)
            .arg(column)
            .arg(pair->prob(row, column), 0, 'f', 3)
            .arg(pair->count(row, column), 0, 'f', 0);
    });
}

AffinityView::~AffinityView() = default;

void AffinityView::show_selection() {
    std::vector<QRectF> marks;
    const analysis::AffinityPair* pair = current_pair();
    if (pair != nullptr && selection()) {
        for (int i : selection()->in_layer(pair->from_layer))   // rows: experts at the earlier layer
            if (i < pair->from_experts) marks.emplace_back(-0.5, i - 0.5, pair->to_experts, 1.0);
        for (int j : selection()->in_layer(pair->to_layer))     // columns: experts at the later layer
            if (j < pair->to_experts) marks.emplace_back(j - 0.5, -0.5, 1.0, pair->from_experts);
    }
    m_marks->show(marks);
}

void AffinityView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    m_heat->plot()->replot();
}

int AffinityView::marked_experts() const { return m_marks->count(); }

QCustomPlot* AffinityView::plot() const { return m_heat->plot(); }

void AffinityView::set_pair(int from_moe, int hops) {
    if (snapshot()) sync_choices(*snapshot());
    m_hops->setCurrentIndex(m_hops->findData(hops));
    m_from->setCurrentIndex(m_from->findData(from_moe));
}

void AffinityView::sync_choices(const RoutingSnapshot& snapshot) {
    const int max_hops = static_cast<int>(snapshot.affinity.size());
    if (m_hops->count() != max_hops) {
        const QSignalBlocker block(m_hops);
        m_hops->clear();
        for (int h = 1; h <= max_hops; ++h) m_hops->addItem(h == 1 ? tr("next layer") : tr("%1 layers later").arg(h), h);
    }
    const int hops = std::max(m_hops->currentData().toInt(), 1);
    const int froms = snapshot.layers() - hops;
    if (m_from->count() != froms) {
        const QSignalBlocker block(m_from);
        const int keep = m_from->currentIndex();
        m_from->clear();
        for (int l = 0; l < froms; ++l)
            m_from->addItem(tr("layer %1").arg(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]), l);
        m_from->setCurrentIndex(std::clamp(keep, 0, std::max(froms - 1, 0)));
    }
}

const analysis::AffinityPair* AffinityView::current_pair() const {
    if (!snapshot()) return nullptr;
    const int hops = m_hops->currentData().toInt(), from = m_from->currentData().toInt();
    if (hops < 1 || hops > static_cast<int>(snapshot()->affinity.size())) return nullptr;
    const auto& pairs = snapshot()->affinity[static_cast<std::size_t>(hops - 1)].pairs;
    return from >= 0 && from < static_cast<int>(pairs.size()) ? &pairs[static_cast<std::size_t>(from)] : nullptr;
}

bool AffinityView::redraw(const RoutingSnapshot& snapshot) {
    if (snapshot.affinity.empty()) return false;
    sync_choices(snapshot);
    const analysis::AffinityPair* pair = current_pair();
    if (pair == nullptr) return false;
    show_selection();
    m_heat->show(pair->conditional, pair->from_experts, pair->to_experts, {}, {},
                 tr("expert at layer %1").arg(pair->to_layer), tr("expert at layer %1").arg(pair->from_layer),
                 tr("Affinity layer %1 → %2 — MI %3 bits of %4, top-1 row mass %5, %6 tokens")
                     .arg(pair->from_layer)
                     .arg(pair->to_layer)
                     .arg(pair->mutual_information, 0, 'f', 3)
                     .arg(pair->entropy_to, 0, 'f', 2)
                     .arg(pair->top_m_mass, 0, 'f', 3)
                     .arg(snapshot.tokens));
    return true;
}

QString AffinityView::csv() const {
    QString out = QStringLiteral("from_layer,to_layer,from_expert,to_expert,count,conditional\n");
    const analysis::AffinityPair* pair = current_pair();
    if (pair == nullptr) return out;
    for (int i = 0; i < pair->from_experts; ++i)
        for (int j = 0; j < pair->to_experts; ++j)
            out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                       .arg(pair->from_layer)
                       .arg(pair->to_layer)
                       .arg(i)
                       .arg(j)
                       .arg(pair->count(i, j), 0, 'g', 12)
                       .arg(pair->prob(i, j), 0, 'g', 8);
    return out;
}

}  // namespace sy::gui
