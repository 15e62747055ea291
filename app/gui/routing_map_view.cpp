#include "routing_map_view.h"

#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

#include "expert_selection.h"
#include "plot_selection.h"
#include "plot_style.h"

namespace sy::gui {

const TokenBlock* find_token(const RoutingSnapshot& snapshot, int64_t token, int64_t& row) {
    for (const auto& block : snapshot.blocks)
        if (token >= block->first_token && token < block->first_token + block->n) {
            row = token - block->first_token;
            return block.get();
        }
    return nullptr;
}

RoutingMapView::RoutingMapView(QWidget* parent) : RoutingView(tr("Routing"), parent) {
    m_plot = new QCustomPlot(this);
    style_plot(m_plot);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);   // zoom along tokens; layers stay in view
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);
    m_scale = add_color_scale(m_plot, tr("first-choice expert"));
    m_map->setColorScale(m_scale);
    integer_ticks(m_scale->axis());
    m_title = add_title(m_plot);
    m_plot->xAxis->setLabel(tr("token"));
    m_plot->yAxis->setLabel(tr("MoE layer"));
    m_plot->setMouseTracking(true);
    connect(m_plot, &QCustomPlot::mouseMove, this, &RoutingMapView::on_mouse_move);
    m_marks = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    m_marks->setLineStyle(QCPGraph::lsNone);
    m_marks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, Qt::black, Qt::white, 5));
    on_plot_click(m_plot, this, [this](double x, double y, bool add) {
        const int l = static_cast<int>(std::lround(y));
        const int expert = first_choice(static_cast<int64_t>(std::lround(x)), l);
        if (expert >= 0) emit expert_clicked(snapshot()->shape.moe_layers[static_cast<std::size_t>(l)], expert, add);
    });
    set_content(m_plot);
    attach_context_menu(m_plot);
}

int RoutingMapView::first_choice(int64_t token, int l) const {
    if (!snapshot() || l < 0 || l >= snapshot()->layers()) return -1;
    int64_t row = 0;
    const TokenBlock* block = find_token(*snapshot(), token, row);
    if (block == nullptr) return -1;
    return block->topk_ids[static_cast<std::size_t>((row * snapshot()->layers() + l) * snapshot()->shape.top_k)];
}

void RoutingMapView::show_selection() {
    QVector<double> tokens, layers;
    if (snapshot() && selection() && !selection()->empty()) {
        const RoutingSnapshot& s = *snapshot();
        const int k = s.shape.top_k;
        for (int l = 0; l < s.layers(); ++l) {
            const std::vector<int> selected = selection()->in_layer(s.shape.moe_layers[static_cast<std::size_t>(l)]);
            if (selected.empty()) continue;
            for (const auto& block : s.blocks)
                for (int64_t t = 0; t < block->n; ++t) {
                    const int first = block->topk_ids[static_cast<std::size_t>((t * s.layers() + l) * k)];
                    if (std::binary_search(selected.begin(), selected.end(), first)) {
                        tokens << double(block->first_token + t);
                        layers << l;
                    }
                }
        }
    }
    m_marks->setData(tokens, layers);
}

void RoutingMapView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    m_plot->replot();
}

int RoutingMapView::marked_cells() const { return m_marks->dataCount(); }

bool RoutingMapView::redraw(const RoutingSnapshot& snapshot) {
    const int64_t tokens = snapshot.kept_tokens();
    const int layers = snapshot.layers(), k = snapshot.shape.top_k, experts = snapshot.shape.max_experts();
    if (tokens == 0 || layers == 0) return false;
    m_map->data()->setSize(static_cast<int>(tokens), layers);
    m_map->data()->setRange(QCPRange(0, double(tokens - 1)), QCPRange(0, layers - 1));
    for (const auto& block : snapshot.blocks)
        for (int64_t t = 0; t < block->n; ++t)
            for (int l = 0; l < layers; ++l)
                m_map->data()->setCell(static_cast<int>(block->first_token + t), l,
                                       block->topk_ids[static_cast<std::size_t>((t * layers + l) * k)]);
    m_map->setGradient(categorical_gradient(experts));
    m_map->setDataRange(QCPRange(0, std::max(experts - 1, 1)));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int l = 0; l < layers; ++l) ticker->addTick(l, QString::number(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]));
    m_plot->yAxis->setTicker(ticker);
    m_plot->yAxis->setRange(-0.5, layers - 0.5);
    if (m_drawn_tokens == 0 || tokens < m_drawn_tokens)   // a new trace: show its first 512 tokens
        m_plot->xAxis->setRange(-0.5, std::min<double>(double(tokens), 512) - 0.5);
    m_drawn_tokens = tokens;
    show_selection();
    m_title->setText(tr("Routing map: first-choice expert per token and MoE layer — showing %1 of %2 tokens "
                        "(hover for details, wheel to zoom, click to select an expert)")
                         .arg(tokens)
                         .arg(snapshot.tokens));
    m_plot->replot();
    return true;
}

