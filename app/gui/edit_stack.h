#pragma once
// The edit stack: the recipe the window builds, one entry per edit, in order (docs/recipes.md).
// It IS a sy::Recipe: saving writes the file `switchyard apply` runs headless, opening one
// rebuilds the stack, and preview and export run exactly this recipe. Entries are added with
// experts numbered as the views show them (the open model's); the stack renumbers them for the
// entries before (edit_entries.h), and keeps every entry's meaning when entries are moved or
// removed (or refuses, naming the entry that no longer applies). A dense model's stack holds
// one upcycle entry instead (upcycle.h), saved as the recipe `switchyard upcycle --save-recipe`
// writes, which `switchyard apply` runs. An MoE model's stack may end in one training entry
// (unlearn / tune, trained by the panel when added). Main thread.
#include <QObject>
#include <QString>
#include <memory>
#include <optional>

#include "switchyard/editing/recipe.h"
#include "switchyard/editing/upcycle.h"

namespace sy {
struct Model;
}

namespace sy::gui {

class EditStack : public QObject {
    Q_OBJECT
public:
    explicit EditStack(QObject* parent = nullptr);

    // Clears the stack (a recipe is only meaningful for its model).
    void set_model(std::shared_ptr<const sy::Model> model);
    const std::shared_ptr<const sy::Model>& model() const { return m_model; }

    // The expert edits, numbered as recipes number them, and the export settings (an upcycle
    // entry is in recipe_with_source() only).
    const sy::Recipe& recipe() const { return m_recipe; }
    const std::optional<sy::UpcycleOptions>& upcycle() const { return m_upcycle; }
    int size() const;
    bool empty() const { return size() == 0; }
    // The last entry is an unlearn / tune entry (trained on the model the entries above it
    // leave; it stays last, and the entries above it stay as they are while it is there).
    bool trains() const;
    // Entry `index` with experts as the open model numbers them (what the list shows).
    sy::Edit entry_in_model_indices(int index) const;
    QString describe(int index) const;

    // All throw sy::UsageError and leave the stack as it was when the change does not apply.
    void add(const sy::Edit& edit_in_model_indices);
    void add_upcycle(const sy::UpcycleOptions& options);   // dense models only; replaces a previous one
    void remove(int index);
    void move(int from, int to);
    void clear();
    void set_export_settings(const sy::RecipeExport& settings);

    // Recipe files. open() checks every entry against the open model (a recipe made on another
    // model is opened with a note in `note` when its indices still apply); an upcycle recipe
    // opens on a dense model, an expert-edit recipe on an MoE one.
    void open(const QString& path, QString* note = nullptr);
    void save(const QString& path);
    QString path() const { return m_path; }
    bool modified() const { return m_modified; }
    // The recipe as saved: the upcycle entry included, source (path and fingerprint of the open
    // model) filled in.
    sy::Recipe recipe_with_source() const;

signals:
    void changed();

private:
    // Rebuilds the recipe from entries in open-model numbering; throws without changing anything.
    void rebuild(const std::vector<sy::Edit>& entries_in_model_indices);
    std::vector<sy::Edit> entries_in_model_indices() const;
    void touched();

    std::shared_ptr<const sy::Model> m_model;
    sy::Recipe m_recipe;
    std::optional<sy::UpcycleOptions> m_upcycle;
    QString m_path;
    bool m_modified = false;
};

}  // namespace sy::gui
