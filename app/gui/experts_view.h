#pragma once
// The Experts table: every expert of every MoE layer with the open trace's statistics, the
// score file's EAN / REAP (opened, or computed here by the same call as `switchyard score`)
// and its nearest expert by similarity; sortable by any column, filtered by layer and text,
// and linked to the shared selection both ways (selecting rows selects those experts).
#include <QString>
#include <memory>

#include "routing_view.h"
#include "switchyard/core/expert_selection.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace sy {
class CancelToken;
}

namespace sy::gui {

class ExpertData;
class ExpertTableFilter;
class ExpertTableModel;
class JobProgress;
class RunPanel;

class ExpertsView : public RoutingView {
    Q_OBJECT
public:
    ExpertsView(ExpertData* data, const RunPanel* run, QWidget* parent = nullptr);
    ~ExpertsView() override;
    QString csv() const override;
    QWidget* export_widget() const override;

    // Opens a `switchyard score` file (asynchronous; `scores_loaded` or `failed` follows).
    void open_scores(const QString& path);
    // Runs the calibration pass on the Run panel's data and writes `path` (replaced if it exists),
    // as `switchyard score MODEL --data ... -o path --force`.
    void compute_scores(const QString& path);
    bool scoring() const;
    void cancel_scoring();

    void set_layer_filter(int layer);   // -1: all layers
    void set_text_filter(const QString& text);
    int visible_rows() const;
    // Cell text of the visible row `row` (after sorting/filtering) under `header`.
    QString cell(int row, const QString& header) const;
    void sort_by(const QString& header, Qt::SortOrder order);
    // Selects the visible rows `rows` as a user would (drives the shared selection).
    void select_rows(const std::vector<int>& rows);
    // Selects the `count` least salient experts of every layer by `method` (reap, ean,
    // frequency: from the score file; random), as `switchyard prune --method M --keep E-count`
    // would choose them.
    void select_lowest(int count, const QString& method);

signals:
    void selection_requested(sy::ExpertsByLayer experts);
    void log_line(QString line);
    void failed(QString message);
    void scores_loaded(QString path);

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;
    bool redraw_view() override;
    void on_selection_changed() override;

private:
    void rebuild();
    void show_selection();
    void rows_selected();
    void update_caption();

    ExpertData* m_data;
    const RunPanel* m_run;
    ExpertTableModel* m_model = nullptr;
    ExpertTableFilter* m_filter = nullptr;
    QTableView* m_table = nullptr;
    QComboBox* m_layer = nullptr;
    QLineEdit* m_text = nullptr;
    QSpinBox* m_lowest = nullptr;
    QComboBox* m_saliency = nullptr;
    QLabel* m_caption = nullptr;
    JobProgress* m_job = nullptr;
    bool m_syncing = false;   // selection being copied into the table: no feedback
};

}  // namespace sy::gui
