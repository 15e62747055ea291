#pragma once
// Routing map: tokens x MoE layers, each cell coloured by the token's
// first-choice expert; hovering shows the token text, its experts and gate weights at that
// layer. Draws the first tokens of the trace (RoutingSnapshot::blocks).
#include "routing_view.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;
class QMouseEvent;

namespace sy::gui {

class RoutingMapView : public RoutingView {
    Q_OBJECT
public:
    explicit RoutingMapView(QWidget* parent = nullptr);
    QCustomPlot* plot() const override { return m_plot; }
    QString csv() const override;
    // Tooltip text for token `token` (global index) at MoE layer `l`; empty when not kept.
    QString describe(int64_t token, int l) const;

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;

private:
    void on_mouse_move(QMouseEvent* event);

    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPTextElement* m_title = nullptr;
    int64_t m_drawn_tokens = 0;
};

// Row of global token `token` in the snapshot's kept blocks (null when not kept); `row` gets
// the index inside the block.
const TokenBlock* find_token(const RoutingSnapshot& snapshot, int64_t token, int64_t& row);

}  // namespace sy::gui
