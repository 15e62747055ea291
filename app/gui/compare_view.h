#pragma once
// The Compare view: two routings of the same tokens side by side, from analysis::CompareResult
// (`switchyard compare`): per-layer top-k and first-choice agreement, per-expert load drift of
// a chosen layer (bars), next-token loss per domain before / after, and the tokens whose routes
// changed most. After a preview it also shows the edit's per-layer output error (NAEE's
// criterion, editing.md §2.1) and the preview's per-domain NLL. Opened from File → Compare
// traces (any two traces of the same tokens) and after every preview.
#include <memory>

#include "routing_view.h"
#include "surgery_jobs.h"

class QComboBox;
class QCustomPlot;
class QCPTextElement;
class QLabel;
class QTableWidget;

namespace sy::gui {

class JobProgress;
class SelectionMarks;

class CompareView : public RoutingView {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);
    ~CompareView() override;
    QString csv() const override;
    QWidget* export_widget() const override;

    void show_comparison(std::shared_ptr<const Comparison> comparison);
    // `switchyard compare A B` on a worker thread (`compared` or `failed` follows).
    void compare_traces(const QString& a, const QString& b);
    bool comparing() const;
    const Comparison* comparison() const { return m_comparison.get(); }
    void set_drift_layer(int moe_index);
    int changed_rows() const;
    QString changed_text(int row) const;   // the token column of the changed-tokens table
    QString caption() const;
    std::vector<QCustomPlot*> plots() const;

signals:
    void compared();
    void log_line(QString line);
    void failed(QString message);

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;
    bool redraw_view() override;
    void on_selection_changed() override;

private:
    void draw_agreement();
    void draw_drift();
    void draw_losses();
    void fill_changed();
    void show_selection();

    std::shared_ptr<const Comparison> m_comparison;
    QWidget* m_content = nullptr;
    QLabel* m_caption = nullptr;
    QComboBox* m_layer = nullptr;
    QCustomPlot* m_agreement = nullptr;
    QCustomPlot* m_drift = nullptr;
    QCustomPlot* m_losses = nullptr;
    QCPTextElement* m_agreement_title = nullptr;
    QCPTextElement* m_drift_title = nullptr;
    QCPTextElement* m_losses_title = nullptr;
    QTableWidget* m_changed = nullptr;
    JobProgress* m_job = nullptr;
    std::unique_ptr<SelectionMarks> m_marks;
};

}  // namespace sy::gui
