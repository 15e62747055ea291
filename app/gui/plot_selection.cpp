#include "plot_selection.h"

#include <QApplication>
#include <qcustomplot.h>

namespace sy::gui {

void on_plot_click(QCustomPlot* plot, QObject* context, std::function<void(double, double, bool)> clicked) {
    auto pressed_at = std::make_shared<QPointF>(-1e9, -1e9);
    QObject::connect(plot, &QCustomPlot::mousePress, context, [pressed_at](QMouseEvent* event) {
        if (event->button() == Qt::LeftButton) *pressed_at = event->position();
    });
    QObject::connect(plot, &QCustomPlot::mouseRelease, context, [plot, pressed_at, clicked](QMouseEvent* event) {
        if (event->button() != Qt::LeftButton) return;
        const QPointF moved = event->position() - *pressed_at;
        *pressed_at = QPointF(-1e9, -1e9);
        if (moved.manhattanLength() > QApplication::startDragDistance()) return;   // a pan, not a click
        const bool add = event->modifiers() & (Qt::ControlModifier | Qt::MetaModifier);
        clicked(plot->xAxis->pixelToCoord(event->position().x()), plot->yAxis->pixelToCoord(event->position().y()), add);
    });
}

SelectionMarks::SelectionMarks(QCustomPlot* plot) : m_plot(plot) {}

void SelectionMarks::show(const std::vector<QRectF>& rects) {
    for (const QPointer<QCPItemRect>& item : m_items)
        if (item) m_plot->removeItem(item.data());
    m_items.clear();
    // A black outline with a white core: visible on every expert colour and on dark and light
    // heat-map cells.
    for (const QRectF& r : rects)
        for (const QPen& pen : {QPen(Qt::black, 3.5), QPen(Qt::white, 1.2)}) {
            auto* item = new QCPItemRect(m_plot);
            item->topLeft->setCoords(r.left(), r.bottom());
            item->bottomRight->setCoords(r.right(), r.top());
            item->setPen(pen);
            item->setBrush(Qt::NoBrush);
            item->setSelectable(false);
            m_items.emplace_back(item);
        }
}

int SelectionMarks::count() const {
    int n = 0;
    for (const QPointer<QCPItemRect>& item : m_items) n += item != nullptr;
    return n / 2;
}

}  // namespace sy::gui
