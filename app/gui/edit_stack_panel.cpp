#include "edit_stack_panel.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QPointer>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "command_line.h"
#include "edit_stack.h"
#include "expert_data.h"
#include "expert_selection.h"
#include "job_progress.h"
#include "job_runner.h"
#include "run_panel.h"
#include "surgery_jobs.h"
#include "training_panel.h"
#include "upcycle_panel.h"
#include "edit_entries.h"
#include "switchyard/core/model.h"

namespace sy::gui {

EditStackPanel::EditStackPanel(EditStack* stack, ExpertSelection* selection, ExpertData* data, const RunPanel* run, QWidget* parent)
    : QWidget(parent), m_stack(stack), m_selection(selection), m_data(data), m_run(run) {
    auto* layout = new QVBoxLayout(this);
    m_selected = new QLabel(this);
    m_selected->setWordWrap(true);
    layout->addWidget(m_selected);

    m_moe_box = new QGroupBox(tr("Edit the selected experts"), this);
    auto* moe = new QVBoxLayout(m_moe_box);
    auto* buttons = new QHBoxLayout;
    m_prune = new QPushButton(tr("Prune"), m_moe_box);
    m_prune->setToolTip(tr("Remove the selected experts (router rows and config count follow): a prune entry"));
    m_merge = new QPushButton(tr("Merge"), m_moe_box);
    m_merge->setToolTip(tr("Merge the selected experts of each layer into one expert: a merge entry"));
    m_mask = new QPushButton(tr("Mask"), m_moe_box);
    m_mask->setToolTip(tr("Never select the selected experts again (a selection-only bias where the router has one, else removed)"));
    for (QPushButton* b : {m_prune, m_merge, m_mask}) buttons->addWidget(b);
    moe->addLayout(buttons);
    auto* merge_form = new QFormLayout;
    m_align = new QCheckBox(tr("align neurons to the dominant expert"), m_moe_box);
    m_align->setChecked(true);
    merge_form->addRow(tr("Merge"), m_align);
    m_layout = new QComboBox(m_moe_box);
    m_layout->addItems({QStringLiteral("collapse"), QStringLiteral("duplicate")});
    m_layout->setToolTip(tr("collapse: one expert per group; duplicate: every member keeps its slot and holds the merge"));
    merge_form->addRow(tr("Layout"), m_layout);
    m_router = new QComboBox(m_moe_box);
    m_router->addItems({QStringLiteral("dominant"), QStringLiteral("fitted")});
    m_router->setToolTip(tr("Router row of a collapsed group: the dominant member's, or fitted on the Run panel's data"));
    merge_form->addRow(tr("Router"), m_router);
    m_weights = new QComboBox(m_moe_box);
    m_weights->addItems({QStringLiteral("uniform"), QStringLiteral("frequency")});
    m_weights->setToolTip(tr("Member weights: equal, or each member's calibration frequency (needs a score file: Experts view)"));
    merge_form->addRow(tr("Weights"), m_weights);
    moe->addLayout(merge_form);
    layout->addWidget(m_moe_box);

    m_training_box = new QGroupBox(tr("Train experts (unlearn / tune)"), this);
    auto* training_layout = new QVBoxLayout(m_training_box);
    m_training = new TrainingPanel(m_training_box);
    training_layout->addWidget(m_training);
    layout->addWidget(m_training_box);

    m_upcycle_box = new QGroupBox(tr("Upcycle this dense model"), this);
    auto* upcycle_layout = new QVBoxLayout(m_upcycle_box);
    m_upcycle = new UpcyclePanel(m_upcycle_box);
    upcycle_layout->addWidget(m_upcycle);
    layout->addWidget(m_upcycle_box);

    layout->addWidget(new QLabel(tr("Stack (applied top to bottom; experts numbered as in the views):"), this));
    m_list = new QListWidget(this);
    m_list->setDragDropMode(QAbstractItemView::InternalMove);
    m_list->setWordWrap(true);
    m_list->setMinimumHeight(90);
    layout->addWidget(m_list, 1);
    auto* list_buttons = new QHBoxLayout;
    m_up = new QPushButton(tr("Up"), this);
    m_down = new QPushButton(tr("Down"), this);
    m_remove = new QPushButton(tr("Remove"), this);
    m_clear = new QPushButton(tr("Clear"), this);
    for (QPushButton* b : {m_up, m_down, m_remove, m_clear}) list_buttons->addWidget(b);
    layout->addLayout(list_buttons);
    auto* files = new QHBoxLayout;
    auto* open = new QPushButton(tr("Open recipe…"), this);
    auto* save = new QPushButton(tr("Save recipe…"), this);
    save->setToolTip(tr("Write the stack as a recipe: `switchyard apply RECIPE -o OUT` runs it headless"));
    files->addWidget(open);
    files->addWidget(save);
    layout->addLayout(files);
    m_file = new QLabel(this);
    m_file->setWordWrap(true);
    layout->addWidget(m_file);
    auto* run_row = new QHBoxLayout;
    run_row->addWidget(new QLabel(tr("Preview tokens"), this));
    m_preview_tokens = new QSpinBox(this);
    m_preview_tokens->setRange(16, 1 << 24);
    m_preview_tokens->setSingleStep(1024);
    m_preview_tokens->setValue(2048);
    m_preview_tokens->setToolTip(tr("Tokens of the Run panel's data the preview runs both models on"));
    run_row->addWidget(m_preview_tokens);
    m_preview = new QPushButton(tr("Preview"), this);
    m_train_recorded = new QPushButton(tr("Train entry"), this);
    m_train_recorded->setToolTip(tr("Train the stack's last entry (read from a recipe, or trained before the entries above it changed) "
                                    "with its recorded learning rate and steps, so it can be previewed"));
    m_export = new QPushButton(tr("Export…"), this);
    run_row->addWidget(m_preview);
    run_row->addWidget(m_train_recorded);
    run_row->addWidget(m_export);
    layout->addLayout(run_row);
    m_job = new JobProgress(this);
    layout->addWidget(m_job);

    connect(m_prune, &QPushButton::clicked, this, &EditStackPanel::prune_selection);
    connect(m_merge, &QPushButton::clicked, this, &EditStackPanel::merge_selection);
    connect(m_mask, &QPushButton::clicked, this, &EditStackPanel::mask_selection);
    connect(m_upcycle, &UpcyclePanel::add_requested, this, &EditStackPanel::add_upcycle);
    connect(m_training, &TrainingPanel::train_requested, this, &EditStackPanel::train_entry);
    connect(m_up, &QPushButton::clicked, this, [this]() { move_entry(m_list->currentRow(), m_list->currentRow() - 1); });
    connect(m_down, &QPushButton::clicked, this, [this]() { move_entry(m_list->currentRow(), m_list->currentRow() + 1); });
    connect(m_remove, &QPushButton::clicked, this, [this]() {
        try {
            m_stack->remove(m_list->currentRow());
        } catch (const std::exception& error) {
            emit failed(error_message(error));
        }
    });
    connect(m_clear, &QPushButton::clicked, m_stack, &EditStack::clear);
    connect(m_list->model(), &QAbstractItemModel::rowsMoved, this, [this](const QModelIndex&, int from, int, const QModelIndex&, int to) {
        if (m_refreshing) return;
        move_entry(from, to > from ? to - 1 : to);
    });
    connect(m_list, &QListWidget::currentRowChanged, this, &EditStackPanel::refresh_buttons);
    connect(m_list, &QListWidget::currentRowChanged, this, &EditStackPanel::show_entry_curve);
    connect(open, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open recipe"), QString(), tr("Recipes (*.json);;All files (*)"));
        if (!path.isEmpty()) open_recipe(path);
    });
    connect(save, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save recipe"), m_stack->path().isEmpty() ? QStringLiteral("recipe.json") : m_stack->path(),
                                                          tr("Recipes (*.json)"));
        if (!path.isEmpty()) save_recipe(path);
    });
    connect(m_preview, &QPushButton::clicked, this, &EditStackPanel::preview);
    connect(m_train_recorded, &QPushButton::clicked, this, &EditStackPanel::train_recorded_entry);
    connect(m_export, &QPushButton::clicked, this, &EditStackPanel::export_dialog);
    connect(m_stack, &EditStack::changed, this, &EditStackPanel::refresh);
    connect(m_selection, &ExpertSelection::changed, this, &EditStackPanel::refresh_buttons);
    refresh();
}

