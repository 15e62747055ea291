#pragma once
// Scripted runs of the real window, for tests/gui/screenshots.sh and bench/gui_latency.sh. Both
// wait for the model given on the command line, start a trace with the Run panel's settings and
// return the process exit code (0 success, 1 error). Main thread.
#include <QString>

namespace sy::gui {

class MainWindow;

// Saves <dir>/<NN>-<view>.png of the whole window with each view in front, once the trace, a
// routed line of text, a prune + merge stack, layer 0's similarity and the stack's preview are done;
// then trains a tune entry on top and saves <dir>/edit-stack-training.png of the edit stack dock
// with the entry and its loss curve.
int run_screenshots(MainWindow& window, const QString& dir);
// Measures how late a 5 ms main-thread timer fires while the trace runs and prints max / p99 /
// median of that lateness (the event-loop latency the workbench bounds at 100 ms).
int run_latency_bench(MainWindow& window);

}  // namespace sy::gui
