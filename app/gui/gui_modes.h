#pragma once
// Scripted runs of the real window, for tests/gui/screenshots.sh and bench/gui_latency.sh. Both
// wait for the model given on the command line, start a trace with the Run panel's settings and
// return the process exit code (0 success, 1 error). Main thread.
#include <QString>

namespace sy::gui {

class MainWindow;

// Saves <dir>/<NN>-<view>.png of the whole window with each view in front, once the trace is done.
int run_screenshots(MainWindow& window, const QString& dir);
// Measures how late a 5 ms main-thread timer fires while the trace runs and prints max / p99 /
// median of that lateness (the workbench's bound: 100 ms).
int run_latency_bench(MainWindow& window);

}  // namespace sy::gui
