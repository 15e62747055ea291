#pragma once
// A heat-map plot with a colour scale and a title, shared by the domain and affinity views:
// rows x columns of values, tick labels on both axes, tooltips from the view.
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

class QCustomPlot;
class QCPColorMap;
class QCPTextElement;
class QWidget;

namespace sy::gui {

class HeatMapPlot {
public:
    HeatMapPlot(QWidget* parent, const QString& scale_label);
    QCustomPlot* plot() const { return m_plot; }
    // values [rows, columns] row-major; NaN cells are blank. Labels may be empty (numbers).
    void show(const std::vector<double>& values, int rows, int columns, const QStringList& row_labels,
              const QStringList& column_labels, const QString& x_label, const QString& y_label, const QString& title);
    // Tooltip callback: (row, column) -> text ("" for none).
    void set_tooltip(std::function<QString(int row, int column)> tooltip);

private:
    QCustomPlot* m_plot;
    QCPColorMap* m_map;
    QCPTextElement* m_title;
    std::function<QString(int, int)> m_tooltip;
    int m_rows = 0, m_columns = 0;
};

}  // namespace sy::gui
