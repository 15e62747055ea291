#pragma once
// Expert placement: experts coloured by the GPU analysis::place_experts puts
// them on, for a chosen GPU count and method, with the crossing fraction against the
// contiguous baseline. Placement runs as a job on a worker thread (GLPK: one at a time) from the
// one-hop affinity of the current snapshot, and re-runs as the trace grows.
#include <QElapsedTimer>

#include "routing_view.h"
#include "switchyard/analysis/placement.h"

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPTextElement;
class QCPColorScale;
class QLabel;

namespace sy::gui {

class PlacementView : public RoutingView {
    Q_OBJECT
public:
    explicit PlacementView(QWidget* parent = nullptr);
    QCustomPlot* plot() const override { return m_plot; }
    QString csv() const override;
    bool has_result() const { return m_result != nullptr; }
    // A result for the current snapshot's tokens, and no placement running.
    bool up_to_date() const;
    const analysis::PlacementResult* result() const { return m_result.get(); }

signals:
    void placement_failed(QString message);
    void placement_done();

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;
    void on_snapshot() override;

private:
    void sync_gpu_choices(const RoutingSnapshot& snapshot);
    void start_placement();
    void show_result(const RoutingSnapshot& snapshot);

    QComboBox* m_gpus = nullptr;
    QComboBox* m_method = nullptr;
    QLabel* m_status = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPTextElement* m_title = nullptr;
    std::shared_ptr<const analysis::PlacementResult> m_result;
    int64_t m_result_tokens = 0;
    bool m_busy = false, m_stale = false;
    QElapsedTimer m_since_last;
};

}  // namespace sy::gui
