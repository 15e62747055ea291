#pragma once
// Token inspector: type or paste text and see each token's route through every MoE layer
// (experts in selection order with gate weights, cells coloured by the first choice; tokens as
// readable text with visible whitespace marks). The text goes through sy::run_trace like any
// dataset (a one-document .txt in a temporary folder), so tokenization, BOS and routing are
// exactly the CLI's. Before any text is routed, it shows the first tokens of the current trace.
// A click on a cell selects its first-choice expert; cells routed to a selected expert are bold.
// The requests share one ModelRunner per opened model, device and dtype, so only the first one
// loads the weights.
#include <QTemporaryDir>
#include <memory>

#include "routing_view.h"

class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QLabel;

namespace sy {
struct Model;
}

namespace sy::gui {

class TokenInspectorView : public RoutingView {
    Q_OBJECT
public:
    explicit TokenInspectorView(QWidget* parent = nullptr);
    QString csv() const override;
    QWidget* export_widget() const override;

    void set_model(std::shared_ptr<const sy::Model> model, QString device, QString dtype);
    // Routes `text` (main thread; the forward pass runs on a worker).
    void route_text(const QString& text);
    int token_rows() const;
    // Times the current model's weights were loaded for routing text (1 after any number of
    // requests on one model, device and dtype).
    int model_loads() const;
    bool busy() const { return m_busy; }
    QString cell_text(int row, int column) const;
    int bold_cells() const;   // cells routed to a selected expert
    // As a click on a cell (column 0: the token; 1..: MoE layers).
    void click_cell(int row, int column, bool add);
    struct RunnerSlot;   // the loaded model the requests share (token_inspector_view.cpp)

signals:
    void routed();
    void failed(QString message);

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;
    void on_selection_changed() override;

private:
    void fill_table(const RoutingSnapshot& snapshot, int64_t max_tokens);
    void show_selection();

    QPlainTextEdit* m_text = nullptr;
    QPushButton* m_route = nullptr;
    QLabel* m_status = nullptr;
    QTableWidget* m_table = nullptr;
    std::shared_ptr<const sy::Model> m_model;
    std::shared_ptr<const RoutingSnapshot> m_routed;   // result of the typed text, if any
    std::shared_ptr<RunnerSlot> m_runner;              // per set_model: weights loaded once
    QString m_device = QStringLiteral("cpu"), m_dtype = QStringLiteral("f32");
    bool m_busy = false;
    const TokenBlock* m_preview_first = nullptr;   // first block of the trace the preview shows
    std::vector<int> m_layers;                     // model layer of each MoE column
};

}  // namespace sy::gui
