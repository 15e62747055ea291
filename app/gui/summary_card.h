#pragma once
// Summary card: family, layers, experts, top-k, shared experts, total/active
// parameters, dtypes and files, from sy::summarize (the numbers `switchyard inspect` prints).
#include <QLabel>

namespace sy {
struct Model;
}

namespace sy::gui {

class SummaryCard : public QLabel {
    Q_OBJECT
public:
    explicit SummaryCard(QWidget* parent = nullptr);
    void show_model(const sy::Model& model);
    void clear_model();
};

QString format_params(int64_t n);   // "3.93M", "46.7B"

}  // namespace sy::gui
