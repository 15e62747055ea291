#pragma once
// Colours shared by every view (../shared/docs/gui.md "Colours"): one colour per expert, stable
// across views (categorical up to 20 experts, viridis-like beyond), a sequential map with a
// visible scale for heat maps.
#include <QColor>
#include <qcustomplot.h>

namespace sy::gui {

QColor expert_color(int expert, int expert_count);
// Gradient for a colour map whose cells hold integer categories 0 .. count-1 (data range
// [0, count - 1]): category i gets expert_color(i, count).
QCPColorGradient categorical_gradient(int count);
QCPColorGradient sequential_gradient();   // viridis-like, dark = low
// Zoom/pan, and the common look.
void style_plot(QCustomPlot* plot);
// A colour scale at the right of the plot's main axis rect, labelled `label`.
QCPColorScale* add_color_scale(QCustomPlot* plot, const QString& label);
// Ticks at whole numbers only (category scales: experts, GPUs).
void integer_ticks(QCPAxis* axis);
// Title row above the axis rect (kept in exports). Long titles wrap to the plot's width instead
// of being cut off at both ends: the row grows by a line per wrap.
QCPTextElement* add_title(QCustomPlot* plot);

}  // namespace sy::gui
