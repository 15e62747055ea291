#pragma once
// The workbench window (../shared/docs/gui.md): model dock (tree + summary card) on
// the left, run panel on the right, log at the bottom, the views as tabs in the centre. It
// wires signals only: opening, tracing and reading traces run as jobs on worker threads, and
// every error appears as a dialog with the CLI's message while the window stays usable.
#include <QMainWindow>
#include <QStringList>
#include <QTemporaryDir>
#include <memory>
#include <vector>

#include "routing_snapshot.h"

class QAction;
class QMenu;
class QPlainTextEdit;
class QTabWidget;

namespace sy {
struct Model;
}

namespace sy::gui {

class ModelTree;
class PlacementView;
class RoutingView;
class RunPanel;
class SummaryCard;
class TokenInspectorView;
class TraceFileFeed;
class TraceRun;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // All asynchronous; results arrive as the signals below.
    void open_model(const QString& dir);
    void open_trace(const QString& path);
    void start_trace();
    void cancel_trace();
    // Copies the current trace file (the run's output or the opened file) to `path`.
    bool save_trace_as(const QString& path);
    bool export_current_view(const QString& path);

    const std::shared_ptr<const sy::Model>& model() const { return m_model; }
    const std::vector<RoutingView*>& views() const { return m_views; }
    RoutingView* current_view() const;
    void show_view(int index);
    RunPanel* run_panel() const { return m_run_panel; }
    ModelTree* model_tree() const { return m_tree; }
    TokenInspectorView* token_inspector() const { return m_tokens; }
    PlacementView* placement_view() const { return m_placement; }
    bool trace_running() const;
    QString current_trace() const { return m_current_trace; }
    QString last_error() const { return m_last_error; }
    QStringList recent_files() const { return m_recent; }

signals:
    void model_opened(QString dir);
    void trace_opened(QString path);
    void trace_finished(QString path);
    void trace_cancelled(QString path);
    void error_shown(QString message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void build_views();
    void build_docks();
    void build_menus();
    void connect_jobs();
    void show_snapshot(std::shared_ptr<const RoutingSnapshot> snapshot);
    void show_error(const QString& message);
    void log(const QString& line);
    void add_recent(const QString& path);
    void rebuild_recent_menu();
    void update_title();
    void restore_settings();
    void export_dialog(bool data_only);

    std::shared_ptr<const sy::Model> m_model;
    QString m_model_dir;
    QString m_current_trace;
    QString m_last_error;
    QStringList m_recent;
    QTemporaryDir m_scratch;   // typed text for runs
    QTabWidget* m_tabs = nullptr;
    std::vector<RoutingView*> m_views;
    TokenInspectorView* m_tokens = nullptr;
    PlacementView* m_placement = nullptr;
    ModelTree* m_tree = nullptr;
    SummaryCard* m_card = nullptr;
    RunPanel* m_run_panel = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QMenu* m_recent_menu = nullptr;
    QMenu* m_view_menu = nullptr;
    QAction* m_start_action = nullptr;
    QAction* m_cancel_action = nullptr;
    TraceRun* m_run = nullptr;
    TraceFileFeed* m_feed = nullptr;
};

}  // namespace sy::gui
