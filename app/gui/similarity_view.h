#pragma once
// The Similarity view: the expert x expert matrices of one MoE layer (router rows, weights as
// stored and after neuron alignment, outputs on the Run panel's data), computed by the call
// behind `switchyard similarity` on a worker thread, drawn as a heat map. A click on a cell
// selects both experts of the pair (the candidates for a merge). Results are kept per layer in
// ExpertData, where the Experts table finds each expert's nearest neighbour.
#include <memory>

#include "routing_view.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QSpinBox;

namespace sy {
struct ExpertSimilarity;
}

namespace sy::gui {

class ExpertData;
class HeatMapPlot;
class JobProgress;
class RunPanel;
class SelectionMarks;

class SimilarityView : public RoutingView {
    Q_OBJECT
public:
    SimilarityView(ExpertData* data, const RunPanel* run, QWidget* parent = nullptr);
    ~SimilarityView() override;
    QCustomPlot* plot() const override;
    QString csv() const override;

    // Computes the layer shown (asynchronous: `computed` or `failed` follows).
    void compute();
    bool computing() const;
    void set_layer(int layer);                 // model-layer index
    void set_matrix(const QString& kind);      // "outputs", "aligned weights", "weights", "router"
    void set_align(bool align);
    void set_tokens(int tokens);
    int marked_experts() const;

signals:
    void computed(int layer);
    void log_line(QString line);
    void failed(QString message);

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;
    bool redraw_view() override;
    void on_selection_changed() override;

private:
    const sy::ExpertSimilarity* current() const;
    const std::vector<double>* matrix() const;
    int layer() const;
    void sync_layers();
    void show_selection();

    ExpertData* m_data;
    const RunPanel* m_run;
    QComboBox* m_layer = nullptr;
    QComboBox* m_matrix = nullptr;
    QCheckBox* m_align = nullptr;
    QSpinBox* m_tokens = nullptr;
    JobProgress* m_job = nullptr;
    std::unique_ptr<HeatMapPlot> m_heat;
    std::unique_ptr<SelectionMarks> m_marks;
};

}  // namespace sy::gui