QString RoutingMapView::describe(int64_t token, int l) const {
    if (!snapshot() || l < 0 || l >= snapshot()->layers()) return {};
    const RoutingSnapshot& s = *snapshot();
    int64_t row = 0;
    const TokenBlock* block = find_token(s, token, row);
    if (block == nullptr) return {};
    const int layers = s.layers(), k = s.shape.top_k;
    const int32_t doc = block->doc[static_cast<std::size_t>(row)];
    QString text = tr("token %1: \"%2\" (id %3)\ndocument %4, position %5")
                       .arg(token)
                       .arg(QString::fromStdString(s.token_text(block->ids[static_cast<std::size_t>(row)])))
                       .arg(block->ids[static_cast<std::size_t>(row)])
                       .arg(doc)
                       .arg(block->pos[static_cast<std::size_t>(row)]);
    if (doc >= 0 && doc < static_cast<int32_t>(s.doc_domains.size()) && !s.doc_domains[static_cast<std::size_t>(doc)].empty())
        text += tr(", domain %1").arg(QString::fromStdString(s.doc_domains[static_cast<std::size_t>(doc)]));
    text += tr("\nlayer %1:").arg(s.shape.moe_layers[static_cast<std::size_t>(l)]);
    for (int j = 0; j < k; ++j) {
        const std::size_t at = static_cast<std::size_t>((row * layers + l) * k + j);
        text += tr("  expert %1 (%2)").arg(block->topk_ids[at]).arg(block->topk_weights[at], 0, 'f', 3);
    }
    return text;
}

void RoutingMapView::on_mouse_move(QMouseEvent* event) {
    const double x = m_plot->xAxis->pixelToCoord(event->position().x());
    const double y = m_plot->yAxis->pixelToCoord(event->position().y());
    const QString text = describe(static_cast<int64_t>(std::lround(x)), static_cast<int>(std::lround(y)));
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
}

QString RoutingMapView::csv() const {
    QString out = QStringLiteral("token,id,text,doc,pos,layer,rank,expert,weight\n");
    if (!snapshot()) return out;
    const RoutingSnapshot& s = *snapshot();
    const int layers = s.layers(), k = s.shape.top_k;
    for (const auto& block : s.blocks)
        for (int64_t t = 0; t < block->n; ++t) {
            QString text = QString::fromStdString(s.token_text(block->ids[static_cast<std::size_t>(t)]));
            text.replace('"', QLatin1String("\"\""));
            for (int l = 0; l < layers; ++l)
                for (int j = 0; j < k; ++j) {
                    const std::size_t at = static_cast<std::size_t>((t * layers + l) * k + j);
                    out += QStringLiteral("%1,%2,\"%3\",%4,%5,%6,%7,%8,%9\n")
                               .arg(block->first_token + t)
                               .arg(block->ids[static_cast<std::size_t>(t)])
                               .arg(text)
                               .arg(block->doc[static_cast<std::size_t>(t)])
                               .arg(block->pos[static_cast<std::size_t>(t)])
                               .arg(s.shape.moe_layers[static_cast<std::size_t>(l)])
                               .arg(j)
                               .arg(block->topk_ids[at])
                               .arg(block->topk_weights[at], 0, 'g', 7);
                }
        }
    return out;
}

}  // namespace sy::gui
