#include "similarity_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "command_line.h"
#include "expert_data.h"
#include "expert_selection.h"
#include "job_progress.h"
#include "job_runner.h"
#include "layer_heat_map.h"
#include "plot_selection.h"
#include "run_panel.h"
#include "switchyard/compute/expert_similarity.h"
#include "switchyard/core/model.h"

namespace sy::gui {

namespace {

const std::vector<double>* matrix_of(const sy::ExpertSimilarity& s, const QString& kind) {
    if (kind == QLatin1String("outputs")) return &s.outputs;
    if (kind == QLatin1String("aligned weights")) return &s.weights_aligned;
    if (kind == QLatin1String("weights")) return &s.weights_unaligned;
    return &s.router;
}

}  // namespace

SimilarityView::SimilarityView(ExpertData* data, const RunPanel* run, QWidget* parent)
    : RoutingView(tr("Similarity"), parent), m_data(data), m_run(run) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Layer:"), content));
    m_layer = new QComboBox(content);
    bar->addWidget(m_layer);
    bar->addWidget(new QLabel(tr("Cosine of:"), content));
    m_matrix = new QComboBox(content);
    for (const char* kind : {"outputs", "aligned weights", "weights", "router"}) m_matrix->addItem(QString::fromLatin1(kind));
    bar->addWidget(m_matrix);
    m_align = new QCheckBox(tr("align neurons"), content);
    m_align->setChecked(true);
    m_align->setToolTip(tr("Match every pair's intermediate neurons first (an I × I assignment per pair; "
                           "slow for I in the 10,000s): `similarity` without --no-align"));
    bar->addWidget(m_align);
    bar->addWidget(new QLabel(tr("Tokens:"), content));
    m_tokens = new QSpinBox(content);
    m_tokens->setRange(16, 1 << 24);
    m_tokens->setValue(1024);
    m_tokens->setSingleStep(512);
    m_tokens->setToolTip(tr("Tokens of the Run panel's data behind the output similarity (--max-tokens)"));
    bar->addWidget(m_tokens);
    auto* compute = new QPushButton(tr("Compute"), content);
    compute->setToolTip(tr("Compute the layer's matrices on a worker thread, as `switchyard similarity` does"));
    bar->addWidget(compute);
    bar->addStretch();
    layout->addLayout(bar);
    m_job = new JobProgress(content);
    layout->addWidget(m_job);
    m_heat = std::make_unique<HeatMapPlot>(content, tr("cosine similarity"));
    layout->addWidget(m_heat->plot(), 1);
    set_content(content);
    set_content_always_visible(false);
    set_empty_text(tr("Open a model (Ctrl+O), choose a dataset in the Run panel, then pick a layer and press Compute:\n"
                      "the expert × expert similarity of its router rows, weights and outputs appears here."));
    attach_context_menu(m_heat->plot());
    m_marks = std::make_unique<SelectionMarks>(m_heat->plot());
    m_heat->set_tooltip([this](int row, int column) -> QString {
        const std::vector<double>* values = matrix();
        const sy::ExpertSimilarity* s = current();
        if (values == nullptr || values->empty()) return {};
        const double v = (*values)[static_cast<std::size_t>(row * s->experts + column)];
        return tr("layer %1: expert %2 vs %3\n%4 cosine %5\nclick selects both (a merge candidate)")
            .arg(s->layer)
            .arg(row)
            .arg(column)
            .arg(m_matrix->currentText())
            .arg(std::isnan(v) ? tr("undefined") : QString::number(v, 'f', 4));
    });
    on_plot_click(m_heat->plot(), this, [this](double x, double y, bool add) {
        const sy::ExpertSimilarity* s = current();
        const int row = static_cast<int>(std::lround(y)), column = static_cast<int>(std::lround(x));
        if (s == nullptr || row < 0 || column < 0 || row >= s->experts || column >= s->experts) return;
        emit expert_clicked(s->layer, row, add);
        if (column != row) emit expert_clicked(s->layer, column, true);
    });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this]() { schedule_redraw(); });
    connect(m_matrix, &QComboBox::currentIndexChanged, this, [this]() { schedule_redraw(); });
    connect(compute, &QPushButton::clicked, this, &SimilarityView::compute);
    connect(m_data, &ExpertData::model_changed, this, [this]() {
        sync_layers();
        // The toolbar (layer, Compute) is the way in: shown as soon as a MoE model is open.
        set_content_always_visible(m_layer->count() > 0);
        schedule_redraw();
    });
    connect(m_data, &ExpertData::similarity_changed, this, [this]() { schedule_redraw(); });
}

SimilarityView::~SimilarityView() = default;

QCustomPlot* SimilarityView::plot() const { return m_heat->plot(); }

void SimilarityView::sync_layers() {
    const QSignalBlocker block(m_layer);
    m_layer->clear();
    if (!m_data->model()) return;
    for (int layer : m_data->model()->description.moe_layers) m_layer->addItem(tr("layer %1").arg(layer), layer);
}

int SimilarityView::layer() const { return m_layer->currentData().isValid() ? m_layer->currentData().toInt() : -1; }

void SimilarityView::set_layer(int layer) { m_layer->setCurrentIndex(m_layer->findData(layer)); }
void SimilarityView::set_matrix(const QString& kind) { m_matrix->setCurrentText(kind); }
void SimilarityView::set_align(bool align) { m_align->setChecked(align); }
void SimilarityView::set_tokens(int tokens) { m_tokens->setValue(tokens); }

