#pragma once
// The one expert selection every view shares (../shared/docs/gui.md "Selection is shared"):
// clicking an expert anywhere selects it (Ctrl-click adds or removes it), every view marks the
// selected experts, the status line names them and the edit stack acts on them. Experts are
// named as in the open model and its traces: model-layer index and expert index, before any
// edit of the stack. Main thread.
#include <QObject>
#include <QString>
#include <vector>

#include "switchyard/core/expert_selection.h"

namespace sy::gui {

class ExpertSelection : public QObject {
    Q_OBJECT
public:
    explicit ExpertSelection(QObject* parent = nullptr);

    const sy::ExpertsByLayer& experts() const { return m_experts; }
    bool empty() const { return m_experts.empty(); }
    bool contains(int layer, int expert) const;
    std::vector<int> in_layer(int layer) const;   // sorted

    // A plain click selects only (layer, expert); `add` (Ctrl-click) toggles it in the selection.
    void click(int layer, int expert, bool add);
    void set(sy::ExpertsByLayer experts);   // sorted and deduplicated; empty layers dropped
    void clear();
    // "layer 7: experts 3, 12, 40; layer 9: expert 1", or a hint when nothing is selected.
    QString describe() const;

signals:
    void changed();

private:
    sy::ExpertsByLayer m_experts;
};

// "layer 7: experts 3, 12, 40" for each layer of `experts`, joined by "; " ("" when empty).
QString describe_experts(const sy::ExpertsByLayer& experts);

}  // namespace sy::gui
