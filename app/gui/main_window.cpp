#include "main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSplitter>
#include <QTabWidget>
#include <QVBoxLayout>

#include <QLabel>
#include <QStatusBar>

#include "affinity_view.h"
#include "compare_view.h"
#include "domain_view.h"
#include "edit_stack.h"
#include "edit_stack_panel.h"
#include "expert_data.h"
#include "expert_selection.h"
#include "experts_view.h"
#include "flow_view.h"
#include "job_runner.h"
#include "load_view.h"
#include "model_tree.h"
#include "placement_view.h"
#include "plot_export.h"
#include "routing_map_view.h"
#include "run_panel.h"
#include "similarity_view.h"
#include "summary_card.h"
#include "token_inspector_view.h"
#include "trace_file_feed.h"
#include "trace_run.h"
#include "switchyard/core/model.h"

namespace sy::gui {

namespace {

constexpr int max_recent = 10;

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setObjectName(QStringLiteral("MainWindow"));
    setAcceptDrops(true);
    m_run = new TraceRun(this);
    m_feed = new TraceFileFeed(this);
    m_selection = new ExpertSelection(this);
    m_data = new ExpertData(this);
    m_stack = new EditStack(this);
    build_docks();   // the run panel first: the surgery views read their data from it
    build_views();
    build_menus();
    connect_jobs();
    connect_surgery();
    restore_settings();
    update_title();
    log(tr("Switchyard %1 — open a model (Ctrl+O) or a trace (Ctrl+Shift+O), or drop one here.").arg(QStringLiteral(SY_VERSION)));
}

MainWindow::~MainWindow() = default;

void MainWindow::build_views() {
    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_tokens = new TokenInspectorView(this);
    m_placement = new PlacementView(this);
    m_experts = new ExpertsView(m_data, m_run_panel, this);
    m_similarity = new SimilarityView(m_data, m_run_panel, this);
    m_compare = new CompareView(this);
    m_trace_views = {new RoutingMapView(this), new LoadView(this), new AffinityView(this), new FlowView(this),
                     new DomainView(this),    m_placement,         m_tokens,            m_experts};
    m_views = m_trace_views;
    m_views.push_back(m_similarity);
    m_views.push_back(m_compare);
    for (RoutingView* view : m_views) {
        m_tabs->addTab(view, view->name());
        view->set_selection(m_selection);
        connect(view, &RoutingView::expert_clicked, m_selection, &ExpertSelection::click);
        connect(view, &RoutingView::export_plot_requested, this, [this]() { export_dialog(false); });
        connect(view, &RoutingView::export_data_requested, this, [this]() { export_dialog(true); });
    }
    setCentralWidget(m_tabs);
    connect(m_tokens, &TokenInspectorView::failed, this, &MainWindow::show_error);
    connect(m_placement, &PlacementView::placement_failed, this, [this](const QString& message) { log(tr("placement: %1").arg(message)); });
}

void MainWindow::build_docks() {
    auto* model_dock = new QDockWidget(tr("Model"), this);
    model_dock->setObjectName(QStringLiteral("ModelDock"));
    auto* splitter = new QSplitter(Qt::Vertical, model_dock);
    m_tree = new ModelTree(splitter);
    m_tree->setMinimumWidth(320);
    m_card = new SummaryCard(splitter);
    splitter->addWidget(m_tree);
    splitter->addWidget(m_card);
    splitter->setStretchFactor(0, 3);
    model_dock->setWidget(splitter);
    addDockWidget(Qt::LeftDockWidgetArea, model_dock);

    auto* run_dock = new QDockWidget(tr("Run"), this);
    run_dock->setObjectName(QStringLiteral("RunDock"));
    m_run_panel = new RunPanel(run_dock);
    run_dock->setWidget(m_run_panel);
    addDockWidget(Qt::RightDockWidgetArea, run_dock);

    auto* edit_dock = new QDockWidget(tr("Edit stack"), this);
    edit_dock->setObjectName(QStringLiteral("EditDock"));
    m_edit_panel = new EditStackPanel(m_stack, m_selection, m_data, m_run_panel, edit_dock);
    edit_dock->setWidget(m_edit_panel);
    addDockWidget(Qt::RightDockWidgetArea, edit_dock);
    tabifyDockWidget(run_dock, edit_dock);
    run_dock->raise();

    m_status = new QLabel(this);
    statusBar()->addWidget(m_status, 1);

    auto* log_dock = new QDockWidget(tr("Jobs / log"), this);
    log_dock->setObjectName(QStringLiteral("LogDock"));
    m_log = new QPlainTextEdit(log_dock);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    log_dock->setWidget(m_log);
    addDockWidget(Qt::BottomDockWidgetArea, log_dock);
    resizeDocks({log_dock}, {110}, Qt::Vertical);
    resizeDocks({model_dock, run_dock}, {330, 300}, Qt::Horizontal);
}

void MainWindow::connect_jobs() {
    connect(m_run_panel, &RunPanel::start_requested, this, &MainWindow::start_trace);
    connect(m_run_panel, &RunPanel::cancel_requested, this, &MainWindow::cancel_trace);
    connect(m_run, &TraceRun::progress, m_run_panel, &RunPanel::show_progress);
    connect(m_run, &TraceRun::snapshot_ready, this, &MainWindow::show_snapshot);
    connect(m_run, &TraceRun::finished, this, [this](const QString& output, const QString& summary) {
        m_run_panel->set_running(false);
        m_run_panel->show_progress(1.0, summary);
        m_start_action->setEnabled(true);
        m_current_trace = output;
        log(summary);
        emit trace_finished(output);
    });
    connect(m_run, &TraceRun::cancelled, this, [this](const QString& output) {
        m_run_panel->set_running(false);
        m_run_panel->show_message(tr("cancelled; %1 keeps every finished batch").arg(output));
        m_start_action->setEnabled(true);
        m_current_trace = output;
        log(tr("trace cancelled; %1 keeps every finished batch (switchyard trace --resume continues it)").arg(output));
        emit trace_cancelled(output);
    });
    connect(m_run, &TraceRun::failed, this, [this](const QString& message) {
        m_run_panel->set_running(false);
        m_run_panel->show_message(message);
        m_start_action->setEnabled(true);
        show_error(message);
    });
    connect(m_feed, &TraceFileFeed::snapshot_ready, this, &MainWindow::show_snapshot);
    connect(m_feed, &TraceFileFeed::loaded, this, [this](const QString& path, qint64 tokens) {
        m_current_trace = path;
        log(tr("opened trace %1: %2 tokens (following it while it grows)").arg(path).arg(tokens));
        update_title();
        emit trace_opened(path);
    });
    connect(m_feed, &TraceFileFeed::failed, this, &MainWindow::show_error);
}

void MainWindow::build_menus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &model…"), QKeySequence(Qt::CTRL | Qt::Key_O), this, [this]() {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open model folder"), m_model_dir);
        if (!dir.isEmpty()) open_model(dir);
    });
    file->addAction(tr("Open &trace…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open trace"), QString(), tr("HDF5 traces (*.h5 *.hdf5);;All files (*)"));
        if (!path.isEmpty()) open_trace(path);
    });
    m_recent_menu = file->addMenu(tr("Open &recent"));
    file->addSeparator();
    file->addAction(tr("&Save trace as…"), QKeySequence::Save, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save trace"), QString(), tr("HDF5 trace (*.h5)"));
        if (!path.isEmpty()) save_trace_as(path);
    });
    file->addAction(tr("&Compare traces…"), this, [this]() {
        const QString filter = tr("HDF5 traces (*.h5 *.hdf5);;All files (*)");
        const QString a = QFileDialog::getOpenFileName(this, tr("Compare traces: first trace (A)"), QString(), filter);
        if (a.isEmpty()) return;
        const QString b = QFileDialog::getOpenFileName(this, tr("Compare traces: second trace of the same tokens (B)"), a, filter);
        if (!b.isEmpty()) compare_traces(a, b);
    });
    file->addSeparator();
    file->addAction(tr("&Export plot…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this]() { export_dialog(false); });
    file->addAction(tr("Export &data (CSV)…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this, [this]() { export_dialog(true); });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    m_view_menu = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < static_cast<int>(m_views.size()); ++i)   // Ctrl+1..9, then Ctrl+0
        m_view_menu->addAction(m_views[static_cast<std::size_t>(i)]->name(),
                               i < 10 ? QKeySequence(Qt::CTRL | (i < 9 ? Qt::Key_1 + i : Qt::Key_0)) : QKeySequence(), this,
                               [this, i]() { show_view(i); });
    m_view_menu->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) m_view_menu->addAction(dock->toggleViewAction());

    build_surgery_menu();

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    m_start_action = run->addAction(tr("&Start trace"), QKeySequence(Qt::CTRL | Qt::Key_R), this, &MainWindow::start_trace);
    m_cancel_action = run->addAction(tr("&Cancel"), QKeySequence(Qt::Key_Escape), this, &MainWindow::cancel_trace);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Switchyard"), this, [this]() {
        QMessageBox::about(this, tr("About Switchyard"),
                           tr("<b>Switchyard %1</b><p>A workbench for Mixture-of-Experts models: open a checkpoint, "
                              "trace a dataset and watch tokens flow through the experts.</p>"
                              "<p>The same libraries power the <tt>switchyard</tt> CLI.</p>")
                               .arg(QStringLiteral(SY_VERSION)));
    });
}

