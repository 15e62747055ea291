#pragma once
// Expert surgery by training in the edit stack (expert_training.h, the flags of `switchyard
// unlearn` and `switchyard tune`): unlearn (forget / retain data; the expert most affine to the
// forget data, or the selected one) or tune (data; ESFT gate / token selection with its
// threshold, all experts, or the selected ones), steps and learning rate (0: the verb's
// defaults, searched on held-out data for tune), batch, window, token cap and seed. "Train and
// add" trains on a worker (the edit stack panel runs it) and puts the resolved entry on the
// stack; the loss curve (QCustomPlot) fills LIVE, one point per optimizer step, and shows a
// training entry's curve again when the entry is selected. Main thread.
#include <QVector>
#include <QWidget>
#include <optional>

#include "switchyard/editing/expert_training.h"

class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace sy::gui {

// One training run's losses, step by step.
struct LossCurve {
    QVector<double> steps, loss;
};

class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(QWidget* parent = nullptr);

    // The options as `unlearn` / `tune` take them; `selected` is the shared expert selection in
    // the numbering of the model the training runs on. Throws sy::UsageError (no data, no
    // selection where one is needed).
    bool tuning() const;
    bool uses_selection() const;                    // the experts come from the shared selection
    sy::UnlearnOptions unlearn_options(const sy::ExpertsByLayer& selected) const;
    sy::TuneOptions tune_options(const sy::ExpertsByLayer& selected) const;
    // The command-line equivalent (for the log).
    QStringList command(const QString& model_dir) const;

    // Form setters (tests, and the file pickers).
    void set_mode(const QString& mode);             // "unlearn" | "tune"
    void set_data(const QString& files);            // tune; ';' between files
    void set_forget(const QString& files);
    void set_retain(const QString& files);
    void set_expert_choice(const QString& choice);  // unlearn: "auto" | "selected"; tune: "esft-gate" | "esft-token" | "all" | "selected"
    void set_threshold(double threshold);
    void set_steps(int steps);                      // 0: default
    void set_lr(double lr);                         // 0: default
    void set_batch(int batch_tokens, int seq_len, int max_tokens, int seed);

    // The curve: start() clears it, add_step() appends a point (called as steps finish),
    // show() draws a stored one.
    void start_curve();
    void add_step(const sy::TrainingStepReport& step);
    void show_curve(const LossCurve& curve);
    const LossCurve& curve() const { return m_curve; }
    QCustomPlot* plot() const { return m_plot; }
    void set_busy(bool busy);

signals:
    void train_requested();

private:
    void refresh_mode();

    QComboBox* m_mode = nullptr;
    QLineEdit* m_data = nullptr;
    QLineEdit* m_forget = nullptr;
    QLineEdit* m_retain = nullptr;
    QLabel* m_data_label = nullptr;
    QLabel* m_forget_label = nullptr;
    QLabel* m_retain_label = nullptr;
    QComboBox* m_choice = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QSpinBox* m_steps = nullptr;
    QDoubleSpinBox* m_lr = nullptr;
    QSpinBox* m_batch_tokens = nullptr;
    QSpinBox* m_seq_len = nullptr;
    QSpinBox* m_max_tokens = nullptr;
    QSpinBox* m_seed = nullptr;
    QPushButton* m_train = nullptr;
    QCustomPlot* m_plot = nullptr;
    LossCurve m_curve;
};

}  // namespace sy::gui
