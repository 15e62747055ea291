#include "run_panel.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "switchyard/compute/model_runner.h"

namespace sy::gui {

namespace {

QLineEdit* with_browse(QWidget* parent, QFormLayout* form, const QString& label, QPushButton*& browse) {
    auto* row = new QHBoxLayout;
    auto* edit = new QLineEdit(parent);
    browse = new QPushButton(QObject::tr("…"), parent);
    browse->setMaximumWidth(32);
    row->addWidget(edit, 1);
    row->addWidget(browse);
    form->addRow(label, row);
    return edit;
}

QString default_output() {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    return dir + QStringLiteral("/live-trace.h5");
}

}  // namespace

RunPanel::RunPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    QPushButton* browse_data = nullptr;
    QPushButton* browse_output = nullptr;
    m_data = with_browse(this, form, tr("Data"), browse_data);
    m_data->setPlaceholderText(tr(".jsonl / .txt file or folder"));
    m_text = new QPlainTextEdit(this);
    m_text->setPlaceholderText(tr("…or type text to trace (used when Data is empty)"));
    m_text->setMaximumHeight(60);
    form->addRow(tr("Text"), m_text);
    m_device = new QComboBox(this);
    m_device->addItem(QStringLiteral("cpu"));
    for (int i = 0; i < sy::cuda_device_count(); ++i) m_device->addItem(QStringLiteral("cuda:%1").arg(i));
    form->addRow(tr("Device"), m_device);
    m_dtype = new QComboBox(this);
    m_dtype->addItems({QStringLiteral("f32"), QStringLiteral("bf16")});
    form->addRow(tr("DType"), m_dtype);
    m_seq_len = new QSpinBox(this);
    m_seq_len->setRange(1, 1 << 20);
    m_seq_len->setValue(512);
    form->addRow(tr("Seq len"), m_seq_len);
    m_max_tokens = new QSpinBox(this);
    m_max_tokens->setRange(0, 2'000'000'000);
    m_max_tokens->setSingleStep(1024);
    m_max_tokens->setValue(8192);
    m_max_tokens->setSpecialValueText(tr("all"));
    m_max_tokens->setGroupSeparatorShown(true);
    form->addRow(tr("Tokens"), m_max_tokens);
    m_output = with_browse(this, form, tr("Output"), browse_output);
    m_output->setText(default_output());
    layout->addLayout(form);
    auto* buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start"), this);
    m_start->setToolTip(tr("Trace the dataset and watch the routing live (Ctrl+R)"));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setToolTip(tr("Stop after the current batch; the file keeps every finished batch (Esc)"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancel);
    layout->addLayout(buttons);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%p%"));
    layout->addWidget(m_progress);
    m_stage = new QLabel(this);
    m_stage->setWordWrap(true);
    layout->addWidget(m_stage);
    layout->addStretch();
    connect(m_start, &QPushButton::clicked, this, &RunPanel::start_requested);
    connect(m_cancel, &QPushButton::clicked, this, &RunPanel::cancel_requested);
    connect(m_device, &QComboBox::currentTextChanged, this, [this](const QString& device) {
        m_dtype->setCurrentText(device.startsWith(QLatin1String("cuda")) ? QStringLiteral("bf16") : QStringLiteral("f32"));
    });
    connect(browse_data, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Dataset"), m_data->text(),
                                                          tr("Datasets (*.jsonl *.txt);;All files (*)"));
        if (!path.isEmpty()) m_data->setText(path);
    });
    connect(browse_output, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Trace file"), m_output->text(), tr("HDF5 trace (*.h5)"));
        if (!path.isEmpty()) m_output->setText(path);
    });
    set_running(false);
}

void RunPanel::set_data_path(const QString& path) { m_data->setText(path); }
QString RunPanel::data_path() const { return m_data->text().trimmed(); }
void RunPanel::set_typed_text(const QString& text) { m_text->setPlainText(text); }
void RunPanel::set_max_tokens(int tokens) { m_max_tokens->setValue(tokens); }
void RunPanel::set_output_path(const QString& path) { m_output->setText(path); }
QString RunPanel::output_path() const { return m_output->text().trimmed(); }
QString RunPanel::device() const { return m_device->currentText(); }
QString RunPanel::dtype() const { return m_dtype->currentText(); }

