#include "flow_view.h"

#include <QToolTip>
#include <algorithm>
#include <qcustomplot.h>

#include "expert_selection.h"
#include "plot_selection.h"
#include "plot_style.h"

namespace sy::gui {

namespace {

constexpr double node_width = 0.06;
constexpr double gap_share = 0.25;          // of the column height, split between the nodes
constexpr double min_band_share = 0.002;    // bands under 0.2% of the tokens are not drawn
constexpr int max_bands_per_pair = 400;
constexpr int band_samples = 24;

double smoothstep(double t) { return t * t * (3 - 2 * t); }

}  // namespace

FlowView::FlowView(QWidget* parent) : RoutingView(tr("Flow"), parent) {
    m_plot = new QCustomPlot(this);
    style_plot(m_plot);
    m_title = add_title(m_plot);
    m_plot->yAxis->setVisible(false);
    m_plot->xAxis->setLabel(tr("MoE layer"));
    m_plot->setMouseTracking(true);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
        const QString text = node_tooltip(m_plot->xAxis->pixelToCoord(event->position().x()),
                                          m_plot->yAxis->pixelToCoord(event->position().y()));
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
    });
    set_content(m_plot);
    set_empty_text(default_empty_text() + tr("\n(The flow view needs a model with at least two MoE layers.)"));
    attach_context_menu(m_plot);
    m_marks = std::make_unique<SelectionMarks>(m_plot);
    on_plot_click(m_plot, this, [this](double x, double y, bool add) {
        if (const Node* node = node_at(x, y); node != nullptr && snapshot())
            emit expert_clicked(snapshot()->shape.moe_layers[static_cast<std::size_t>(node->moe)], node->expert, add);
    });
}

FlowView::~FlowView() = default;

QPointF FlowView::node_center(int moe, int expert) const {
    for (const auto& column : m_nodes)
        for (const Node& node : column)
            if (node.moe == moe && node.expert == expert) return {node.x, node.y + node.height / 2};
    return {-1, -1};
}

const FlowView::Node* FlowView::node_at(double x, double y) const {
    for (const auto& column : m_nodes)
        for (const Node& node : column)
            if (std::abs(x - node.x) <= node_width && y >= node.y && y <= node.y + node.height) return &node;
    return nullptr;
}

void FlowView::show_selection() {
    std::vector<QRectF> marks;
    if (snapshot() && selection())
        for (const auto& column : m_nodes)
            for (const Node& node : column)
                if (selection()->contains(snapshot()->shape.moe_layers[static_cast<std::size_t>(node.moe)], node.expert))
                    marks.emplace_back(node.x - node_width / 2, node.y, node_width, node.height);
    m_marks->show(marks);
}

void FlowView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    m_plot->replot();
}

int FlowView::marked_experts() const { return m_marks->count(); }

void FlowView::layout_nodes(const RoutingSnapshot& snapshot) {
    m_nodes.assign(static_cast<std::size_t>(snapshot.layers()), {});
    m_tokens = double(std::max<int64_t>(snapshot.stats.tokens, 1));
    for (int l = 0; l < snapshot.layers(); ++l) {
        const auto& counts = snapshot.stats.loads[static_cast<std::size_t>(l)].first_choice_counts;
        const int experts = static_cast<int>(counts.size());
        const double gap = experts > 1 ? gap_share / (experts - 1) : 0;
        double y = 1 + gap_share;   // expert 0 on top
        for (int e = 0; e < experts; ++e) {
            Node node{l, e, double(l), 0, double(counts[static_cast<std::size_t>(e)]) / m_tokens, 0};
            node.tokens = double(counts[static_cast<std::size_t>(e)]);
            node.y = y - node.height;
            y = node.y - gap;
            m_nodes[static_cast<std::size_t>(l)].push_back(node);
        }
    }
}

