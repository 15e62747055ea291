#include "experts_view.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include "command_line.h"
#include "expert_data.h"
#include "expert_selection.h"
#include "expert_table.h"
#include "job_progress.h"
#include "job_runner.h"
#include "run_panel.h"
#include "switchyard/compute/score_job.h"
#include "switchyard/editing/expert_choice.h"
#include "switchyard/core/model.h"

namespace sy::gui {

ExpertsView::ExpertsView(ExpertData* data, const RunPanel* run, QWidget* parent)
    : RoutingView(tr("Experts"), parent), m_data(data), m_run(run) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Layer:"), content));
    m_layer = new QComboBox(content);
    m_layer->addItem(tr("all"), -1);
    bar->addWidget(m_layer);
    bar->addWidget(new QLabel(tr("Filter:"), content));
    m_text = new QLineEdit(content);
    m_text->setPlaceholderText(tr("text in any column: a token, a number…"));
    m_text->setClearButtonEnabled(true);
    bar->addWidget(m_text, 1);
    auto* open = new QPushButton(tr("Open scores…"), content);
    open->setToolTip(tr("Open a score file written by `switchyard score` (EAN, REAP, calibration load)"));
    auto* compute = new QPushButton(tr("Compute scores…"), content);
    compute->setToolTip(tr("Score every expert on the Run panel's data (the `switchyard score` pass) and save the file"));
    bar->addWidget(open);
    bar->addWidget(compute);
    layout->addLayout(bar);
    auto* choose = new QHBoxLayout;
    auto* select = new QPushButton(tr("Select the"), content);
    select->setToolTip(tr("Select the least salient experts of every layer, as `switchyard prune --method` chooses them "
                          "(then Prune in the Edit stack)"));
    m_lowest = new QSpinBox(content);
    m_lowest->setRange(1, 4096);
    m_lowest->setValue(2);
    m_saliency = new QComboBox(content);
    for (const char* method : {"reap", "ean", "frequency", "random"}) m_saliency->addItem(QString::fromLatin1(method));
    choose->addWidget(select);
    choose->addWidget(m_lowest);
    choose->addWidget(new QLabel(tr("least salient experts of every layer by"), content));
    choose->addWidget(m_saliency);
    choose->addStretch();
    layout->addLayout(choose);
    m_caption = new QLabel(content);
    m_caption->setWordWrap(true);
    layout->addWidget(m_caption);
    m_job = new JobProgress(content);
    m_job->hide();
    layout->addWidget(m_job);
    m_model = new ExpertTableModel(this);
    m_filter = new ExpertTableFilter(this);
    m_filter->setSourceModel(m_model);
    m_table = new QTableView(content);
    m_table->setModel(m_filter);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder);   // model order (layer, expert) until a header is clicked
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setWordWrap(false);
    layout->addWidget(m_table, 1);
    set_content(content);
    set_content_always_visible(false);
    set_empty_text(tr("Open a model (Ctrl+O) or a trace (Ctrl+Shift+O): every expert is listed here with its load,\n"
                      "domains and top tokens from the trace, EAN and REAP from a score file, and its nearest expert."));
    attach_context_menu(m_table);
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this]() { m_filter->set_layer(m_layer->currentData().toInt()); });
    connect(m_text, &QLineEdit::textChanged, m_filter, &ExpertTableFilter::set_text);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ExpertsView::rows_selected);
    connect(select, &QPushButton::clicked, this, [this]() { select_lowest(m_lowest->value(), m_saliency->currentText()); });
    connect(open, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open score file"), QString(), tr("Score files (*.h5);;All files (*)"));
        if (!path.isEmpty()) open_scores(path);
    });
    connect(compute, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save scores as"), QStringLiteral("scores.h5"), tr("Score files (*.h5)"));
        if (!path.isEmpty()) compute_scores(path);
    });
    connect(m_data, &ExpertData::model_changed, this, [this]() { schedule_redraw(); });
    connect(m_data, &ExpertData::scores_changed, this, [this]() { schedule_redraw(); });
    connect(m_data, &ExpertData::similarity_changed, this, [this]() { schedule_redraw(); });
    update_caption();
}

