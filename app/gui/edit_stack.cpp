#include "edit_stack.h"

#include <QFileInfo>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "edit_entries.h"
#include "switchyard/core/errors.h"
#include "switchyard/core/model.h"
#include "switchyard/core/trace_store.h"
#include "switchyard/editing/expert_training.h"
#include "switchyard/editing/upcycle_hidden.h"

namespace sy::gui {

EditStack::EditStack(QObject* parent) : QObject(parent) {}

void EditStack::set_model(std::shared_ptr<const sy::Model> model) {
    m_model = std::move(model);
    m_recipe = sy::Recipe{};
    m_upcycle.reset();
    m_path.clear();
    m_modified = false;
    emit changed();
}

int EditStack::size() const { return static_cast<int>(m_recipe.edits.size()) + (m_upcycle ? 1 : 0); }

std::vector<sy::Edit> EditStack::entries_in_model_indices() const {
    std::vector<sy::Edit> entries;
    if (m_recipe.edits.empty()) return entries;
    std::vector<sy::Edit> before;
    for (const sy::Edit& entry : m_recipe.edits) {
        entries.push_back(to_model_indices(entry, index_plan(*m_model, before)));
        before.push_back(entry);
    }
    return entries;
}

sy::Edit EditStack::entry_in_model_indices(int index) const {
    const std::vector<sy::Edit> before(m_recipe.edits.begin(), m_recipe.edits.begin() + index);
    return to_model_indices(m_recipe.edits.at(static_cast<std::size_t>(index)), index_plan(*m_model, before));
}

QString EditStack::describe(int index) const {
    if (m_upcycle && index == 0) return describe_upcycle(*m_upcycle);
    const std::vector<sy::Edit> before(m_recipe.edits.begin(), m_recipe.edits.begin() + index);
    const sy::EditPlan plan = index_plan(*m_model, before);
    return describe_edit(to_model_indices(m_recipe.edits.at(static_cast<std::size_t>(index)), plan), &plan);
}

bool EditStack::trains() const { return !m_recipe.edits.empty() && sy::training_entry_json(m_recipe.edits.back()); }

void EditStack::rebuild(const std::vector<sy::Edit>& entries) {
    std::vector<sy::Edit> edits;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        SY_CHECK(i + 1 == entries.size() || !sy::training_entry_json(entries[i]), UsageError,
                 "entry " + std::to_string(i + 1) + " (" + sy::edit_op_name(entries[i]) +
                     ") trains the model the entries above it leave: it stays the last entry");
        try {
            const sy::EditPlan before = index_plan(*m_model, edits);
            edits.push_back(to_recipe_indices(entries[i], before));
            index_plan(*m_model, edits);   // the entry itself applies (counts, groups, top_k)
        } catch (const sy::UsageError& error) {
            throw sy::UsageError("entry " + std::to_string(i + 1) + " (" + describe_edit(entries[i]).toStdString() + "): " + error.what());
        }
    }
    m_recipe.edits = std::move(edits);
}

void EditStack::touched() {
    m_modified = true;
    emit changed();
}

void EditStack::add(const sy::Edit& edit) {
    SY_CHECK(m_model != nullptr, UsageError, "open a model first");
    SY_CHECK(!m_upcycle, UsageError, "the stack holds an upcycle: export it, then open the upcycled model to edit its experts");
    SY_CHECK(!trains(), UsageError,
             "the stack ends in a training entry, which stays last: remove it, add the entry, then train again");
    std::vector<sy::Edit> entries = entries_in_model_indices();
    entries.push_back(edit);
    rebuild(entries);
    touched();
}

void EditStack::add_upcycle(const sy::UpcycleOptions& options) {
    SY_CHECK(m_model != nullptr, UsageError, "open a model first");
    SY_CHECK(m_model->description.moe_layers.empty(), UsageError,
             m_model->checkpoint.dir().string() + " is already a Mixture-of-Experts model: upcycle starts from a dense one");
    m_upcycle = options;
    touched();
}

void EditStack::remove(int index) {
    SY_CHECK(index >= 0 && index < size(), UsageError, "no entry " + std::to_string(index + 1));
    if (m_upcycle) {
        m_upcycle.reset();
    } else if (trains() && index + 1 == size()) {
        m_recipe.edits.pop_back();   // the training entry itself
    } else {
        SY_CHECK(!trains(), UsageError,
                 "the training entry was trained on the model the entries above it leave: remove it before changing them");
        std::vector<sy::Edit> entries = entries_in_model_indices();
        entries.erase(entries.begin() + index);
        rebuild(entries);
    }
    touched();
}