void MainWindow::restore_settings() {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_recent = settings.value(QStringLiteral("recent")).toStringList();
    m_model_dir = settings.value(QStringLiteral("last_model")).toString();
    m_tabs->setCurrentIndex(settings.value(QStringLiteral("window/view"), 0).toInt());
    m_run_panel->load_settings();
    rebuild_recent_menu();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/view"), m_tabs->currentIndex());
    settings.setValue(QStringLiteral("recent"), m_recent);
    settings.setValue(QStringLiteral("last_model"), m_model_dir);
    m_run_panel->save_settings();
    m_run->cancel();   // ~TraceRun joins; the file keeps every finished batch
    m_feed->stop();
    event->accept();
}

void MainWindow::open_model(const QString& dir) {
    log(tr("opening model %1…").arg(dir));
    run_job<const sy::Model>(
        this, [dir]() { return std::make_shared<const sy::Model>(sy::open_model(dir.toStdString())); },
        [this, dir](std::shared_ptr<const sy::Model> model) {
            m_model = std::move(model);
            m_model_dir = dir;
            m_selection->clear();
            m_data->set_model(m_model);
            m_stack->set_model(m_model);
            m_tree->show_model(*m_model);
            m_card->show_model(*m_model);
            m_run_panel->set_model_open(true);
            m_tokens->set_model(m_model, m_run_panel->device(), m_run_panel->dtype());
            add_recent(dir);
            update_title();
            log(tr("opened %1 (%2, %3 tensors)")
                    .arg(dir, QString::fromStdString(m_model->description.model_type))
                    .arg(m_model->checkpoint.tensors().size()));
            emit model_opened(dir);
        },
        [this](const QString& message) { show_error(message); });
}

