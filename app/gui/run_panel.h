#pragma once
// Run panel: dataset (a .jsonl/.txt file or folder, or typed text), device,
// dtype, sequence length, token budget, output file; Start / Cancel; progress with tokens/s and
// ETA (the stage text sy::run_trace reports). It only collects options: the window starts the run.
#include <QString>
#include <QWidget>

#include "switchyard/compute/trace_job.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace sy::gui {

class RunPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunPanel(QWidget* parent = nullptr);

    void set_data_path(const QString& path);
    QString data_path() const;
    void set_typed_text(const QString& text);
    void set_max_tokens(int tokens);
    void set_output_path(const QString& path);
    QString output_path() const;
    QString device() const;
    QString dtype() const;
    // Options for sy::run_trace. `typed_text_file`: where typed text is written when there is
    // no data file (the window gives a temporary path). Throws sy::UsageError for missing input.
    sy::TraceOptions options(const QString& typed_text_file) const;
    QString describe_data() const;   // "corpus-sample.jsonl" / "typed text"
    QString typed_text() const;

    void set_running(bool running);
    void set_model_open(bool open);
    void show_progress(double fraction, const QString& stage);
    void show_message(const QString& text);

    void save_settings() const;
    void load_settings();

signals:
    void start_requested();
    void cancel_requested();

private:
    QLineEdit* m_data = nullptr;
    QPlainTextEdit* m_text = nullptr;
    QComboBox* m_device = nullptr;
    QComboBox* m_dtype = nullptr;
    QSpinBox* m_seq_len = nullptr;
    QSpinBox* m_max_tokens = nullptr;
    QLineEdit* m_output = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_stage = nullptr;
    bool m_model_open = false, m_running = false;
};

}  // namespace sy::gui
