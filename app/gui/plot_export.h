#pragma once
// Writes a view's plot or data to a file chosen by its suffix: .png, .svg
// (QSvgGenerator), .pdf, .csv. QCustomPlot views render as vectors; other views (tables) are
// rendered from their widget. Main thread (it paints widgets).
#include <QString>

namespace sy::gui {

class RoutingView;

// Returns an empty string on success, else a message naming the file.
QString export_view(const RoutingView& view, const QString& path);
// Filters for QFileDialog.
QString plot_file_filter();
QString data_file_filter();

}  // namespace sy::gui