void FlowView::draw_pair(const analysis::AffinityPair& pair, int l, int experts_total) {
    const auto& from = m_nodes[static_cast<std::size_t>(l)];
    const auto& to = m_nodes[static_cast<std::size_t>(l + 1)];
    // Offsets inside each node: outflows stacked by target, inflows by source (top to bottom).
    std::vector<double> out_offset(from.size(), 0), in_offset(to.size(), 0);
    struct Band { int i, j; double top_from, top_to, width; };
    std::vector<Band> bands;
    for (int i = 0; i < pair.from_experts; ++i)
        for (int j = 0; j < pair.to_experts; ++j) {
            const double width = pair.count(i, j) / m_tokens;
            const Band band{i, j, from[i].y + from[i].height - out_offset[i], to[j].y + to[j].height - in_offset[j], width};
            out_offset[i] += width;
            in_offset[j] += width;
            if (width >= min_band_share) bands.push_back(band);
        }
    std::sort(bands.begin(), bands.end(), [](const Band& a, const Band& b) { return a.width > b.width; });
    if (static_cast<int>(bands.size()) > max_bands_per_pair) bands.resize(max_bands_per_pair);
    for (const Band& band : bands) {
        QVector<double> keys, values;
        const double x0 = l + node_width / 2, x1 = l + 1 - node_width / 2;
        for (int s = 0; s <= band_samples; ++s) {   // top edge left to right
            const double t = double(s) / band_samples, f = smoothstep(t);
            keys << x0 + t * (x1 - x0);
            values << band.top_from + f * (band.top_to - band.top_from);
        }
        for (int s = band_samples; s >= 0; --s) {   // bottom edge back
            const double t = double(s) / band_samples, f = smoothstep(t);
            keys << x0 + t * (x1 - x0);
            values << band.top_from - band.width + f * (band.top_to - band.top_from);
        }
        auto* curve = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
        curve->setData(keys, values);
        QColor color = expert_color(band.i, experts_total);
        color.setAlpha(110);
        curve->setBrush(color);
        curve->setPen(Qt::NoPen);
        ++m_bands;
    }
}

bool FlowView::redraw(const RoutingSnapshot& snapshot) {
    if (snapshot.affinity.empty() || snapshot.affinity[0].pairs.empty()) return false;
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_bands = 0;
    layout_nodes(snapshot);
    const int experts_total = snapshot.shape.max_experts();
    const auto& pairs = snapshot.affinity[0].pairs;
    for (int l = 0; l + 1 < snapshot.layers() && l < static_cast<int>(pairs.size()); ++l)
        draw_pair(pairs[static_cast<std::size_t>(l)], l, experts_total);
    for (const auto& column : m_nodes)
        for (const Node& node : column) {
            auto* rect = new QCPItemRect(m_plot);
            rect->topLeft->setCoords(node.x - node_width / 2, node.y + node.height);
            rect->bottomRight->setCoords(node.x + node_width / 2, node.y);
            rect->setBrush(expert_color(node.expert, experts_total));
            rect->setPen(QPen(Qt::white, 0.5));
        }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int l = 0; l < snapshot.layers(); ++l) ticker->addTick(l, QString::number(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]));
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setRange(-0.3, snapshot.layers() - 0.7);
    m_plot->yAxis->setRange(-0.05, 1 + gap_share + 0.05);
    show_selection();
    m_title->setText(tr("Flow of first-choice experts between consecutive MoE layers — %1 tokens (bands ≥ %2% shown)")
                         .arg(snapshot.tokens)
                         .arg(min_band_share * 100, 0, 'f', 1));
    m_plot->replot();
    return true;
}

QString FlowView::node_tooltip(double x, double y) const {
    const Node* node = node_at(x, y);
    if (node == nullptr) return {};
    return tr("layer %1, expert %2\nfirst choice of %3 tokens (%4%)\nclick to select, Ctrl-click to add")
        .arg(snapshot() ? snapshot()->shape.moe_layers[static_cast<std::size_t>(node->moe)] : node->moe)
        .arg(node->expert)
        .arg(node->tokens, 0, 'f', 0)
        .arg(node->tokens / m_tokens * 100, 0, 'f', 1);
}

QString FlowView::csv() const {
    QString out = QStringLiteral("from_layer,to_layer,from_expert,to_expert,tokens\n");
    if (!snapshot() || snapshot()->affinity.empty()) return out;
    for (const analysis::AffinityPair& pair : snapshot()->affinity[0].pairs)
        for (int i = 0; i < pair.from_experts; ++i)
            for (int j = 0; j < pair.to_experts; ++j)
                out += QStringLiteral("%1,%2,%3,%4,%5\n")
                           .arg(pair.from_layer)
                           .arg(pair.to_layer)
                           .arg(i)
                           .arg(j)
                           .arg(pair.count(i, j), 0, 'g', 12);
    return out;
}

}  // namespace sy::gui
