#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace sy::gui {

ExportDialog::ExportDialog(const QStringList& dtypes, ExportSettings initial, std::function<QString(const ExportSettings&)> command,
                           QWidget* parent)
    : QDialog(parent), m_command_of(std::move(command)) {
    setWindowTitle(tr("Export edited model"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    auto* row = new QHBoxLayout;
    m_output = new QLineEdit(initial.output, this);
    m_output->setPlaceholderText(tr("new folder for the model (written under a temporary name, renamed when complete)"));
    auto* browse = new QPushButton(tr("…"), this);
    browse->setMaximumWidth(32);
    row->addWidget(m_output, 1);
    row->addWidget(browse);
    form->addRow(tr("Output folder"), row);
    m_dtype = new QComboBox(this);
    m_dtype->addItems(dtypes);
    m_dtype->setCurrentText(initial.dtype);
    form->addRow(tr("Stored dtype"), m_dtype);
    m_shard = new QLineEdit(initial.shard_size, this);
    m_shard->setToolTip(tr("Largest shard file, e.g. 5GB, 500MB"));
    form->addRow(tr("Shard size"), m_shard);
    m_force = new QCheckBox(tr("replace a non-empty folder"), this);
    m_force->setChecked(initial.force);
    form->addRow(QString(), m_force);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Command-line equivalent:"), this));
    m_command = new QLabel(this);
    m_command->setWordWrap(true);
    m_command->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_command->setStyleSheet(QStringLiteral("font-family: monospace;"));
    layout->addWidget(m_command);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(browse, &QPushButton::clicked, this, [this]() {
        const QString dir = QFileDialog::getSaveFileName(this, tr("Output folder (created)"), m_output->text());
        if (!dir.isEmpty()) m_output->setText(dir);
    });
    for (QLineEdit* edit : {m_output, m_shard}) connect(edit, &QLineEdit::textChanged, this, &ExportDialog::update_command);
    connect(m_dtype, &QComboBox::currentTextChanged, this, &ExportDialog::update_command);
    connect(m_force, &QCheckBox::toggled, this, &ExportDialog::update_command);
    update_command();
    resize(720, sizeHint().height());
}

ExportSettings ExportDialog::settings() const {
    return {m_output->text().trimmed(), m_dtype->currentText(), m_shard->text().trimmed(), m_force->isChecked()};
}

void ExportDialog::update_command() { m_command->setText(m_command_of(settings())); }

}  // namespace sy::gui