void MainWindow::open_trace(const QString& path) {
    log(tr("opening trace %1…").arg(path));
    add_recent(path);
    m_feed->open(path);
}

void MainWindow::start_trace() {
    if (!m_model) {
        show_error(tr("open a model first (File → Open model, Ctrl+O)"));
        return;
    }
    if (m_run->running()) return;
    try {
        sy::TraceOptions options = m_run_panel->options();
        QDir().mkpath(QFileInfo(m_run_panel->output_path()).absolutePath());
        m_feed->stop();   // the views now follow the run
        const QString source = tr("%1 on %2").arg(QFileInfo(m_model_dir).fileName(), m_run_panel->describe_data());
        m_tokens->set_model(m_model, m_run_panel->device(), m_run_panel->dtype());
        if (m_run->start(m_model, std::move(options), source)) {
            m_run_panel->set_running(true);
            m_start_action->setEnabled(false);
            log(tr("trace %1 → %2").arg(source, m_run_panel->output_path()));
        }
    } catch (const std::exception& error) {
        show_error(error_message(error));
    }
}

void MainWindow::cancel_trace() {
    if (!m_run->running()) return;
    m_run->cancel();
    m_run_panel->show_message(tr("cancelling after the current batch…"));
}

bool MainWindow::trace_running() const { return m_run->running(); }

