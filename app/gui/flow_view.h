#pragma once
// Layer-to-layer flow: a Sankey-like diagram with one column of expert nodes
// per MoE layer (height = first-choice tokens) and bands between consecutive layers (width =
// tokens moving from expert i to expert j), from the one-hop affinity counts.
#include <vector>

#include "routing_view.h"

class QCustomPlot;
class QCPTextElement;

namespace sy::gui {

class FlowView : public RoutingView {
    Q_OBJECT
public:
    explicit FlowView(QWidget* parent = nullptr);
    QCustomPlot* plot() const override { return m_plot; }
    QString csv() const override;
    int bands_drawn() const { return m_bands; }

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;

private:
    struct Node {
        int moe = 0, expert = 0;
        double x = 0, y = 0, height = 0, tokens = 0;
    };
    void layout_nodes(const RoutingSnapshot& snapshot);
    void draw_pair(const analysis::AffinityPair& pair, int l, int experts_total);
    QString node_tooltip(double x, double y) const;

    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    std::vector<std::vector<Node>> m_nodes;   // [Lm][E_l]
    double m_tokens = 0;
    int m_bands = 0;
};

}  // namespace sy::gui
