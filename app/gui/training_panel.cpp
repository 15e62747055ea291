#include "training_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "plot_style.h"
#include "switchyard/core/errors.h"

namespace sy::gui {
namespace {

std::vector<std::filesystem::path> files_of(const QLineEdit* edit) {
    std::vector<std::filesystem::path> out;
    for (const QString& part : edit->text().split(QLatin1Char(';'), Qt::SkipEmptyParts))
        if (!part.trimmed().isEmpty()) out.emplace_back(part.trimmed().toStdString());
    return out;
}

// A line of ';'-separated data files with a "…" button that picks them.
QWidget* file_row(QLineEdit* edit, QWidget* parent) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* browse = new QPushButton(QStringLiteral("…"), row);
    browse->setMaximumWidth(32);
    layout->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, edit, [edit]() {
        const QStringList files = QFileDialog::getOpenFileNames(edit, QObject::tr("Data files"), QString(),
                                                                QObject::tr("Data (*.jsonl *.ndjson *.txt);;All files (*)"));
        if (!files.isEmpty()) edit->setText(files.join(QLatin1Char(';')));
    });
    return row;
}

}  // namespace

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout;
    m_mode = new QComboBox(this);
    m_mode->addItems({QStringLiteral("tune"), QStringLiteral("unlearn")});
    m_mode->setToolTip(tr("tune: train only the experts relevant to the data (ESFT); "
                          "unlearn: train one expert and its router to forget a domain (UOE / SEUF)"));
    form->addRow(tr("Train"), m_mode);
    m_data = new QLineEdit(this);
    m_data->setPlaceholderText(tr("training data (.jsonl / .txt; ';' between files)"));
    m_data_label = new QLabel(tr("Data"), this);
    form->addRow(m_data_label, file_row(m_data, this));
    m_forget = new QLineEdit(this);
    m_forget->setPlaceholderText(tr("data to forget"));
    m_forget_label = new QLabel(tr("Forget"), this);
    form->addRow(m_forget_label, file_row(m_forget, this));
    m_retain = new QLineEdit(this);
    m_retain->setPlaceholderText(tr("data to keep (no document shared with Forget)"));
    m_retain_label = new QLabel(tr("Retain"), this);
    form->addRow(m_retain_label, file_row(m_retain, this));
    auto* choice_row = new QHBoxLayout;
    m_choice = new QComboBox(this);
    choice_row->addWidget(m_choice, 1);
    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setRange(0, 1);
    m_threshold->setDecimals(3);
    m_threshold->setSingleStep(0.05);
    m_threshold->setSpecialValueText(tr("default P"));
    m_threshold->setToolTip(tr("ESFT's P: each layer's chosen experts reach this share of the relevance (0: 0.1 gate, 0.2 token)"));
    choice_row->addWidget(m_threshold);
    form->addRow(tr("Experts"), choice_row);
    auto* steps_row = new QHBoxLayout;
    m_steps = new QSpinBox(this);
    m_steps->setRange(0, 1000000);
    m_steps->setSpecialValueText(tr("default"));
    m_steps->setToolTip(tr("Optimizer steps (default: unlearn 30; tune stops when held-out NLL stops improving)"));
    steps_row->addWidget(m_steps);
    m_lr = new QDoubleSpinBox(this);
    m_lr->setDecimals(6);
    m_lr->setRange(0, 1);
    m_lr->setSingleStep(1e-4);
    m_lr->setSpecialValueText(tr("default lr"));
    m_lr->setToolTip(tr("Peak learning rate (default: unlearn 1.75e-3; tune probes 1e-4, 3e-4, 1e-3 on held-out data)"));
    steps_row->addWidget(m_lr);
    form->addRow(tr("Steps, lr"), steps_row);
    auto* batch_row = new QHBoxLayout;
    m_batch_tokens = new QSpinBox(this);
    m_batch_tokens->setRange(2, 1 << 24);
    m_batch_tokens->setValue(2048);
    m_batch_tokens->setToolTip(tr("Tokens of each data set per step (--batch-tokens)"));
    m_seq_len = new QSpinBox(this);
    m_seq_len->setRange(2, 1 << 20);
    m_seq_len->setValue(128);
    m_seq_len->setToolTip(tr("Attention window of the training data (--seq-len)"));
    m_max_tokens = new QSpinBox(this);
    m_max_tokens->setRange(0, 1 << 30);
    m_max_tokens->setSpecialValueText(tr("all tokens"));
    m_max_tokens->setToolTip(tr("Read at most this many tokens of each data set (--max-tokens)"));
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1 << 30);
    m_seed->setToolTip(tr("Seed of the data order and held-out split: a CPU run repeats exactly"));
    for (QWidget* w : {static_cast<QWidget*>(m_batch_tokens), static_cast<QWidget*>(m_seq_len),
                       static_cast<QWidget*>(m_max_tokens), static_cast<QWidget*>(m_seed)})
        batch_row->addWidget(w);
    form->addRow(tr("Batch, window, cap, seed"), batch_row);
    layout->addLayout(form);
    m_train = new QPushButton(tr("Train and add"), this);
    m_train->setToolTip(tr("Train on a worker (progress, Cancel), then add the entry with the learning rate and steps it used"));
    layout->addWidget(m_train);
    m_plot = new QCustomPlot(this);
    style_plot(m_plot);
    m_plot->setMinimumHeight(140);
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->yAxis->setLabel(tr("loss"));
    m_plot->addGraph();
    m_plot->graph(0)->setName(tr("training loss"));
    m_plot->graph(0)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    integer_ticks(m_plot->xAxis);
    layout->addWidget(m_plot, 1);

    connect(m_mode, &QComboBox::currentTextChanged, this, &TrainingPanel::refresh_mode);
    connect(m_train, &QPushButton::clicked, this, &TrainingPanel::train_requested);
    refresh_mode();
}

