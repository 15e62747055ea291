#pragma once
// Model browser: layers -> attention / router / experts / shared experts /
// dense MLP / norms, each tensor with shape, dtype, parameter count and shard file. Tensor names
// come from the family table's formatter (sy::tensor_name), never from string patterns.
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

private:
    int m_tensor_items = 0;
};

}  // namespace sy::gui
