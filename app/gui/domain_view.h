#pragma once
// Domain x expert specialisation: for one MoE layer, the share of each
// domain's routed slots that go to each expert (analysis::DomainStats frequency / k), with the
// domain's specialisation (total variation from the all-domain distribution) in its label.
#include "routing_view.h"

class QComboBox;
class QCustomPlot;

namespace sy::gui {

class HeatMapPlot;

class DomainView : public RoutingView {
    Q_OBJECT
public:
    explicit DomainView(QWidget* parent = nullptr);
    ~DomainView() override;
    QCustomPlot* plot() const override;
    QString csv() const override;

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;

private:
    QComboBox* m_layer = nullptr;
    std::unique_ptr<HeatMapPlot> m_heat;
};

// "(none)" for the empty domain.
QString domain_label(const std::string& name);
// Fills `combo` with one entry per MoE layer (data: MoE index) when the count changed.
void sync_layer_combo(QComboBox* combo, const RoutingSnapshot& snapshot, int first_index = 0);

}  // namespace sy::gui