bool TrainingPanel::tuning() const { return m_mode->currentText() == QLatin1String("tune"); }
bool TrainingPanel::uses_selection() const { return m_choice->currentText() == QLatin1String("selected"); }

void TrainingPanel::refresh_mode() {
    const bool tune = tuning();
    // The line edits sit in their file rows (with the "…" button): the rows show and hide.
    for (QWidget* w : {m_data->parentWidget(), static_cast<QWidget*>(m_data_label)}) w->setVisible(tune);
    for (QWidget* w : {m_forget->parentWidget(), static_cast<QWidget*>(m_forget_label), m_retain->parentWidget(),
                       static_cast<QWidget*>(m_retain_label)})
        w->setVisible(!tune);
    m_choice->clear();
    if (tune) m_choice->addItems({QStringLiteral("esft-gate"), QStringLiteral("esft-token"), QStringLiteral("all"), QStringLiteral("selected")});
    else m_choice->addItems({QStringLiteral("auto"), QStringLiteral("selected")});
    m_choice->setToolTip(tune ? tr("esft-gate / esft-token: ESFT's relevance per layer; all: every routed expert; selected: the shared selection")
                              : tr("auto: the expert with the highest mean router probability on the forget data; selected: the one selected expert"));
    m_threshold->setVisible(tune);
}

namespace {

sy::SurgeryTraining training_of(const QSpinBox* steps, const QDoubleSpinBox* lr, const QSpinBox* batch, const QSpinBox* seq,
                                const QSpinBox* cap, const QSpinBox* seed) {
    sy::SurgeryTraining t;
    if (steps->value() > 0) t.steps = steps->value();
    if (lr->value() > 0) t.lr = lr->value();
    t.batch_tokens = batch->value();
    t.seq_len = seq->value();
    t.max_tokens = cap->value();
    t.seed = static_cast<uint64_t>(seed->value());
    return t;
}

}  // namespace

sy::UnlearnOptions TrainingPanel::unlearn_options(const sy::ExpertsByLayer& selected) const {
    sy::UnlearnOptions o;
    o.forget = files_of(m_forget);
    o.retain = files_of(m_retain);
    SY_CHECK(!o.forget.empty() && !o.retain.empty(), UsageError, "unlearn: give the data to forget and the data to retain");
    if (m_choice->currentText() == QLatin1String("selected")) {
        SY_CHECK(selected.size() == 1 && selected.begin()->second.size() == 1, UsageError,
                 "unlearn edits one expert: select exactly one (or choose auto)");
        o.expert = std::make_pair(selected.begin()->first, selected.begin()->second.front());
    }
    o.training = training_of(m_steps, m_lr, m_batch_tokens, m_seq_len, m_max_tokens, m_seed);
    return o;
}

