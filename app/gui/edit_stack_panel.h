#pragma once
// The Edit stack dock: buttons that turn the shared selection into entries (prune it, merge it
// into one expert, mask it; for a dense model, an upcycle form instead), the entries as a list
// that can be reordered (drag, or Up / Down) and pruned (Remove), recipe files (Open / Save:
// what `switchyard apply` runs), Preview on a sample of the Run panel's data with progress and
// Cancel, and Export with the command-line equivalent in the log. Merges, previews and exports
// run on worker threads, one at a time. For an MoE model a training box (training_panel.h)
// trains an unlearn / tune entry on a worker, its loss curve filling live, and adds the entry
// with the learning rate and steps it used; Export of such a stack writes what `apply` writes
// (from the tensors trained here when the entries above are the ones it trained after).
#include <QString>
#include <QWidget>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "export_dialog.h"
#include "training_panel.h"
#include "switchyard/core/progress.h"
#include "switchyard/editing/recipe.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QLabel;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace sy::gui {

class EditStack;
class ExpertData;
class ExpertSelection;
class JobProgress;
class RunPanel;
class TrainingPanel;
class UpcyclePanel;
struct Comparison;
struct ExportRequest;
struct TrainedStackEntry;
struct TrainingEntryRequest;

class EditStackPanel : public QWidget {
    Q_OBJECT
public:
    EditStackPanel(EditStack* stack, ExpertSelection* selection, ExpertData* data, const RunPanel* run, QWidget* parent = nullptr);
    ~EditStackPanel() override;

    // Entries from the selection. Merges run on a worker (a fitted router row needs a pass over
    // the Run panel's data): `entry_added` or `failed` follows.
    void prune_selection();
    void merge_selection();
    void mask_selection();
    void add_upcycle();
    // Trains the training box's unlearn / tune on the model the stack leaves (worker, progress,
    // Cancel): `entry_added` or `failed` / `cancelled` follows.
    void train_entry();
    // Trains the stack's last entry when it is an unlearn / tune entry with no trained weights
    // here (read from a recipe, or the entries above it changed since): its recorded plan, on the
    // model the entries above it leave, so it can be previewed and shows its loss curve.
    void train_recorded_entry();
    TrainingPanel* training_panel() const { return m_training; }
    // Merge options: align neurons, layout ("collapse" / "duplicate"), router ("dominant" /
    // "fitted"), member weights ("uniform" / "frequency", which needs a score file).
    void set_merge_options(bool align, const QString& layout, const QString& router, const QString& weights);

    void open_recipe(const QString& path);
    void save_recipe(const QString& path);

    void set_preview_tokens(int tokens);
    void preview();                           // `comparison_ready` or `failed` / `cancelled` follows
    const QPushButton* preview_button() const { return m_preview; }   // enabled state and tooltip say whether it can
    const QPushButton* train_entry_button() const { return m_train_recorded; }   // shown when the last entry needs training
    void export_model(const ExportSettings& settings);   // `exported` or `failed` / `cancelled` follows
    void export_dialog();                     // asks for the settings, then export_model
    void cancel_job();
    bool busy() const;
    QString job_text() const;
    double job_fraction() const;
    UpcyclePanel* upcycle_panel() const { return m_upcycle; }
    int list_rows() const;
    QString list_text(int row) const;
    void move_entry(int from, int to);        // as dragging the entry (refused with a message when it no longer applies)

signals:
    void log_line(QString line);
    void failed(QString message);
    void entry_added();
    void comparison_ready(std::shared_ptr<const sy::gui::Comparison> comparison);
    void exported(QString output);
    void cancelled();

private:
    void refresh();
    void refresh_buttons();
    void show_entry_curve(int row);
    void add_entry(const sy::Edit& edit);
    void start_job_text(const QString& text);
    QString recipe_path_for(const QString& output) const;
    ExportRequest export_request(const ExportSettings& settings) const;   // the stack as it would export
    template <class Result>
    void run(const QString& text, std::function<std::shared_ptr<Result>(sy::Progress&, const sy::CancelToken&)> work,
             std::function<void(std::shared_ptr<Result>)> done);

    EditStack* m_stack;
    ExpertSelection* m_selection;
    ExpertData* m_data;
    const RunPanel* m_run;
    QLabel* m_selected = nullptr;
    QGroupBox* m_moe_box = nullptr;
    QPushButton* m_prune = nullptr;
    QPushButton* m_merge = nullptr;
    QPushButton* m_mask = nullptr;
    QCheckBox* m_align = nullptr;
    QComboBox* m_layout = nullptr;
    QComboBox* m_router = nullptr;
    QComboBox* m_weights = nullptr;
    UpcyclePanel* m_upcycle = nullptr;
    TrainingPanel* m_training = nullptr;
    QGroupBox* m_training_box = nullptr;
    std::map<std::string, LossCurve> m_curves;   // training entry (its JSON) -> its loss curve
    // The training entry last trained here (its tensors, for its preview and export) and the
    // stack_key of the entries up to it: one at a time, as a stack has one training entry.
    std::shared_ptr<const TrainedStackEntry> m_trained;
    std::string m_trained_stack;
    // The trained tensors of the stack's last entry when it trained here after exactly the
    // entries now above it (null otherwise).
    std::shared_ptr<const TrainedStackEntry> previewable_training() const;
    void keep_trained(const std::string& key, std::shared_ptr<const TrainedStackEntry> trained);
    // Runs run_training_entry on a worker with the live loss curve; `done` on the main thread.
    void start_training(TrainingEntryRequest request, const QString& text,
                        std::function<void(std::shared_ptr<const TrainedStackEntry>)> done);
    QGroupBox* m_upcycle_box = nullptr;
    QListWidget* m_list = nullptr;
    QPushButton* m_up = nullptr;
    QPushButton* m_down = nullptr;
    QPushButton* m_remove = nullptr;
    QPushButton* m_clear = nullptr;
    QLabel* m_file = nullptr;
    QSpinBox* m_preview_tokens = nullptr;
    QPushButton* m_preview = nullptr;
    QPushButton* m_train_recorded = nullptr;
    QPushButton* m_export = nullptr;
    JobProgress* m_job = nullptr;
    ExportSettings m_last_export;
    bool m_refreshing = false;
};

}  // namespace sy::gui
