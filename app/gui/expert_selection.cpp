#include "expert_selection.h"

#include <QStringList>
#include <algorithm>

namespace sy::gui {

ExpertSelection::ExpertSelection(QObject* parent) : QObject(parent) {}

bool ExpertSelection::contains(int layer, int expert) const {
    const auto it = m_experts.find(layer);
    return it != m_experts.end() && std::binary_search(it->second.begin(), it->second.end(), expert);
}

std::vector<int> ExpertSelection::in_layer(int layer) const {
    const auto it = m_experts.find(layer);
    return it == m_experts.end() ? std::vector<int>{} : it->second;
}

void ExpertSelection::click(int layer, int expert, bool add) {
    if (!add) {
        set({{layer, {expert}}});
        return;
    }
    sy::ExpertsByLayer next = m_experts;
    std::vector<int>& experts = next[layer];
    const auto at = std::find(experts.begin(), experts.end(), expert);
    if (at == experts.end())
        experts.push_back(expert);
    else
        experts.erase(at);
    set(std::move(next));
}

void ExpertSelection::set(sy::ExpertsByLayer experts) {
    for (auto it = experts.begin(); it != experts.end();) {
        std::sort(it->second.begin(), it->second.end());
        it->second.erase(std::unique(it->second.begin(), it->second.end()), it->second.end());
        it = it->second.empty() ? experts.erase(it) : std::next(it);
    }
    if (experts == m_experts) return;
    m_experts = std::move(experts);
    emit changed();
}

void ExpertSelection::clear() { set({}); }

QString ExpertSelection::describe() const {
    return m_experts.empty() ? tr("no experts selected (click one in any view; Ctrl-click adds)") : describe_experts(m_experts);
}

QString describe_experts(const sy::ExpertsByLayer& experts) {
    QStringList layers;
    for (const auto& [layer, list] : experts) {
        QStringList numbers;
        for (int e : list) numbers << QString::number(e);
        layers << QObject::tr("layer %1: %2 %3")
                      .arg(layer)
                      .arg(list.size() == 1 ? QObject::tr("expert") : QObject::tr("experts"))
                      .arg(numbers.join(QStringLiteral(", ")));
    }
    return layers.join(QStringLiteral("; "));
}

}  // namespace sy::gui