ExpertsView::~ExpertsView() = default;

QWidget* ExpertsView::export_widget() const { return m_table; }

QString ExpertsView::csv() const { return m_model->csv(); }

bool ExpertsView::redraw(const RoutingSnapshot&) { return redraw_view(); }

bool ExpertsView::redraw_view() {
    rebuild();
    return m_model->rowCount() > 0;
}

void ExpertsView::rebuild() {
    const QSignalBlocker block(m_table->selectionModel());
    m_model->rebuild(snapshot().get(), m_data);
    // Layer choices follow the rows.
    QList<int> layers;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const int layer = m_model->index(r, 0).data(ExpertTableModel::layer_role).toInt();
        if (!layers.contains(layer)) layers << layer;
    }
    if (m_layer->count() != layers.size() + 1) {
        const QSignalBlocker block_layer(m_layer);
        const int keep = m_layer->currentData().toInt();
        while (m_layer->count() > 1) m_layer->removeItem(1);
        for (int layer : layers) m_layer->addItem(tr("layer %1").arg(layer), layer);
        m_layer->setCurrentIndex(std::max(0, m_layer->findData(keep)));
        m_filter->set_layer(m_layer->currentData().toInt());
    }
    show_selection();
    update_caption();
}

void ExpertsView::update_caption() {
    QString text = snapshot() && snapshot()->tokens > 0
                       ? tr("Trace: %1 tokens of %2.").arg(snapshot()->tokens).arg(QString::fromStdString(snapshot()->source))
                       : tr("No trace yet: run one (Ctrl+R) or open one for load, domains and top tokens.");
    if (const sy::ExpertScores* s = m_data->scores())
        text += tr(" Scores: %1 (%2 calibration tokens).").arg(m_data->scores_path()).arg(s->tokens);
    else
        text += tr(" No score file: open one or compute one for EAN and REAP (they need the experts' outputs).");
    m_caption->setText(text);
}

void ExpertsView::show_selection() {
    if (!selection()) return;
    m_syncing = true;
    QItemSelection rows;
    for (const auto& [layer, experts] : selection()->experts())
        for (int e : experts) {
            const int r = m_model->row_of(layer, e);
            if (r < 0) continue;
            const QModelIndex at = m_filter->mapFromSource(m_model->index(r, 0));
            if (at.isValid()) rows.select(at, at.siblingAtColumn(m_filter->columnCount() - 1));
        }
    m_table->selectionModel()->select(rows, QItemSelectionModel::ClearAndSelect);
    m_syncing = false;
}

void ExpertsView::on_selection_changed() { show_selection(); }

void ExpertsView::rows_selected() {
    if (m_syncing) return;
    sy::ExpertsByLayer experts;
    for (const QModelIndex& index : m_table->selectionModel()->selectedRows())
        experts[index.data(ExpertTableModel::layer_role).toInt()].push_back(index.data(ExpertTableModel::expert_role).toInt());
    emit selection_requested(experts);
}

void ExpertsView::set_layer_filter(int layer) { m_layer->setCurrentIndex(std::max(0, m_layer->findData(layer))); }

void ExpertsView::set_text_filter(const QString& text) { m_text->setText(text); }

int ExpertsView::visible_rows() const { return m_filter->rowCount(); }

QString ExpertsView::cell(int row, const QString& header) const {
    const int column = m_model->column_of(header);
    return column < 0 ? QString() : m_filter->index(row, column).data().toString();
}

void ExpertsView::sort_by(const QString& header, Qt::SortOrder order) { m_table->sortByColumn(m_model->column_of(header), order); }

