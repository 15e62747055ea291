#pragma once
// Expert load per MoE layer: bars for one chosen layer, or every layer as a
// heat map (layers x experts), from analysis::StatsResult::loads.
#include "routing_view.h"

class QComboBox;
class QCustomPlot;
class QStackedWidget;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;

namespace sy::gui {

class LoadView : public RoutingView {
    Q_OBJECT
public:
    explicit LoadView(QWidget* parent = nullptr);
    QCustomPlot* plot() const override;
    QString csv() const override;
    // -1: all layers as a heat map; else the MoE index shown as bars.
    void set_layer(int moe_index);

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;

private:
    void draw_bars(const RoutingSnapshot& snapshot, int l);
    void draw_heat_map(const RoutingSnapshot& snapshot);
    void sync_layer_choices(const RoutingSnapshot& snapshot);
    int layer() const;

    QComboBox* m_layer = nullptr;
    QStackedWidget* m_plots = nullptr;
    QCustomPlot* m_bars = nullptr;
    QCPTextElement* m_bars_title = nullptr;
    QCustomPlot* m_heat = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPTextElement* m_heat_title = nullptr;
};

}  // namespace sy::gui
