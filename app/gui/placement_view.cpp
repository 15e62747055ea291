#include "placement_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <cmath>
#include <mutex>
#include <qcustomplot.h>

#include "expert_selection.h"
#include "job_runner.h"
#include "plot_selection.h"
#include "plot_style.h"

namespace sy::gui {

namespace {

constexpr qint64 live_replace_ms = 2000;   // re-place at most every 2 s while the trace grows
constexpr double time_limit_s = 2.0;

}  // namespace

PlacementView::PlacementView(QWidget* parent) : RoutingView(tr("Placement"), parent) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("GPUs:"), content));
    m_gpus = new QComboBox(content);
    bar->addWidget(m_gpus);
    bar->addWidget(new QLabel(tr("Method:"), content));
    m_method = new QComboBox(content);
    for (auto method : {analysis::PlacementMethod::affinity, analysis::PlacementMethod::balanced,
                        analysis::PlacementMethod::eplb, analysis::PlacementMethod::contiguous})
        m_method->addItem(QString::fromStdString(analysis::placement_method_name(method)), static_cast<int>(method));
    bar->addWidget(m_method);
    m_status = new QLabel(content);
    bar->addWidget(m_status, 1);
    layout->addLayout(bar);
    m_plot = new QCustomPlot(content);
    style_plot(m_plot);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    m_scale = add_color_scale(m_plot, tr("GPU"));
    m_map->setColorScale(m_scale);
    integer_ticks(m_scale->axis());
    m_title = add_title(m_plot);
    m_plot->xAxis->setLabel(tr("expert"));
    m_plot->yAxis->setLabel(tr("MoE layer"));
    layout->addWidget(m_plot, 1);
    set_content(content);
    set_empty_text(default_empty_text() + tr("\n(Placement needs two MoE layers and an expert count divisible by 2.)"));
    attach_context_menu(m_plot);
    m_marks = std::make_unique<SelectionMarks>(m_plot);
    on_plot_click(m_plot, this, [this](double x, double y, bool add) {
        const int l = static_cast<int>(std::lround(y)), e = static_cast<int>(std::lround(x));
        if (!m_result || !snapshot() || l < 0 || l >= snapshot()->layers()) return;
        if (e >= 0 && e < snapshot()->shape.num_experts[static_cast<std::size_t>(l)])
            emit expert_clicked(snapshot()->shape.moe_layers[static_cast<std::size_t>(l)], e, add);
    });
    auto restart = [this]() {
        m_result.reset();
        start_placement();
    };
    connect(m_gpus, &QComboBox::currentIndexChanged, this, restart);
    connect(m_method, &QComboBox::currentIndexChanged, this, restart);
}

PlacementView::~PlacementView() = default;

void PlacementView::show_selection() {
    std::vector<QRectF> cells;
    if (snapshot() && selection())
        for (int l = 0; l < snapshot()->layers(); ++l)
            for (int e : selection()->in_layer(snapshot()->shape.moe_layers[static_cast<std::size_t>(l)]))
                cells.emplace_back(e - 0.5, l - 0.5, 1.0, 1.0);
    m_marks->show(cells);
}

void PlacementView::on_selection_changed() {
    if (!m_result) return;
    show_selection();
    m_plot->replot();
}

int PlacementView::marked_experts() const { return m_marks->count(); }

bool PlacementView::up_to_date() const {
    return m_result && !m_busy && snapshot() && m_result_tokens == snapshot()->tokens;
}

void PlacementView::sync_gpu_choices(const RoutingSnapshot& snapshot) {
    if (m_gpus->count() > 0) return;
    const QSignalBlocker block(m_gpus);
    for (int gpus = 2; gpus <= 64; gpus *= 2) {
        bool divides = true;
        for (int experts : snapshot.shape.num_experts) divides = divides && experts % gpus == 0;
        if (divides) m_gpus->addItem(QString::number(gpus), gpus);
    }
    m_gpus->setCurrentIndex(std::min(1, m_gpus->count() - 1));   // 4 GPUs when possible
}

bool PlacementView::redraw(const RoutingSnapshot& snapshot) {
    if (snapshot.affinity.empty()) return false;
    if (m_gpus->count() == 0) return false;
    if (m_result) show_result(snapshot);
    return m_result != nullptr || m_busy;
}

void PlacementView::on_snapshot() {
    const RoutingSnapshot& s = *snapshot();
    if (s.affinity.empty()) return;
    sync_gpu_choices(s);
    const bool stale = m_result_tokens != s.tokens;
    if (stale && (!m_since_last.isValid() || m_since_last.elapsed() >= live_replace_ms || s.complete)) start_placement();
}

