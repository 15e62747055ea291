#pragma once
// Model browser: layers -> attention / router / experts / shared experts / dense MLP / norms,
// each tensor with shape, dtype, parameter count and shard file. Tensor names come from the
// family table's formatter (sy::tensor_name), never from string patterns. A click on an
// "expert N" node selects that expert.
#include <QTreeWidget>

namespace sy {
struct Model;
}

namespace sy::gui {

class ModelTree : public QTreeWidget {
    Q_OBJECT
public:
    explicit ModelTree(QWidget* parent = nullptr);
    void show_model(const sy::Model& model);   // main thread; headers only, no tensor data
    int tensor_items() const { return m_tensor_items; }
    // The node of expert `expert` of model layer `layer`, or null.
    QTreeWidgetItem* expert_item(int layer, int expert) const;

signals:
    void expert_clicked(int layer, int expert, bool add);

private:
    int m_tensor_items = 0;
};

}  // namespace sy::gui
