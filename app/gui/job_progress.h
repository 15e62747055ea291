#pragma once
// Progress bar, stage line and Cancel button of one job at a time (score, similarity, preview,
// export, compare): what the Run panel shows for a trace, for the other panels. Main thread.
#include <QString>
#include <QWidget>
#include <memory>

class QLabel;
class QProgressBar;
class QPushButton;

namespace sy {
class CancelToken;
}

namespace sy::gui {

class JobProgress : public QWidget {
    Q_OBJECT
public:
    explicit JobProgress(QWidget* parent = nullptr);
    ~JobProgress() override;   // cancels a running job (its results are dropped with the window)

    // A job started; Cancel sets `cancel`.
    void start(std::shared_ptr<sy::CancelToken> cancel, const QString& text);
    void show_progress(double fraction, const QString& stage);
    // The job ended (done, failed or cancelled) with this message.
    void finish(const QString& text);
    bool running() const { return m_cancel != nullptr; }
    double fraction() const;   // of the running job, as last reported
    void cancel();
    QString text() const;

signals:
    void cancel_requested();

private:
    QProgressBar* m_bar = nullptr;
    QLabel* m_stage = nullptr;
    QPushButton* m_cancel_button = nullptr;
    std::shared_ptr<sy::CancelToken> m_cancel;
};

}  // namespace sy::gui