QString RunPanel::describe_data() const {
    return data_path().isEmpty() ? tr("typed text") : QFileInfo(data_path()).fileName();
}

sy::CorpusOptions RunPanel::corpus(int64_t max_tokens) const {
    sy::CorpusOptions corpus;
    QString data = data_path();
    SY_CHECK(!data.isEmpty() || !m_text->toPlainText().trimmed().isEmpty(), UsageError,
             "choose a dataset (.jsonl / .txt) or type some text in the Run panel");
    if (data.isEmpty()) {
        data = m_scratch.filePath(QStringLiteral("typed-text.txt"));
        QFile file(data);
        SY_CHECK(file.open(QIODevice::WriteOnly) && file.write(m_text->toPlainText().toUtf8()) >= 0, IoError,
                 data.toStdString() + ": cannot write the typed text");
    }
    corpus.data = {data.toStdString()};
    corpus.seq_len = m_seq_len->value();
    corpus.max_tokens = max_tokens >= 0 ? max_tokens : m_max_tokens->value();
    return corpus;
}

sy::RunnerOptions RunPanel::runner() const {
    sy::RunnerOptions runner;
    runner.device = device().toStdString();
    runner.dtype = sy::parse_compute_dtype(dtype().toStdString());
    return runner;
}

int RunPanel::max_tokens() const { return m_max_tokens->value(); }

QStringList RunPanel::command_flags(int64_t max_tokens) const {
    const sy::CorpusOptions c = corpus(max_tokens);
    QStringList flags{QStringLiteral("--data"), QString::fromStdString(c.data.front().string()), QStringLiteral("--seq-len"),
                      QString::number(c.seq_len)};
    if (c.max_tokens > 0) flags << QStringLiteral("--max-tokens") << QString::number(c.max_tokens);
    return flags << QStringLiteral("--device") << device() << QStringLiteral("--dtype") << dtype();
}

sy::TraceOptions RunPanel::options() const {
    sy::TraceOptions options;
    options.corpus = corpus();
    options.runner = runner();
    SY_CHECK(!output_path().isEmpty(), UsageError, "choose an output trace file (.h5) in the Run panel");
    options.output = output_path().toStdString();
    options.overwrite = true;   // the window's own output file, replaced by each run
    options.command_line = "switchyard-gui";
    return options;
}

QString RunPanel::typed_text() const { return m_text->toPlainText(); }

void RunPanel::set_running(bool running) {
    m_running = running;
    m_start->setEnabled(!running && m_model_open);
    m_cancel->setEnabled(running);
    if (running) {
        m_progress->setValue(0);
        m_stage->setText(tr("loading weights…"));
    }
}

void RunPanel::set_model_open(bool open) {
    m_model_open = open;
    set_running(m_running);
}

void RunPanel::show_progress(double fraction, const QString& stage) {
    m_progress->setValue(static_cast<int>(fraction * 1000));
    m_stage->setText(stage);
}

void RunPanel::show_message(const QString& text) { m_stage->setText(text); }

void RunPanel::save_settings() const {
    QSettings settings;
    settings.beginGroup(QStringLiteral("run"));
    settings.setValue(QStringLiteral("data"), data_path());
    settings.setValue(QStringLiteral("dtype"), dtype());
    settings.setValue(QStringLiteral("seq_len"), m_seq_len->value());
    settings.setValue(QStringLiteral("max_tokens"), m_max_tokens->value());
    settings.setValue(QStringLiteral("output"), output_path());
    settings.endGroup();
}

void RunPanel::load_settings() {
    QSettings settings;
    settings.beginGroup(QStringLiteral("run"));
    m_data->setText(settings.value(QStringLiteral("data"), m_data->text()).toString());
    m_dtype->setCurrentText(settings.value(QStringLiteral("dtype"), dtype()).toString());
    m_seq_len->setValue(settings.value(QStringLiteral("seq_len"), m_seq_len->value()).toInt());
    m_max_tokens->setValue(settings.value(QStringLiteral("max_tokens"), m_max_tokens->value()).toInt());
    m_output->setText(settings.value(QStringLiteral("output"), output_path()).toString());
    settings.endGroup();
}

}  // namespace sy::gui
