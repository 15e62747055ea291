// switchyard-gui [MODEL_DIR] [--trace FILE.h5]: the workbench window.
// Extra modes for scripts: --screenshots DIR (tests/gui/screenshots.sh) and --bench-latency
// (bench/gui_latency.sh); both drive the same window.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "gui_modes.h"
#include "main_window.h"
#include "run_panel.h"
#include "switchyard/compute/cpu_threads.h"

int main(int argc, char** argv) {
    sy::use_physical_cores_for_cpu_kernels();   // forward passes on worker threads share it
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Switchyard"));
    QApplication::setApplicationName(QStringLiteral("switchyard-gui"));
    QApplication::setApplicationVersion(QStringLiteral(SY_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/switchyard.svg")));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Switchyard workbench: explore a MoE model and watch its routing live"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("MODEL_DIR"), QStringLiteral("Model folder to open"), QStringLiteral("[MODEL_DIR]"));
    const QCommandLineOption trace({QStringLiteral("t"), QStringLiteral("trace")}, QStringLiteral("Trace file (.h5) to open"), QStringLiteral("FILE"));
    const QCommandLineOption data(QStringLiteral("data"), QStringLiteral("Dataset for the Run panel"), QStringLiteral("FILE"));
    const QCommandLineOption screenshots(QStringLiteral("screenshots"), QStringLiteral("Trace --data, save a PNG of every view into DIR, quit"), QStringLiteral("DIR"));
    const QCommandLineOption bench(QStringLiteral("bench-latency"), QStringLiteral("Trace --data and report the event-loop latency, quit"));
    const QCommandLineOption tokens(QStringLiteral("max-tokens"), QStringLiteral("Token budget for --screenshots / --bench-latency"), QStringLiteral("N"), QStringLiteral("8192"));
    parser.addOptions({trace, data, screenshots, bench, tokens});
    parser.process(app);

    sy::gui::MainWindow window;
    window.show();
    const QStringList positional = parser.positionalArguments();
    if (!positional.isEmpty()) window.open_model(positional.first());
    if (parser.isSet(trace)) window.open_trace(parser.value(trace));
    if (parser.isSet(data)) window.run_panel()->set_data_path(parser.value(data));
    if (parser.isSet(screenshots) || parser.isSet(bench)) {
        window.run_panel()->set_max_tokens(parser.value(tokens).toInt());
        if (parser.isSet(screenshots)) return sy::gui::run_screenshots(window, parser.value(screenshots));
        return sy::gui::run_latency_bench(window);
    }
    return app.exec();
}