void PlacementView::start_placement() {
    if (!snapshot() || snapshot()->affinity.empty() || m_gpus->count() == 0) return;
    if (m_busy) {   // one placement at a time (GLPK); run again when this one ends
        m_stale = true;
        return;
    }
    m_busy = true;
    m_stale = false;
    m_since_last.start();
    m_status->setText(tr("placing…"));
    auto snapshot = this->snapshot();
    analysis::PlacementOptions options;
    options.gpus = m_gpus->currentData().toInt();
    options.method = static_cast<analysis::PlacementMethod>(m_method->currentData().toInt());
    options.time_limit_s = time_limit_s;
    run_job<analysis::PlacementResult>(
        this,
        [snapshot, options]() {
            // GLPK's environment is per process: one placement at a time, across windows too.
            static std::mutex glpk;
            const std::lock_guard<std::mutex> lock(glpk);
            const analysis::PlacementProblem problem = analysis::placement_problem(snapshot->affinity[0]);
            sy::NullProgress progress;
            sy::CancelToken cancel;
            return std::make_shared<analysis::PlacementResult>(analysis::place_experts(problem, options, progress, cancel));
        },
        [this, snapshot](std::shared_ptr<analysis::PlacementResult> result) {
            m_busy = false;
            m_result = std::move(result);
            m_result_tokens = snapshot->tokens;
            m_status->setText(tr("%1 s, %2").arg(m_result->seconds, 0, 'f', 2).arg(m_result->proven_optimal ? tr("proven optimal") : tr("best found")));
            schedule_redraw();
            emit placement_done();
            if (m_stale || (this->snapshot() && this->snapshot()->tokens != m_result_tokens && this->snapshot()->complete))
                start_placement();
        },
        [this](QString message) {
            m_busy = false;
            m_status->setText(message);
            emit placement_failed(message);
        });
}

void PlacementView::show_result(const RoutingSnapshot& snapshot) {
    const analysis::Placement& placement = m_result->placement;
    const int layers = static_cast<int>(placement.gpu_of_expert.size());
    const int experts = snapshot.shape.max_experts();
    m_map->data()->setSize(experts, layers);
    m_map->data()->setRange(QCPRange(0, experts - 1), QCPRange(0, std::max(layers - 1, 1)));
    for (int l = 0; l < layers; ++l)
        for (int e = 0; e < experts; ++e) {
            const auto& row = placement.gpu_of_expert[static_cast<std::size_t>(l)];
            m_map->data()->setCell(e, l, e < static_cast<int>(row.size()) ? row[static_cast<std::size_t>(e)] : qQNaN());
        }
    m_map->setGradient(categorical_gradient(placement.gpus));
    m_map->setDataRange(QCPRange(0, std::max(placement.gpus - 1, 1)));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int l = 0; l < layers; ++l) ticker->addTick(l, QString::number(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]));
    m_plot->yAxis->setTicker(ticker);
    m_plot->xAxis->setRange(-0.5, experts - 0.5);
    m_plot->yAxis->setRange(-0.5, layers - 0.5);
    show_selection();
    m_title->setText(tr("%1 placement on %2 GPUs (%3) — tokens crossing GPUs between layers: %4% (contiguous %5%), "
                        "max/mean load %6, %7 tokens")
                         .arg(QString::fromStdString(analysis::placement_method_name(m_result->options.method)))
                         .arg(placement.gpus)
                         .arg(QString::fromStdString(m_result->solver))
                         .arg(m_result->evaluation.cross_gpu_fraction * 100, 0, 'f', 1)
                         .arg(m_result->baseline_evaluation.cross_gpu_fraction * 100, 0, 'f', 1)
                         .arg(m_result->evaluation.max_over_mean_load, 0, 'f', 2)
                         .arg(m_result_tokens));
    m_plot->replot();
}

QString PlacementView::csv() const {
    QString out = QStringLiteral("layer,expert,gpu\n");
    if (!m_result || !snapshot()) return out;
    const auto& gpu_of_expert = m_result->placement.gpu_of_expert;
    for (std::size_t l = 0; l < gpu_of_expert.size(); ++l)
        for (std::size_t e = 0; e < gpu_of_expert[l].size(); ++e)
            out += QStringLiteral("%1,%2,%3\n").arg(snapshot()->shape.moe_layers[l]).arg(e).arg(gpu_of_expert[l][e]);
    return out;
}

}  // namespace sy::gui
