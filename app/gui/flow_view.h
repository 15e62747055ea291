#pragma once
// Layer-to-layer flow: a Sankey-like diagram with one column of expert nodes per MoE layer
// (height = first-choice tokens) and bands between consecutive layers (width = tokens moving
// from expert i to expert j), from the one-hop affinity counts. A click on a node selects it.
#include <QPointF>
#include <memory>
#include <vector>

#include "routing_view.h"

class QCustomPlot;
class QCPTextElement;

namespace sy::gui {

class SelectionMarks;

class FlowView : public RoutingView {
    Q_OBJECT
public:
    explicit FlowView(QWidget* parent = nullptr);
    ~FlowView() override;
    QCustomPlot* plot() const override { return m_plot; }
    QString csv() const override;
    int bands_drawn() const { return m_bands; }
    int marked_experts() const;
    // Plot coordinates of the middle of expert `expert`'s node in the `moe`-th MoE layer's column
    // (where a click selects it); (-1, -1) when there is no such node.
    QPointF node_center(int moe, int expert) const;

protected:
    bool redraw(const RoutingSnapshot& snapshot) override;
    void on_selection_changed() override;

private:
    struct Node {
        int moe = 0, expert = 0;
        double x = 0, y = 0, height = 0, tokens = 0;
    };
    void layout_nodes(const RoutingSnapshot& snapshot);
    void draw_pair(const analysis::AffinityPair& pair, int l, int experts_total);
    QString node_tooltip(double x, double y) const;
    const Node* node_at(double x, double y) const;
    void show_selection();

    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    std::vector<std::vector<Node>> m_nodes;   // [Lm][E_l]
    double m_tokens = 0;
    int m_bands = 0;
    std::unique_ptr<SelectionMarks> m_marks;
};

}  // namespace sy::gui