void EditStack::move(int from, int to) {
    SY_CHECK(from >= 0 && from < size() && to >= 0 && to < size(), UsageError, "no such entry");
    if (from == to || m_upcycle) return;
    SY_CHECK(!trains(), UsageError,
             "the training entry was trained on the model the entries above it leave: remove it before reordering them");
    std::vector<sy::Edit> entries = entries_in_model_indices();
    sy::Edit moved = entries[static_cast<std::size_t>(from)];
    entries.erase(entries.begin() + from);
    entries.insert(entries.begin() + to, std::move(moved));
    rebuild(entries);
    touched();
}

void EditStack::clear() {
    if (empty()) return;
    m_recipe.edits.clear();
    m_upcycle.reset();
    touched();
}

void EditStack::set_export_settings(const sy::RecipeExport& settings) {
    if (settings.dtype == m_recipe.export_settings.dtype && settings.shard_size == m_recipe.export_settings.shard_size) return;
    m_recipe.export_settings = settings;
    touched();
}

sy::Recipe EditStack::recipe_with_source() const {
    sy::Recipe recipe = m_recipe;
    // The upcycle entry as `switchyard upcycle --save-recipe` writes it.
    if (m_upcycle) recipe.edits = {sy::UpcycleEdit{nlohmann::json(*m_upcycle).dump()}};
    if (m_model) {
        recipe.source_path = std::filesystem::absolute(m_model->checkpoint.dir()).lexically_normal().string();
        recipe.source_fingerprint = sy::model_fingerprint(*m_model);
    }
    return recipe;
}

void EditStack::open(const QString& path, QString* note) {
    SY_CHECK(m_model != nullptr, UsageError, "open the model the recipe was made on first (File → Open model)");
    sy::Recipe recipe = sy::read_recipe(path.toStdString());
    const sy::UpcycleEdit* upcycle = sy::upcycle_entry(recipe);
    const bool dense = m_model->description.moe_layers.empty();
    SY_CHECK(!dense || upcycle != nullptr, UsageError,
             path.toStdString() + ": the recipe edits experts; " + m_model->checkpoint.dir().string() + " is a dense model");
    SY_CHECK(dense || upcycle == nullptr, UsageError,
             path.toStdString() + ": an upcycle recipe starts from a dense model; " + m_model->checkpoint.dir().string() +
                 " is already a Mixture-of-Experts model");
    if (note != nullptr && !recipe.source_fingerprint.empty() && recipe.source_fingerprint != sy::model_fingerprint(*m_model))
        *note = tr("%1 was made on %2, not on the open model; its expert indices are applied as they are")
                    .arg(path, QString::fromStdString(recipe.source_path));
    std::optional<sy::UpcycleOptions> options;
    if (upcycle != nullptr) {
        options = nlohmann::json::parse(upcycle->options_json).get<sy::UpcycleOptions>();
        recipe.edits.clear();
    }
    const bool training = !recipe.edits.empty() && sy::training_entry_json(recipe.edits.back());
    // A training entry's data must still be the data it trained on (apply refuses it otherwise).
    if (training) sy::training_plan_from_entry(recipe.edits.back(), path.toStdString() + ": edits[" + std::to_string(recipe.edits.size() - 1) + "]");
    for (std::size_t i = 0; i < recipe.edits.size(); ++i) {
        try {
            index_plan(*m_model, std::vector<sy::Edit>(recipe.edits.begin(), recipe.edits.begin() + static_cast<long>(i) + 1));
        } catch (const sy::UsageError& error) {
            throw sy::UsageError(path.toStdString() + ": edits[" + std::to_string(i) + "]: " + error.what());
        }
    }
    m_recipe = std::move(recipe);
    m_upcycle = std::move(options);
    m_path = QFileInfo(path).absoluteFilePath();
    m_modified = false;
    emit changed();
}

void EditStack::save(const QString& path) {
    sy::write_recipe(recipe_with_source(), path.toStdString());
    m_path = QFileInfo(path).absoluteFilePath();
    m_modified = false;
    emit changed();
}

}  // namespace sy::gui
