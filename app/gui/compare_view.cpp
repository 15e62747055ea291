#include "compare_view.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "command_line.h"
#include "expert_selection.h"
#include "job_progress.h"
#include "job_runner.h"
#include "plot_selection.h"
#include "plot_style.h"

namespace sy::gui {

namespace {

QCustomPlot* new_plot(QWidget* parent, QCPTextElement*& title) {
    auto* plot = new QCustomPlot(parent);
    style_plot(plot);
    title = add_title(plot);
    plot->legend->setVisible(true);
    plot->legend->setFont(QFont(plot->font().family(), 8));
    plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot->setMinimumHeight(220);
    return plot;
}

QCPBars* add_bars(QCustomPlot* plot, QCPBarsGroup* group, const QString& name, const QColor& color, const QVector<double>& keys,
                  const QVector<double>& values) {
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setName(name);
    bars->setPen(Qt::NoPen);
    bars->setBrush(color);
    bars->setWidth(0.8 / std::max(1, group ? 3 : 1));
    if (group) bars->setBarsGroup(group);
    bars->setData(keys, values);
    return bars;
}

QSharedPointer<QCPAxisTickerText> label_ticks(const QStringList& labels) {
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < labels.size(); ++i) ticker->addTick(i, labels[i]);
    return ticker;
}

}  // namespace

CompareView::CompareView(QWidget* parent) : RoutingView(tr("Compare"), parent) {
    m_content = new QWidget(this);
    auto* layout = new QVBoxLayout(m_content);
    m_caption = new QLabel(m_content);
    m_caption->setWordWrap(true);
    m_caption->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_caption);
    m_job = new JobProgress(m_content);
    m_job->hide();
    layout->addWidget(m_job);
    auto* grid = new QGridLayout;
    m_agreement = new_plot(m_content, m_agreement_title);
    m_losses = new_plot(m_content, m_losses_title);
    auto* drift_box = new QWidget(m_content);
    auto* drift_layout = new QVBoxLayout(drift_box);
    drift_layout->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Load drift of layer:"), drift_box));
    m_layer = new QComboBox(drift_box);
    bar->addWidget(m_layer);
    bar->addStretch();
    drift_layout->addLayout(bar);
    m_drift = new_plot(drift_box, m_drift_title);
    m_drift->legend->setVisible(false);
    drift_layout->addWidget(m_drift, 1);
    m_changed = new QTableWidget(m_content);
    m_changed->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_changed->verticalHeader()->hide();
    grid->addWidget(m_agreement, 0, 0);
    grid->addWidget(m_losses, 0, 1);
    grid->addWidget(drift_box, 1, 0);
    grid->addWidget(m_changed, 1, 1);
    layout->addLayout(grid, 1);
    set_content(m_content);
    set_empty_text(tr("Nothing compared yet. Preview an edit stack (the Edit stack panel) or compare two traces of the same\n"
                      "tokens (File → Compare traces…): top-k agreement, load drift, per-domain NLL and changed tokens appear here."));
    for (QCustomPlot* plot : plots()) attach_context_menu(plot);
    attach_context_menu(m_changed);
    m_marks = std::make_unique<SelectionMarks>(m_drift);
    on_plot_click(m_drift, this, [this](double x, double, bool add) {
        if (!m_comparison) return;
        const int l = m_layer->currentIndex(), e = static_cast<int>(std::lround(x));
        const auto& layers = m_comparison->compare.layers;
        if (l >= 0 && l < static_cast<int>(layers.size()) && e >= 0 && e < static_cast<int>(layers[static_cast<std::size_t>(l)].drift.size()))
            emit expert_clicked(layers[static_cast<std::size_t>(l)].layer, e, add);
    });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this]() {
        if (!m_comparison) return;
        draw_drift();
    });
}

CompareView::~CompareView() = default;

QWidget* CompareView::export_widget() const { return m_content; }

std::vector<QCustomPlot*> CompareView::plots() const { return {m_agreement, m_losses, m_drift}; }

