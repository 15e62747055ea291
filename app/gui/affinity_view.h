#pragma once
// Inter-layer affinity: for a chosen layer pair (l, l+h), h = 1..3, the
// conditional matrix P(expert j at l+h | expert i at l) from analysis::AffinityAccumulator
// (first-choice convention, as `switchyard affinity`), with mutual information and top-1 mass.
#include "routing_view.h"

class QComboBox;
class QCustomPlot;

namespace sy::gui {

class HeatMapPlot;

class AffinityView : public RoutingView {
    Q_OBJECT
public:
    explicit AffinityView(QWidget* parent = nullptr);
    ~AffinityView() override;
    QCustomPlot* plot() const override;
    QString csv() const override;
    void set_pair(int from_moe, int hops);

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;

private:
    const analysis::AffinityPair* current_pair() const;
    void sync_choices(const RoutingSnapshot& snapshot);

    QComboBox* m_from = nullptr;
    QComboBox* m_hops = nullptr;
    std::unique_ptr<HeatMapPlot> m_heat;
};

}  // namespace sy::gui
