#include "plot_export.h"

#include <QFile>
#include <QFileInfo>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>
#include <QTextStream>
#include <qcustomplot.h>

#include "routing_view.h"

namespace sy::gui {

namespace {

QSize export_size(const RoutingView& view) {
    const QWidget* widget = view.plot() ? static_cast<QWidget*>(view.plot()) : view.export_widget();
    const QSize size = widget ? widget->size() : QSize();
    return size.isValid() && size.width() > 50 ? size : QSize(1000, 650);
}

bool write_svg(const RoutingView& view, const QString& path, QSize size) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setTitle(view.name());
    svg.setDescription(QStringLiteral("Switchyard ") + view.name());
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    if (QCustomPlot* plot = view.plot())
        plot->toPainter(&painter, size.width(), size.height());
    else if (QWidget* widget = view.export_widget())
        widget->render(&painter);
    return painter.end();
}

bool write_widget_pdf(QWidget* widget, const QString& path) {
    QPdfWriter pdf(path);
    pdf.setPageSize(QPageSize(widget->size(), QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    pdf.setResolution(72);
    QPainter painter;
    if (!painter.begin(&pdf)) return false;
    widget->render(&painter);
    return painter.end();
}

bool write_csv(const RoutingView& view, const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    QTextStream out(&file);
    out << view.csv();
    return out.status() == QTextStream::Ok && file.flush();
}

}  // namespace

QString plot_file_filter() {
    return QStringLiteral("PNG image (*.png);;SVG vector image (*.svg);;PDF document (*.pdf);;CSV data (*.csv)");
}

QString data_file_filter() { return QStringLiteral("CSV data (*.csv)"); }

QString export_view(const RoutingView& view, const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QSize size = export_size(view);
    QCustomPlot* plot = view.plot();
    QWidget* widget = view.export_widget();
    bool ok = false;
    if (suffix == QLatin1String("csv"))
        ok = write_csv(view, path);
    else if (suffix == QLatin1String("svg"))
        ok = write_svg(view, path, size);
    else if (suffix == QLatin1String("png"))
        ok = plot ? plot->savePng(path, size.width(), size.height()) : widget && widget->grab().save(path, "PNG");
    else if (suffix == QLatin1String("pdf"))
        ok = plot ? plot->savePdf(path, size.width(), size.height()) : widget && write_widget_pdf(widget, path);
    else
        return QStringLiteral("%1: unknown export format \"%2\" (use .png, .svg, .pdf or .csv)").arg(path, suffix);
    return ok ? QString() : QStringLiteral("%1: could not be written").arg(path);
}

}  // namespace sy::gui