sy::TuneOptions TrainingPanel::tune_options(const sy::ExpertsByLayer& selected) const {
    sy::TuneOptions o;
    o.data = files_of(m_data);
    SY_CHECK(!o.data.empty(), UsageError, "tune: give the training data");
    const QString choice = m_choice->currentText();
    if (choice == QLatin1String("selected")) {
        SY_CHECK(!selected.empty(), UsageError, "tune: select the experts to train (or choose esft-gate, esft-token or all)");
        o.select = sy::TuneOptions::Select::listed;
        for (const auto& [layer, experts] : selected)
            for (int e : experts) o.experts.emplace_back(layer, e);
    } else {
        o.select = choice == QLatin1String("all")          ? sy::TuneOptions::Select::all
                   : choice == QLatin1String("esft-token") ? sy::TuneOptions::Select::esft_token
                                                           : sy::TuneOptions::Select::esft_gate;
    }
    o.threshold = m_threshold->value();
    o.training = training_of(m_steps, m_lr, m_batch_tokens, m_seq_len, m_max_tokens, m_seed);
    return o;
}

QStringList TrainingPanel::command(const QString& model_dir) const {
    const bool tune = tuning();
    QStringList argv{QStringLiteral("switchyard"), m_mode->currentText(), model_dir};
    auto add_files = [&argv](const QString& flag, const QLineEdit* edit) {
        for (const auto& f : files_of(edit)) argv << flag << QString::fromStdString(f.string());
    };
    if (tune) add_files(QStringLiteral("--data"), m_data);
    else add_files(QStringLiteral("--forget"), m_forget), add_files(QStringLiteral("--retain"), m_retain);
    const QString choice = m_choice->currentText();
    if (choice == QLatin1String("selected")) argv << (tune ? QStringLiteral("--experts") : QStringLiteral("--expert")) << QStringLiteral("SELECTION");
    else if (tune) argv << QStringLiteral("--select") << choice;
    if (tune && m_threshold->value() > 0 && choice.startsWith(QLatin1String("esft"))) argv << QStringLiteral("--threshold") << QString::number(m_threshold->value());
    if (m_steps->value() > 0) argv << QStringLiteral("--steps") << QString::number(m_steps->value());
    if (m_lr->value() > 0) argv << QStringLiteral("--lr") << QString::number(m_lr->value());
    argv << QStringLiteral("--batch-tokens") << QString::number(m_batch_tokens->value()) << QStringLiteral("--seq-len")
         << QString::number(m_seq_len->value());
    if (m_max_tokens->value() > 0) argv << QStringLiteral("--max-tokens") << QString::number(m_max_tokens->value());
    argv << QStringLiteral("--seed") << QString::number(m_seed->value()) << QStringLiteral("--save-recipe") << QStringLiteral("RECIPE");
    return argv;
}

void TrainingPanel::set_mode(const QString& mode) { m_mode->setCurrentText(mode); }
void TrainingPanel::set_data(const QString& files) { m_data->setText(files); }
void TrainingPanel::set_forget(const QString& files) { m_forget->setText(files); }
void TrainingPanel::set_retain(const QString& files) { m_retain->setText(files); }
void TrainingPanel::set_expert_choice(const QString& choice) { m_choice->setCurrentText(choice); }
void TrainingPanel::set_threshold(double threshold) { m_threshold->setValue(threshold); }
void TrainingPanel::set_steps(int steps) { m_steps->setValue(steps); }
void TrainingPanel::set_lr(double lr) { m_lr->setValue(lr); }
void TrainingPanel::set_batch(int batch_tokens, int seq_len, int max_tokens, int seed) {
    m_batch_tokens->setValue(batch_tokens);
    m_seq_len->setValue(seq_len);
    m_max_tokens->setValue(max_tokens);
    m_seed->setValue(seed);
}

void TrainingPanel::start_curve() { show_curve(LossCurve{}); }

void TrainingPanel::add_step(const sy::TrainingStepReport& step) {
    m_curve.steps.push_back(double(step.step));
    m_curve.loss.push_back(step.loss);
    m_plot->graph(0)->addData(double(step.step), step.loss);
    m_plot->xAxis->setRange(0, double(std::max<int64_t>(step.steps, step.step)) + 1);
    m_plot->graph(0)->rescaleValueAxis(false, true);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingPanel::show_curve(const LossCurve& curve) {
    m_curve = curve;
    m_plot->graph(0)->setData(curve.steps, curve.loss, true);
    m_plot->rescaleAxes();
    if (curve.steps.isEmpty()) m_plot->xAxis->setRange(0, 1);
    m_plot->replot();
}

void TrainingPanel::set_busy(bool busy) { m_train->setEnabled(!busy); }

}  // namespace sy::gui