EditStackPanel::~EditStackPanel() = default;

void EditStackPanel::refresh() {
    m_refreshing = true;
    const int keep = m_list->currentRow();
    m_list->clear();
    for (int i = 0; i < m_stack->size(); ++i) {
        QString text;
        try {
            text = QStringLiteral("%1. %2").arg(i + 1).arg(m_stack->describe(i));
        } catch (const std::exception& error) {
            text = QStringLiteral("%1. %2").arg(i + 1).arg(error_message(error));
        }
        m_list->addItem(text);
    }
    m_list->setCurrentRow(std::min(keep, m_list->count() - 1));
    m_refreshing = false;
    const bool dense = m_stack->model() && m_stack->model()->description.moe_layers.empty();
    m_moe_box->setVisible(!dense);
    m_training_box->setVisible(!dense);
    m_upcycle_box->setVisible(dense);
    QString file = m_stack->path().isEmpty() ? tr("not saved") : m_stack->path();
    if (m_stack->modified()) file += tr(" (modified)");
    m_file->setText(tr("Recipe: %1").arg(file));
    refresh_buttons();
}

void EditStackPanel::refresh_buttons() {
    const bool model = m_stack->model() != nullptr, selected = !m_selection->empty(), idle = !m_job->running();
    m_selected->setText(tr("Selection: %1").arg(m_selection->describe()));
    m_prune->setEnabled(model && selected);
    m_mask->setEnabled(model && selected);
    m_merge->setEnabled(model && selected && idle);
    const int row = m_list->currentRow();
    m_up->setEnabled(row > 0);
    m_down->setEnabled(row >= 0 && row + 1 < m_list->count());
    m_remove->setEnabled(row >= 0);
    m_clear->setEnabled(!m_stack->empty());
    const bool trained_here = previewable_training() != nullptr;
    m_preview->setEnabled(idle && !m_stack->empty() && !m_stack->upcycle() && (!m_stack->trains() || trained_here));
    m_train_recorded->setVisible(m_stack->trains() && !trained_here);
    m_train_recorded->setEnabled(idle && model);
    QString tip = tr("Per-layer output error, per-domain NLL and routing before / after, without writing anything");
    if (m_stack->trains() && !trained_here)
        tip = tr("The training entry holds no trained weights for the entries now above it (read from a recipe, or they changed "
                 "since it trained): Train entry trains it here, Export runs it");
    else if (m_stack->trains())
        tip = tr("The trained weights as Export stores them, on the model the entries above leave: per-layer output error, "
                 "per-domain NLL and routing before / after");
    m_preview->setToolTip(tip);
    m_export->setEnabled(idle && !m_stack->empty());
    m_training->set_busy(!idle || !model);
}

