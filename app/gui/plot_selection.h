#pragma once
// Selecting experts in a plot: a click (press and release without dragging, so zoom and pan
// keep working) reports the plot coordinates it hit, with Ctrl meaning "add to the selection";
// SelectionMarks outlines the selected experts' cells, bars or columns. Main thread.
#include <QPointer>
#include <QRectF>
#include <functional>
#include <vector>

class QCustomPlot;
class QCPItemRect;
class QObject;

namespace sy::gui {

// Calls `clicked(x, y, add)` in `plot`'s axis coordinates for every click on it.
void on_plot_click(QCustomPlot* plot, QObject* context, std::function<void(double x, double y, bool add)> clicked);

class SelectionMarks {
public:
    explicit SelectionMarks(QCustomPlot* plot);
    // Replaces the marks with outlines of `rects` (axis coordinates); the caller replots.
    void show(const std::vector<QRectF>& rects);
    int count() const;

private:
    QCustomPlot* m_plot;
    std::vector<QPointer<QCPItemRect>> m_items;   // the plot's clearItems() may delete them
};

}  // namespace sy::gui