bool MainWindow::save_trace_as(const QString& path) {
    if (m_current_trace.isEmpty() || m_run->running()) {
        show_error(m_run->running() ? tr("wait for the trace to finish (or cancel it) before saving it")
                                    : tr("there is no trace to save: run one (Ctrl+R) or open one"));
        return false;
    }
    if (QFileInfo(path).absoluteFilePath() == QFileInfo(m_current_trace).absoluteFilePath()) return true;
    QFile::remove(path);
    if (!QFile::copy(m_current_trace, path)) {
        show_error(tr("%1: cannot write the trace copy").arg(path));
        return false;
    }
    log(tr("saved trace to %1").arg(path));
    add_recent(path);
    return true;
}

RoutingView* MainWindow::current_view() const { return static_cast<RoutingView*>(m_tabs->currentWidget()); }

void MainWindow::show_view(int index) { m_tabs->setCurrentIndex(index); }

void MainWindow::show_view(RoutingView* view) { m_tabs->setCurrentWidget(view); }

bool MainWindow::export_current_view(const QString& path) {
    const QString error = export_view(*current_view(), path);
    if (!error.isEmpty()) {
        show_error(error);
        return false;
    }
    log(tr("exported %1 to %2").arg(current_view()->name(), path));
    return true;
}

void MainWindow::export_dialog(bool data_only) {
    RoutingView* view = current_view();
    if (!view->has_data()) {
        show_error(tr("the %1 view has nothing to export yet").arg(view->name()));
        return;
    }
    const QString suggested = view->name().toLower() + (data_only ? QStringLiteral(".csv") : QStringLiteral(".png"));
    const QString path = QFileDialog::getSaveFileName(this, data_only ? tr("Export data") : tr("Export plot"), suggested,
                                                      data_only ? data_file_filter() : plot_file_filter());
    if (!path.isEmpty()) export_current_view(path);
}

void MainWindow::show_snapshot(std::shared_ptr<const RoutingSnapshot> snapshot) {
    for (RoutingView* view : m_views) view->set_snapshot(snapshot);
}

void MainWindow::show_error(const QString& message) {
    m_last_error = message;
    log(tr("error: %1").arg(message));
    // Non-blocking (open, not exec): the window keeps running and the user can go on.
    auto* box = new QMessageBox(QMessageBox::Critical, tr("Switchyard"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    emit error_shown(message);
}

void MainWindow::log(const QString& line) {
    m_log->appendPlainText(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss  ")) + line);
}

QString MainWindow::log_text() const { return m_log->toPlainText(); }

void MainWindow::add_recent(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    m_recent.removeAll(absolute);
    m_recent.prepend(absolute);
    while (m_recent.size() > max_recent) m_recent.removeLast();
    QSettings().setValue(QStringLiteral("recent"), m_recent);
    rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
    m_recent_menu->clear();
    for (const QString& path : m_recent)
        m_recent_menu->addAction(path, this, [this, path]() {
            if (QFileInfo(path).isDir())
                open_model(path);
            else
                open_trace(path);
        });
    m_recent_menu->setEnabled(!m_recent.isEmpty());
}

void MainWindow::update_title() {
    QString title = QStringLiteral("Switchyard");
    if (m_model) title += QStringLiteral(" — ") + QFileInfo(m_model_dir).fileName();
    if (!m_current_trace.isEmpty() && !m_model) title += QStringLiteral(" — ") + QFileInfo(m_current_trace).fileName();
    setWindowTitle(title);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    for (const QUrl& url : event->mimeData()->urls()) {
        const QFileInfo info(url.toLocalFile());
        const QString suffix = info.suffix().toLower();
        if (info.isDir())
            open_model(info.absoluteFilePath());
        else if (suffix == QLatin1String("h5") || suffix == QLatin1String("hdf5"))
            open_trace(info.absoluteFilePath());
        else if (suffix == QLatin1String("jsonl") || suffix == QLatin1String("txt"))
            m_run_panel->set_data_path(info.absoluteFilePath());
        else
            show_error(tr("%1: drop a model folder, a trace (.h5) or a dataset (.jsonl / .txt)").arg(info.filePath()));
    }
    event->acceptProposedAction();
}

}  // namespace sy::gui
