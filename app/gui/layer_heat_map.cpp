#include "layer_heat_map.h"

#include <QToolTip>
#include <qcustomplot.h>

#include "plot_style.h"

namespace sy::gui {

namespace {

QSharedPointer<QCPAxisTicker> label_ticker(const QStringList& labels, int count) {
    if (labels.isEmpty()) {
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        return ticker;
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < count && i < labels.size(); ++i) ticker->addTick(i, labels[i]);
    return ticker;
}

}  // namespace

HeatMapPlot::HeatMapPlot(QWidget* parent, const QString& scale_label) : m_plot(new QCustomPlot(parent)) {
    style_plot(m_plot);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    m_map->setGradient(sequential_gradient());
    m_map->setColorScale(add_color_scale(m_plot, scale_label));
    m_title = add_title(m_plot);
    m_plot->setMouseTracking(true);
    QObject::connect(m_plot, &QCustomPlot::mouseMove, m_plot, [this](QMouseEvent* event) {
        const int column = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(event->position().x())));
        const int row = static_cast<int>(std::lround(m_plot->yAxis->pixelToCoord(event->position().y())));
        const bool inside = m_tooltip && row >= 0 && row < m_rows && column >= 0 && column < m_columns;
        const QString text = inside ? m_tooltip(row, column) : QString();
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
    });
}

void HeatMapPlot::set_tooltip(std::function<QString(int, int)> tooltip) { m_tooltip = std::move(tooltip); }

void HeatMapPlot::show(const std::vector<double>& values, int rows, int columns, const QStringList& row_labels,
                       const QStringList& column_labels, const QString& x_label, const QString& y_label,
                       const QString& title) {
    m_rows = rows;
    m_columns = columns;
    m_map->data()->setSize(columns, rows);
    m_map->data()->setRange(QCPRange(0, std::max(columns - 1, 1)), QCPRange(0, std::max(rows - 1, 1)));
    if (columns == 1 || rows == 1) m_map->data()->setRange(QCPRange(0, columns - 1 + 1e-9), QCPRange(0, rows - 1 + 1e-9));
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c) m_map->data()->setCell(c, r, values[static_cast<std::size_t>(r) * columns + c]);
    m_map->rescaleDataRange(true);
    m_plot->xAxis->setTicker(label_ticker(column_labels, columns));
    m_plot->yAxis->setTicker(label_ticker(row_labels, rows));
    m_plot->xAxis->setLabel(x_label);
    m_plot->yAxis->setLabel(y_label);
    m_plot->xAxis->setRange(-0.5, std::max(columns, 1) - 0.5);   // an empty map keeps a unit range
    m_plot->yAxis->setRange(-0.5, std::max(rows, 1) - 0.5);
    m_title->setText(title);
    m_plot->replot();
}

}  // namespace sy::gui
