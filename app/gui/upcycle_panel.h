#pragma once
// Upcycle options for a dense model (editing/upcycle.h, the flags of `switchyard upcycle`):
// target family, experts, top-k, router (random / zero / hidden from prompts), Drop-Upcycling
// rate, seed, granularity, shared expert. "Add to stack" puts one upcycle entry on the edit
// stack; Export (which picks the stored dtype, as for every export) writes the MoE checkpoint.
// Main thread.
#include <QWidget>

#include "switchyard/editing/upcycle.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;

namespace sy::gui {

class UpcyclePanel : public QWidget {
    Q_OBJECT
public:
    explicit UpcyclePanel(QWidget* parent = nullptr);
    sy::UpcycleOptions options() const;   // throws sy::UsageError for a bad choice
    void set_experts(int experts, int top_k);

signals:
    void add_requested();

private:
    QComboBox* m_family = nullptr;
    QSpinBox* m_experts = nullptr;
    QSpinBox* m_top_k = nullptr;
    QComboBox* m_router = nullptr;
    QLineEdit* m_prompts = nullptr;
    QDoubleSpinBox* m_drop = nullptr;
    QSpinBox* m_seed = nullptr;
    QSpinBox* m_granularity = nullptr;
    QCheckBox* m_shared = nullptr;
};

}  // namespace sy::gui