void CompareView::show_comparison(std::shared_ptr<const Comparison> comparison) {
    m_comparison = std::move(comparison);
    const QSignalBlocker block(m_layer);
    const int keep = m_layer->currentIndex();
    m_layer->clear();
    for (const analysis::LayerAgreement& g : m_comparison->compare.layers) m_layer->addItem(tr("layer %1").arg(g.layer));
    // The layer that changed most, unless the user chose one that still exists.
    int worst = 0;
    const auto& layers = m_comparison->compare.layers;
    for (std::size_t l = 0; l < layers.size(); ++l)
        if (layers[l].load_tv > layers[static_cast<std::size_t>(worst)].load_tv) worst = static_cast<int>(l);
    m_layer->setCurrentIndex(keep > 0 && keep < m_layer->count() ? keep : worst);
    redraw_now();
}

void CompareView::set_drift_layer(int moe_index) { m_layer->setCurrentIndex(moe_index); }

bool CompareView::comparing() const { return m_job->running(); }

void CompareView::compare_traces(const QString& a, const QString& b) {
    if (m_job->running()) return;
    emit log_line(tr("compare: %1").arg(shell_command(compare_command(a, b))));
    m_job->show();
    set_content_always_visible(true);
    auto cancel = run_cancellable_job<const Comparison>(
        this,
        [a, b](sy::Progress& progress, const sy::CancelToken& token) {
            return std::make_shared<const Comparison>(run_compare(a, b, progress, token));
        },
        [this](std::shared_ptr<const Comparison> comparison) {
            m_job->finish(QString());
            m_job->hide();
            show_comparison(std::move(comparison));
            emit log_line(tr("compared %1").arg(m_comparison->title));
            emit compared();
        },
        {[this](double fraction, const QString& stage) { m_job->show_progress(fraction, stage); },
         [this](const QString& message) {
             m_job->finish(message);
             emit failed(message);
         },
         [this]() { m_job->finish(tr("compare cancelled")); }});
    m_job->start(cancel, tr("comparing %1 and %2…").arg(a, b));
}

bool CompareView::redraw(const RoutingSnapshot&) { return redraw_view(); }

bool CompareView::redraw_view() {
    if (!m_comparison || m_comparison->compare.layers.empty()) return false;
    const Comparison& c = *m_comparison;
    const analysis::CompareResult& r = c.compare;
    QString text = tr("<b>%1</b> — top-k overlap %2%, first choice agrees %3% (means over layers).")
                       .arg(c.title.toHtmlEscaped())
                       .arg(r.topk_overlap * 100, 0, 'f', 1)
                       .arg(r.first_choice * 100, 0, 'f', 1);
    if (r.all.tokens > 0)
        text += tr(" Next-token loss %1 → %2 nats (%3%4).")
                    .arg(r.all.mean_nll_a, 0, 'f', 4)
                    .arg(r.all.mean_nll_b, 0, 'f', 4)
                    .arg(r.all.mean_nll_b >= r.all.mean_nll_a ? QStringLiteral("+") : QString())
                    .arg(r.all.mean_nll_b - r.all.mean_nll_a, 0, 'f', 4);
    if (c.summary)
        text += tr(" Experts per layer %1 → %2, %3 → %4 MB.")
                    .arg(c.summary->experts_before)
                    .arg(c.summary->experts_after)
                    .arg(double(c.summary->bytes_before) / 1e6, 0, 'f', 1)
                    .arg(double(c.summary->bytes_after) / 1e6, 0, 'f', 1);
    for (const std::string& note : c.notes) text += QStringLiteral("<br><i>%1</i>").arg(QString::fromStdString(note).toHtmlEscaped());
    m_caption->setText(text);
    draw_agreement();
    draw_losses();
    draw_drift();
    fill_changed();
    return true;
}