int EditStackPanel::list_rows() const { return m_list->count(); }
QString EditStackPanel::list_text(int row) const { return m_list->item(row) ? m_list->item(row)->text() : QString(); }

void EditStackPanel::add_entry(const sy::Edit& edit) {
    try {
        m_stack->add(edit);
        emit log_line(tr("stack: added %1").arg(m_stack->describe(m_stack->size() - 1)));
        emit entry_added();
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::prune_selection() {
    if (!m_stack->model()) return;
    try {
        sy::PruneRequest request;
        request.experts = m_selection->experts();
        add_entry(sy::resolve_prune(*m_stack->model(), request, sy::CalibrationScores{}));
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::mask_selection() {
    if (!m_stack->model()) return;
    try {
        sy::check_layer_experts(m_stack->model()->description, m_selection->experts(), "mask");
        add_entry(sy::MaskEdit{m_selection->experts()});
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::set_merge_options(bool align, const QString& layout, const QString& router, const QString& weights) {
    m_align->setChecked(align);
    m_layout->setCurrentText(layout);
    m_router->setCurrentText(router);
    m_weights->setCurrentText(weights);
}

template <class Result>
void EditStackPanel::run(const QString& text, std::function<std::shared_ptr<Result>(sy::Progress&, const sy::CancelToken&)> work,
                         std::function<void(std::shared_ptr<Result>)> done) {
    auto cancel = run_cancellable_job<Result>(
        this, std::move(work),
        [this, done](std::shared_ptr<Result> result) {
            m_job->show_progress(1.0, QString());
            m_job->finish(tr("done"));
            refresh_buttons();
            done(std::move(result));
        },
        {[this](double fraction, const QString& stage) { m_job->show_progress(fraction, stage); },
         [this](const QString& message) {
             m_job->finish(message);
             refresh_buttons();
             emit failed(message);
         },
         [this]() {
             m_job->finish(tr("cancelled; nothing was written"));
             refresh_buttons();
             emit log_line(tr("cancelled"));
             emit cancelled();
         }});
    m_job->start(cancel, text);
    refresh_buttons();
}

void EditStackPanel::merge_selection() {
    const std::shared_ptr<const sy::Model> model = m_stack->model();
    if (!model || m_job->running()) return;
    try {
        sy::MergeRequest request;
        for (const auto& [layer, experts] : m_selection->experts()) {
            SY_CHECK(experts.size() >= 2, UsageError,
                     "merge: select two or more experts of layer " + std::to_string(layer) + " (Ctrl-click adds to the selection)");
            request.groups[layer] = {experts};
        }
        request.align = m_align->isChecked();
        request.layout = m_layout->currentText() == QLatin1String("duplicate") ? sy::MergeLayout::duplicate : sy::MergeLayout::collapse;
        request.router = m_router->currentText() == QLatin1String("fitted") ? sy::MergeRouter::fitted : sy::MergeRouter::dominant;
        request.weights = sy::parse_merge_weights(m_weights->currentText().toStdString());
        sy::CalibrationScores scores;
        if (m_data->scores()) {
            scores.scores = *m_data->scores();
            scores.file = m_data->scores_path().toStdString();
        }
        sy::Calibration calibration;
        if (request.router == sy::MergeRouter::fitted) {
            calibration.corpus = m_run->corpus();
            calibration.runner = m_run->runner();
        }
        run<const sy::Edit>(
            tr("resolving the merge…"),
            [model, request, scores, calibration](sy::Progress& progress, const sy::CancelToken& cancel) {
                return std::make_shared<const sy::Edit>(sy::resolve_merge(*model, request, scores, calibration, progress, cancel));
            },
            [this](std::shared_ptr<const sy::Edit> edit) { add_entry(*edit); });
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::add_upcycle() {
    try {
        m_stack->add_upcycle(m_upcycle->options());
        emit log_line(tr("stack: added %1").arg(m_stack->describe(0)));
        emit entry_added();
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::train_entry() {
    const std::shared_ptr<const sy::Model> model = m_stack->model();
    if (!model || m_job->running()) return;
    try {
        SY_CHECK(!m_stack->trains(), UsageError, "the stack already ends in a training entry: remove it to train another");
        TrainingEntryRequest request;
        request.model = model;
        request.structural = m_stack->recipe();
        // The selection as the model the stack's entries leave numbers it (what the run trains).
        sy::ExpertsByLayer selected;
        if (m_training->uses_selection() && !m_selection->empty())
            selected = std::get<sy::PruneEdit>(to_recipe_indices(sy::PruneEdit{m_selection->experts()},
                                                                 index_plan(*model, request.structural.edits)))
                           .experts;
        if (m_training->tuning()) request.tune = m_training->tune_options(selected);
        else request.unlearn = m_training->unlearn_options(selected);
        emit log_line(tr("training: %1%2")
                          .arg(shell_command(m_training->command(QString::fromStdString(model->checkpoint.dir().string()))))
                          .arg(request.structural.edits.empty() ? QString() : tr("  (on the model the stack's entries leave)")));
        start_training(std::move(request), m_training->tuning() ? tr("tuning…") : tr("unlearning…"),
                       [this](std::shared_ptr<const TrainedStackEntry> trained) {
                           std::vector<sy::Edit> stack = trained->prefix.edits;
                           stack.push_back(trained->trained.entry);
                           m_curves[*sy::training_entry_json(trained->trained.entry)] = m_training->curve();
                           keep_trained(stack_key(stack), trained);
                           add_entry(trained->trained.entry);
                       });
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::start_training(TrainingEntryRequest request, const QString& text,
                                    std::function<void(std::shared_ptr<const TrainedStackEntry>)> done) {
    QPointer<TrainingPanel> panel(m_training);
    request.on_step = [panel](const sy::TrainingStepReport& step) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(), [panel, step]() { if (panel) panel->add_step(step); }, Qt::QueuedConnection);
    };
    m_training->start_curve();
    run<const TrainedStackEntry>(
        text,
        [request](sy::Progress& progress, const sy::CancelToken& cancel) {
            return std::make_shared<const TrainedStackEntry>(run_training_entry(request, progress, cancel));
        },
        std::move(done));
}

void EditStackPanel::keep_trained(const std::string& key, std::shared_ptr<const TrainedStackEntry> trained) {
    for (const QString& line :
         QString::fromStdString(sy::surgery_report(trained->trained.plan, trained->trained.training)).split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        emit log_line(line);
    // An entry trained after other entries keeps the model they leave on disk
    // (TrainedStackEntry::edited) for as long as it is held here.
    m_trained = std::move(trained);
    m_trained_stack = key;
}

void EditStackPanel::train_recorded_entry() {
    const std::shared_ptr<const sy::Model> model = m_stack->model();
    if (!model || m_job->running() || !m_stack->trains() || previewable_training()) return;
    try {
        const sy::Recipe recipe = m_stack->recipe();
        TrainingEntryRequest request;
        request.model = model;
        request.structural = recipe;
        request.structural.edits.pop_back();
        request.entry = recipe.edits.back();
        emit log_line(tr("training the stack's last entry with its recorded learning rate and steps%1")
                          .arg(request.structural.edits.empty() ? QString() : tr(" (on the model the entries above it leave)")));
        const std::string key = stack_key(recipe.edits), entry = *sy::training_entry_json(recipe.edits.back());
        start_training(std::move(request), tr("training the entry…"), [this, key, entry](std::shared_ptr<const TrainedStackEntry> trained) {
            m_curves[entry] = m_training->curve();
            keep_trained(key, std::move(trained));
            refresh_buttons();
        });
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::show_entry_curve(int row) {
    if (row < 0 || row >= static_cast<int>(m_stack->recipe().edits.size()) || m_job->running()) return;
    const std::string* entry = sy::training_entry_json(m_stack->recipe().edits[static_cast<std::size_t>(row)]);
    if (!entry) return;
    const auto it = m_curves.find(*entry);
    m_training->show_curve(it != m_curves.end() ? it->second : LossCurve{});
}

void EditStackPanel::move_entry(int from, int to) {
    try {
        m_stack->move(from, to);
        m_list->setCurrentRow(to);
    } catch (const std::exception& error) {
        refresh();   // a refused drag puts the list back
        emit failed(tr("cannot move entry %1 there: %2").arg(from + 1).arg(error_message(error)));
    }
}

void EditStackPanel::open_recipe(const QString& path) {
    try {
        QString note;
        m_stack->open(path, &note);
        emit log_line(tr("opened recipe %1 (%n entries)", nullptr, m_stack->size()).arg(path));
        if (!note.isEmpty()) emit log_line(tr("note: %1").arg(note));
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::save_recipe(const QString& path) {
    try {
        m_stack->save(path);
        emit log_line(tr("saved recipe %1; run it headless with: %2")
                          .arg(path, shell_command({QStringLiteral("switchyard"), QStringLiteral("apply"), path, QStringLiteral("-o"), QStringLiteral("OUT")})));
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::set_preview_tokens(int tokens) { m_preview_tokens->setValue(tokens); }

std::shared_ptr<const TrainedStackEntry> EditStackPanel::previewable_training() const {
    return m_stack->trains() && m_trained && stack_key(m_stack->recipe().edits) == m_trained_stack ? m_trained : nullptr;
}

void EditStackPanel::preview() {
    if (m_job->running() || m_stack->empty() || m_stack->upcycle()) return;
    try {
        PreviewRequest request;
        request.model = m_stack->model();
        request.recipe = m_stack->recipe();
        request.trained = previewable_training();
        SY_CHECK(!m_stack->trains() || request.trained, UsageError, m_preview->toolTip().toStdString());
        request.sample.corpus = m_run->corpus(m_preview_tokens->value());
        request.sample.runner = m_run->runner();
        request.dtype = sy::parse_export_dtype(request.recipe.export_settings.dtype);
        QStringList argv{QStringLiteral("switchyard"), QStringLiteral("apply"),
                         m_stack->path().isEmpty() || m_stack->modified() ? QStringLiteral("RECIPE") : m_stack->path(),
                         QStringLiteral("--dry-run")};
        argv << m_run->command_flags(m_preview_tokens->value());
        if (request.trained)   // `apply --dry-run` does not train: the window's trained tensors are the edit
            emit log_line(tr("preview: the trained tensors of the %1 entry%2, rounded as Export stores them, evaluated and traced "
                             "with the original model on %3")
                              .arg(QString::fromStdString(request.trained->trained.plan.op),
                                   request.recipe.edits.size() > 1 ? tr(" at the slots the entries above it leave them") : QString(),
                                   shell_command(m_run->command_flags(m_preview_tokens->value()))));
        else
            emit log_line(tr("preview: %1, then both models traced and compared on the same tokens").arg(shell_command(argv)));
        run<const Comparison>(
            tr("previewing %n edit(s)…", nullptr, static_cast<int>(request.recipe.edits.size())),
            [request](sy::Progress& progress, const sy::CancelToken& cancel) {
                return std::make_shared<const Comparison>(run_preview(request, progress, cancel));
            },
            [this](std::shared_ptr<const Comparison> comparison) {
                if (comparison->compare.all.tokens > 0)
                    emit log_line(tr("preview: NLL %1 → %2 on %3 tokens, top-k overlap %4%")
                                      .arg(comparison->compare.all.mean_nll_a, 0, 'f', 4)
                                      .arg(comparison->compare.all.mean_nll_b, 0, 'f', 4)
                                      .arg(comparison->compare.all.tokens)
                                      .arg(comparison->compare.topk_overlap * 100, 0, 'f', 1));
                emit comparison_ready(std::move(comparison));
            });
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

QString EditStackPanel::recipe_path_for(const QString& output) const {
    if (!m_stack->path().isEmpty() && !m_stack->modified()) return m_stack->path();
    const QFileInfo out(output);
    return out.absolutePath() + QLatin1Char('/') + out.fileName() + QStringLiteral(".recipe.json");
}

void EditStackPanel::export_dialog() {
    if (m_stack->empty()) return;
    const QStringList dtypes = m_stack->upcycle() ? QStringList{QStringLiteral("keep"), QStringLiteral("bf16"), QStringLiteral("f32")}
                                                  : QStringList{QStringLiteral("keep"), QStringLiteral("bf16"), QStringLiteral("f16"), QStringLiteral("f32")};
    ExportDialog dialog(dtypes, m_last_export, [this](const ExportSettings& s) {
        if (s.output.isEmpty()) return tr("(choose an output folder)");
        return shell_command(apply_command(export_request(s)));
    }, this);
    if (dialog.exec() != QDialog::Accepted) return;
    export_model(dialog.settings());
}

ExportRequest EditStackPanel::export_request(const ExportSettings& settings) const {
    ExportRequest request;
    request.model = m_stack->model();
    request.recipe = m_stack->recipe_with_source();
    request.recipe.export_settings = {settings.dtype.toStdString(), settings.shard_size.toStdString()};
    request.output = QFileInfo(settings.output).absoluteFilePath();
    request.recipe_path = recipe_path_for(request.output);
    request.force = settings.force;
    request.device = QString::fromStdString(m_run->runner().device);
    request.trained = previewable_training();
    return request;
}

void EditStackPanel::export_model(const ExportSettings& settings) {
    if (m_job->running() || m_stack->empty()) return;
    m_last_export = settings;
    try {
        SY_CHECK(!settings.output.isEmpty(), UsageError, "choose an output folder for the edited model");
        m_stack->set_export_settings({settings.dtype.toStdString(), settings.shard_size.toStdString()});
        ExportRequest request = export_request(settings);
        request.write_recipe_file = request.recipe_path != m_stack->path();
        const QString output = request.output;
        emit log_line(tr("export: %1%2")
                          .arg(shell_command(apply_command(request)))
                          .arg(request.write_recipe_file ? tr("  (the stack saved as %1)").arg(request.recipe_path) : QString()));
        if (m_stack->trains()) {
            if (request.trained)
                emit log_line(tr("export: the training entry's tensors as trained in this window (what that command trains again "
                                 "from the recorded seed, learning rate and steps)"));
            run<const sy::SurgeryJobResult>(
                request.trained ? tr("exporting to %1…").arg(output) : tr("training and exporting to %1…").arg(output),
                [request](sy::Progress& progress, const sy::CancelToken& cancel) {
                    return std::make_shared<const sy::SurgeryJobResult>(run_training_export(request, progress, cancel));
                },
                [this, output](std::shared_ptr<const sy::SurgeryJobResult> result) {
                    emit log_line(tr("exported %1 tensors (%2 MB) to %3; %4 trained tensors, %5 steps at lr %6")
                                      .arg(result->exported.tensor_count)
                                      .arg(double(result->exported.total_bytes) / 1e6, 0, 'f', 1)
                                      .arg(output)
                                      .arg(result->plan.parameters.size())
                                      .arg(result->training.steps)
                                      .arg(result->training.lr, 0, 'g', 3));
                    emit exported(output);
                });
            return;
        }
        if (m_stack->upcycle()) {
            run<const sy::UpcycleResult>(
                tr("upcycling into %1…").arg(output),
                [request](sy::Progress& progress, const sy::CancelToken& cancel) {
                    return std::make_shared<const sy::UpcycleResult>(run_upcycle_export(request, progress, cancel));
                },
                [this, output](std::shared_ptr<const sy::UpcycleResult> result) {
                    emit log_line(tr("upcycled into %1: %2, %3 experts, top-%4; %5")
                                      .arg(output, QString::fromStdString(result->resolved.family))
                                      .arg(result->resolved.experts)
                                      .arg(result->resolved.top_k)
                                      .arg(QString::fromStdString(result->exactness.output)));
                    for (const std::string& note : result->notes) emit log_line(tr("note: %1").arg(QString::fromStdString(note)));
                    emit exported(output);
                });
            return;
        }
        run<const sy::EditJobResult>(
            tr("exporting to %1…").arg(output),
            [request](sy::Progress& progress, const sy::CancelToken& cancel) {
                return std::make_shared<const sy::EditJobResult>(run_export(request, progress, cancel));
            },
            [this, output](std::shared_ptr<const sy::EditJobResult> result) {
                emit log_line(tr("exported %1 tensors (%2 MB) to %3: %4 → %5 experts per MoE layer")
                                  .arg(result->exported ? result->exported->tensor_count : 0)
                                  .arg(result->exported ? double(result->exported->total_bytes) / 1e6 : 0.0, 0, 'f', 1)
                                  .arg(output)
                                  .arg(result->summary.experts_before)
                                  .arg(result->summary.experts_after));
                for (const std::string& note : result->plan.notes) emit log_line(tr("note: %1").arg(QString::fromStdString(note)));
                emit exported(output);
            });
    } catch (const std::exception& error) {
        emit failed(error_message(error));
    }
}

void EditStackPanel::cancel_job() { m_job->cancel(); }

bool EditStackPanel::busy() const { return m_job->running(); }

QString EditStackPanel::job_text() const { return m_job->text(); }

double EditStackPanel::job_fraction() const { return m_job->fraction(); }

}  // namespace sy::gui