void ExpertsView::select_rows(const std::vector<int>& rows) {
    QItemSelection selection;
    for (int r : rows) selection.select(m_filter->index(r, 0), m_filter->index(r, m_filter->columnCount() - 1));
    m_table->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
}

void ExpertsView::select_lowest(int count, const QString& method) {
    try {
        const std::shared_ptr<const sy::Model> model = m_data->model();
        SY_CHECK(model != nullptr, UsageError, "open a model first (File → Open model, Ctrl+O)");
        sy::PruneChoice choice;
        choice.method = sy::parse_prune_method(method.toStdString());
        SY_CHECK(choice.method == sy::PruneMethod::random || m_data->scores(), UsageError,
                 "choosing by " + method.toStdString() + " needs a score file: open one or compute one (Experts view)");
        const ModelDescription& d = model->description;
        SY_CHECK(!d.num_experts.empty(), UsageError, model->checkpoint.dir().string() + " is a dense model: there are no experts");
        choice.keep = d.num_experts.front() - count;
        sy::check_prune_choice(d, choice);
        emit selection_requested(sy::choose_pruned_experts(d, m_data->scores(), choice));
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void ExpertsView::open_scores(const QString& path) {
    emit log_line(tr("opening scores %1…").arg(path));
    run_job<const sy::ExpertScores>(
        this, [path]() { return std::make_shared<const sy::ExpertScores>(sy::read_expert_scores(path.toStdString())); },
        [this, path](std::shared_ptr<const sy::ExpertScores> scores) {
            try {
                m_data->set_scores(std::move(scores), path);
            } catch (const std::exception& error) {
                emit failed(error_message(error));
                return;
            }
            emit log_line(tr("opened scores %1").arg(path));
            emit scores_loaded(path);
        },
        [this](const QString& message) { emit failed(message); });
}

bool ExpertsView::scoring() const { return m_job->running(); }

void ExpertsView::cancel_scoring() { m_job->cancel(); }

void ExpertsView::compute_scores(const QString& path) {
    const std::shared_ptr<const sy::Model> model = m_data->model();
    if (!model) {
        emit failed(tr("open a model first (File → Open model, Ctrl+O)"));
        return;
    }
    if (m_job->running()) return;
    try {
        const QStringList argv = QStringList{QStringLiteral("switchyard"), QStringLiteral("score"),
                                             QString::fromStdString(model->checkpoint.dir().string())}
                                 << m_run->command_flags() << QStringLiteral("-o") << path << QStringLiteral("--force");
        sy::ScoreOptions options;
        options.corpus = m_run->corpus();
        options.runner = m_run->runner();
        options.command_line = recorded_command(argv);
        emit log_line(tr("score: %1").arg(shell_command(argv)));
        m_job->show();
        auto cancel = run_cancellable_job<const sy::ExpertScores>(
            this,
            [model, options, path](sy::Progress& progress, const sy::CancelToken& token) {
                auto scores = std::make_shared<const sy::ExpertScores>(sy::run_score(*model, options, progress, token));
                sy::write_expert_scores(*scores, path.toStdString(), true);
                return scores;
            },
            [this, path](std::shared_ptr<const sy::ExpertScores> scores) {
                m_job->show_progress(1.0, QString());
                m_job->finish(tr("scored %1 calibration tokens into %2").arg(scores->tokens).arg(path));
                m_data->set_scores(std::move(scores), path);
                emit log_line(tr("wrote scores %1").arg(path));
                emit scores_loaded(path);
            },
            {[this](double fraction, const QString& stage) { m_job->show_progress(fraction, stage); },
             [this](const QString& message) {
                 m_job->finish(message);
                 emit failed(message);
             },
             [this]() {
                 m_job->finish(tr("score cancelled; nothing was written"));
                 emit log_line(tr("score cancelled"));
             }});
        m_job->start(cancel, tr("scoring experts…"));
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

}  // namespace sy::gui