const sy::ExpertSimilarity* SimilarityView::current() const { return m_data->similarity(layer()); }

const std::vector<double>* SimilarityView::matrix() const {
    const sy::ExpertSimilarity* s = current();
    return s ? matrix_of(*s, m_matrix->currentText()) : nullptr;
}

bool SimilarityView::redraw(const RoutingSnapshot&) { return redraw_view(); }

bool SimilarityView::redraw_view() {
    const sy::ExpertSimilarity* s = current();
    const std::vector<double>* values = matrix();
    if (s == nullptr || values == nullptr || values->size() != static_cast<std::size_t>(s->experts * s->experts)) {
        // Nothing to draw (not computed, or computed without this matrix): an empty plot under the toolbar.
        m_heat->show({}, 0, 0, {}, {}, tr("expert"), tr("expert"),
                     s == nullptr ? tr("Layer %1 not computed yet: press Compute").arg(layer())
                                  : tr("No %1 matrix for layer %2 (computed without it)").arg(m_matrix->currentText()).arg(layer()));
        return false;
    }
    const int experts = static_cast<int>(s->experts);
    show_selection();
    m_heat->show(*values, experts, experts, {}, {}, tr("expert"), tr("expert"),
                 tr("Expert similarity, layer %1 — cosine of %2 (%3 tokens, I = %4%5)")
                     .arg(s->layer)
                     .arg(m_matrix->currentText())
                     .arg(s->tokens)
                     .arg(s->intermediate_size)
                     .arg(s->shared_experts > 0 ? tr(", %1 shared experts not compared").arg(s->shared_experts) : QString()));
    return true;
}

void SimilarityView::show_selection() {
    std::vector<QRectF> marks;
    const sy::ExpertSimilarity* s = current();
    if (s != nullptr && selection())
        for (int e : selection()->in_layer(s->layer)) {
            if (e >= s->experts) continue;
            marks.emplace_back(-0.5, e - 0.5, double(s->experts), 1.0);
            marks.emplace_back(e - 0.5, -0.5, 1.0, double(s->experts));
        }
    m_marks->show(marks);
}

void SimilarityView::on_selection_changed() {
    if (!has_data()) return;
    show_selection();
    m_heat->plot()->replot();
}

int SimilarityView::marked_experts() const { return m_marks->count() / 2; }

bool SimilarityView::computing() const { return m_job->running(); }

void SimilarityView::compute() {
    const std::shared_ptr<const sy::Model> model = m_data->model();
    if (!model || layer() < 0) {
        emit failed(tr("open a MoE model first (File → Open model, Ctrl+O)"));
        return;
    }
    if (m_job->running()) return;
    try {
        sy::SimilarityOptions options;
        options.corpus = m_run->corpus(m_tokens->value());
        options.runner = m_run->runner();
        options.layer = layer();
        options.align = m_align->isChecked();
        QStringList argv{QStringLiteral("switchyard"), QStringLiteral("similarity"), QString::fromStdString(model->checkpoint.dir().string())};
        argv << m_run->command_flags(m_tokens->value()) << QStringLiteral("--layer") << QString::number(layer());
        if (!options.align) argv << QStringLiteral("--no-align");
        emit log_line(tr("similarity: %1").arg(shell_command(argv)));
        auto cancel = run_cancellable_job<const sy::ExpertSimilarity>(
            this,
            [model, options](sy::Progress& progress, const sy::CancelToken& token) {
                sy::check_similarity_layer(model->description, options.layer);
                return std::make_shared<const sy::ExpertSimilarity>(sy::run_expert_similarity(*model, options, progress, token));
            },
            [this](std::shared_ptr<const sy::ExpertSimilarity> result) {
                const int layer = result->layer;
                m_job->show_progress(1.0, QString());
                m_job->finish(tr("layer %1: %2 experts, %3 tokens").arg(layer).arg(result->experts).arg(result->tokens));
                m_data->set_similarity(std::move(result));
                set_layer(layer);
                emit computed(layer);
            },
            {[this](double fraction, const QString& stage) { m_job->show_progress(fraction, stage); },
             [this](const QString& message) {
                 m_job->finish(message);
                 emit failed(message);
             },
             [this]() { m_job->finish(tr("similarity cancelled")); }});
        m_job->start(cancel, tr("computing the similarity of layer %1…").arg(layer()));
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

QString SimilarityView::csv() const {
    QString out = QStringLiteral("layer,expert_a,expert_b,router,weights_unaligned,weights_aligned,outputs\n");
    const sy::ExpertSimilarity* s = current();
    if (s == nullptr) return out;
    auto at = [s](const std::vector<double>& m, std::size_t i) { return m.size() > i ? QString::number(m[i], 'g', 10) : QString(); };
    for (int64_t a = 0; a < s->experts; ++a)
        for (int64_t b = 0; b < s->experts; ++b) {
            const std::size_t i = static_cast<std::size_t>(a * s->experts + b);
            out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
                       .arg(s->layer)
                       .arg(a)
                       .arg(b)
                       .arg(at(s->router, i), at(s->weights_unaligned, i), at(s->weights_aligned, i), at(s->outputs, i));
        }
    return out;
}

}  // namespace sy::gui
