#pragma once
// Where and how the edited model is written: output folder, stored dtype, largest shard, replace
// a non-empty folder; the dialog shows the command-line equivalent as it is filled in. Main thread.
#include <QDialog>
#include <QString>
#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;

namespace sy::gui {

struct ExportSettings {
    QString output;
    QString dtype = QStringLiteral("keep");
    QString shard_size = QStringLiteral("5GB");
    bool force = false;
};

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // `dtypes`: the choices the export takes; `command`: the command line for given settings.
    ExportDialog(const QStringList& dtypes, ExportSettings initial, std::function<QString(const ExportSettings&)> command,
                 QWidget* parent = nullptr);
    ExportSettings settings() const;

private:
    void update_command();

    QLineEdit* m_output = nullptr;
    QComboBox* m_dtype = nullptr;
    QLineEdit* m_shard = nullptr;
    QCheckBox* m_force = nullptr;
    QLabel* m_command = nullptr;
    std::function<QString(const ExportSettings&)> m_command_of;
};

}  // namespace sy::gui
