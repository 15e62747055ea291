// The surgery half of the window's wiring: the shared selection and its status line, the
// Experts / Similarity / Compare views and the edit stack dock, and their menu entries.
#include <QFileDialog>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <type_traits>

#include "compare_view.h"
#include "edit_stack.h"
#include "edit_stack_panel.h"
#include "expert_selection.h"
#include "experts_view.h"
#include "main_window.h"
#include "model_tree.h"
#include "similarity_view.h"

namespace sy::gui {

void MainWindow::build_surgery_menu() {
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(tr("&Prune selected experts"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), m_edit_panel,
                    &EditStackPanel::prune_selection);
    edit->addAction(tr("&Merge selected experts"), QKeySequence(Qt::CTRL | Qt::Key_M), m_edit_panel, &EditStackPanel::merge_selection);
    edit->addAction(tr("M&ask selected experts"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M), m_edit_panel,
                    &EditStackPanel::mask_selection);
    edit->addAction(tr("&Clear selection"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), m_selection, &ExpertSelection::clear);
    edit->addSeparator();
    edit->addAction(tr("Pre&view edits"), QKeySequence(Qt::CTRL | Qt::Key_P), m_edit_panel, &EditStackPanel::preview);
    edit->addAction(tr("&Export edited model…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_X), m_edit_panel,
                    &EditStackPanel::export_dialog);
    edit->addSeparator();
    edit->addAction(tr("&Open recipe…"), this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open recipe"), QString(), tr("Recipes (*.json);;All files (*)"));
        if (!path.isEmpty()) m_edit_panel->open_recipe(path);
    });
    edit->addAction(tr("&Save recipe…"), this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save recipe"), QStringLiteral("recipe.json"), tr("Recipes (*.json)"));
        if (!path.isEmpty()) m_edit_panel->save_recipe(path);
    });
    edit->addAction(tr("Open sco&res…"), this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open score file"), QString(), tr("Score files (*.h5);;All files (*)"));
        if (!path.isEmpty()) m_experts->open_scores(path);
    });
}

void MainWindow::connect_surgery() {
    auto show_selection = [this]() { m_status->setText(m_selection->describe()); };
    connect(m_selection, &ExpertSelection::changed, this, show_selection);
    show_selection();
    connect(m_experts, &ExpertsView::selection_requested, m_selection, &ExpertSelection::set);
    connect(m_tree, &ModelTree::expert_clicked, m_selection, &ExpertSelection::click);
    // Every surgery panel reports to the log and shows its errors the same way.
    auto wire = [this](auto* source) {
        using Source = std::remove_pointer_t<decltype(source)>;
        connect(source, &Source::log_line, this, &MainWindow::log);
        connect(source, &Source::failed, this, &MainWindow::show_error);
    };
    wire(m_experts);
    wire(m_similarity);
    wire(m_compare);
    wire(m_edit_panel);
    connect(m_edit_panel, &EditStackPanel::comparison_ready, this, [this](std::shared_ptr<const Comparison> comparison) {
        m_compare->show_comparison(std::move(comparison));
        show_view(m_compare);
    });
    connect(m_compare, &CompareView::compared, this, [this]() { show_view(m_compare); });
}

void MainWindow::compare_traces(const QString& a, const QString& b) { m_compare->compare_traces(a, b); }

QString MainWindow::status_text() const { return m_status->text(); }

}  // namespace sy::gui