void CompareView::draw_agreement() {
    const Comparison& c = *m_comparison;
    m_agreement->clearPlottables();
    auto* group = new QCPBarsGroup(m_agreement);
    QVector<double> keys, overlap, first, error;
    QStringList labels;
    for (std::size_t l = 0; l < c.compare.layers.size(); ++l) {
        keys << double(l);
        overlap << c.compare.layers[l].topk_overlap;
        first << c.compare.layers[l].first_choice;
        labels << QString::number(c.compare.layers[l].layer);
        if (c.preview && l < c.preview->relative_error.size()) error << c.preview->relative_error[l];
    }
    add_bars(m_agreement, group, tr("top-k overlap"), expert_color(0, 20), keys, overlap);
    add_bars(m_agreement, group, tr("same first choice"), expert_color(1, 20), keys, first);
    double top = 1.0;
    if (!error.isEmpty()) {
        add_bars(m_agreement, group, tr("relative output error"), expert_color(3, 20), keys, error);
        for (double e : error) top = std::max(top, e);
    }
    m_agreement->xAxis->setTicker(label_ticks(labels));
    m_agreement->xAxis->setLabel(tr("MoE layer"));
    m_agreement->xAxis->setRange(-0.6, keys.size() - 0.4);
    m_agreement->yAxis->setRange(0, top * 1.15);
    m_agreement->yAxis->setLabel(tr("share of tokens / relative error"));
    m_agreement_title->setText(error.isEmpty() ? tr("Routing agreement per layer, %1 vs %2").arg(c.label_a, c.label_b)
                                               : tr("Routing agreement and the edited MoE block's output error per layer "
                                                    "(sqrt(Σ|y′−y|² / Σ|y|²) on the original block inputs)"));
    m_agreement->replot();
}

void CompareView::draw_losses() {
    const Comparison& c = *m_comparison;
    m_losses->clearPlottables();
    auto* group = new QCPBarsGroup(m_losses);
    QVector<double> keys, a, b;
    QStringList labels;
    for (const analysis::DomainLoss& d : analysis::loss_rows(c.compare)) {
        keys << double(keys.size());
        a << d.mean_nll_a;
        b << d.mean_nll_b;
        labels << tr("%1\n%2 tok").arg(QString::fromStdString(d.domain)).arg(d.tokens);
    }
    add_bars(m_losses, group, c.label_a, QColor(0x7f, 0x7f, 0x7f), keys, a);
    add_bars(m_losses, group, c.label_b, expert_color(3, 20), keys, b);
    double top = 0;
    for (double v : a + b) top = std::max(top, v);
    m_losses->xAxis->setTicker(label_ticks(labels));
    m_losses->xAxis->setRange(-0.6, std::max<double>(keys.size(), 1) - 0.4);
    m_losses->yAxis->setRange(0, std::max(top, 1e-3) * 1.15);
    m_losses->yAxis->setLabel(tr("mean next-token NLL (nats)"));
    m_losses_title->setText(keys.isEmpty() ? tr("No next-token loss in these traces")
                                           : tr("Next-token loss per domain, %1 vs %2").arg(c.label_a, c.label_b));
    m_losses->replot();
}

void CompareView::draw_drift() {
    const Comparison& c = *m_comparison;
    const int l = std::max(0, m_layer->currentIndex());
    if (l >= static_cast<int>(c.compare.layers.size())) return;
    const analysis::LayerAgreement& g = c.compare.layers[static_cast<std::size_t>(l)];
    m_drift->clearPlottables();
    const int experts = static_cast<int>(g.drift.size());
    double extent = 1e-4;
    for (int e = 0; e < experts; ++e) {
        auto* bars = new QCPBars(m_drift->xAxis, m_drift->yAxis);
        bars->setWidth(0.8);
        bars->setPen(Qt::NoPen);
        bars->setBrush(expert_color(e, experts));
        bars->addData(e, g.drift[static_cast<std::size_t>(e)]);
        extent = std::max(extent, std::abs(g.drift[static_cast<std::size_t>(e)]));
    }
    m_drift->xAxis->setRange(-0.6, experts - 0.4);
    m_drift->yAxis->setRange(-extent * 1.2, extent * 1.2);
    m_drift->xAxis->setLabel(tr("expert"));
    m_drift->yAxis->setLabel(tr("load %1 − load %2").arg(c.label_b, c.label_a));
    integer_ticks(m_drift->xAxis);
    m_drift_title->setText(tr("Load drift, layer %1: total variation %2, top-k overlap %3%")
                               .arg(g.layer)
                               .arg(g.load_tv, 0, 'f', 4)
                               .arg(g.topk_overlap * 100, 0, 'f', 1));
    show_selection();
    m_drift->replot();
}

void CompareView::fill_changed() {
    const Comparison& c = *m_comparison;
    m_changed->clear();
    m_changed->setColumnCount(6);
    m_changed->setHorizontalHeaderLabels({tr("token"), tr("text"), tr("doc"), tr("pos"), tr("slots changed"), tr("first choice changed")});
    m_changed->setRowCount(static_cast<int>(c.compare.most_changed.size()));
    for (int row = 0; row < m_changed->rowCount(); ++row) {
        const analysis::ChangedToken& t = c.compare.most_changed[static_cast<std::size_t>(row)];
        const QString text = c.vocab && t.token_id >= 0 && t.token_id < static_cast<int32_t>(c.vocab->size())
                                 ? QString::fromStdString((*c.vocab)[static_cast<std::size_t>(t.token_id)])
                                 : QStringLiteral("#%1").arg(t.token_id);
        const QStringList cells{QString::number(t.token), text, QString::number(t.doc), QString::number(t.pos),
                                QString::number(t.changed * 100, 'f', 1) + QLatin1Char('%'),
                                tr("%1 of %2 layers").arg(t.first_choice_changes).arg(c.compare.layers.size())};
        for (int column = 0; column < cells.size(); ++column) m_changed->setItem(row, column, new QTableWidgetItem(cells[column]));
    }
    m_changed->resizeColumnsToContents();
}

void CompareView::show_selection() {
    std::vector<QRectF> marks;
    const int l = m_layer->currentIndex();
    if (m_comparison && selection() && l >= 0 && l < static_cast<int>(m_comparison->compare.layers.size())) {
        const analysis::LayerAgreement& g = m_comparison->compare.layers[static_cast<std::size_t>(l)];
        for (int e : selection()->in_layer(g.layer))
            if (e < static_cast<int>(g.drift.size())) {
                const double d = g.drift[static_cast<std::size_t>(e)];
                marks.emplace_back(e - 0.45, std::min(0.0, d), 0.9, std::abs(d));
            }
    }
    m_marks->show(marks);
}

void CompareView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    m_drift->replot();
}

int CompareView::changed_rows() const { return m_changed->rowCount(); }

QString CompareView::changed_text(int row) const { return m_changed->item(row, 1) ? m_changed->item(row, 1)->text() : QString(); }

QString CompareView::caption() const { return m_caption->text(); }

QString CompareView::csv() const {
    QString out = QStringLiteral("layer,topk_overlap,topk_set_equal,first_choice,load_tv,relative_output_error\n");
    if (!m_comparison) return out;
    const Comparison& c = *m_comparison;
    for (std::size_t l = 0; l < c.compare.layers.size(); ++l) {
        const analysis::LayerAgreement& g = c.compare.layers[l];
        out += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                   .arg(g.layer)
                   .arg(g.topk_overlap, 0, 'g', 10)
                   .arg(g.topk_set_equal, 0, 'g', 10)
                   .arg(g.first_choice, 0, 'g', 10)
                   .arg(g.load_tv, 0, 'g', 10)
                   .arg(c.preview && l < c.preview->relative_error.size() ? QString::number(c.preview->relative_error[l], 'g', 10) : QString());
    }
    out += QStringLiteral("\nlayer,expert,count_a,count_b,load_drift\n");
    for (const analysis::LayerAgreement& g : c.compare.layers)
        for (std::size_t e = 0; e < g.drift.size(); ++e)
            out += QStringLiteral("%1,%2,%3,%4,%5\n").arg(g.layer).arg(e).arg(g.counts_a[e]).arg(g.counts_b[e]).arg(g.drift[e], 0, 'g', 10);
    out += QStringLiteral("\ndomain,tokens,mean_nll_a,mean_nll_b\n");
    for (const analysis::DomainLoss& d : analysis::loss_rows(c.compare))
        out += QStringLiteral("\"%1\",%2,%3,%4\n").arg(QString::fromStdString(d.domain)).arg(d.tokens).arg(d.mean_nll_a, 0, 'g', 10).arg(d.mean_nll_b, 0, 'g', 10);
    return out;
}

}  // namespace sy::gui
