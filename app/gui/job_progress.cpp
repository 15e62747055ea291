#include "job_progress.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "switchyard/core/progress.h"

namespace sy::gui {

JobProgress::JobProgress(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* row = new QHBoxLayout;
    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 1000);
    m_bar->setFormat(QStringLiteral("%p%"));
    m_cancel_button = new QPushButton(tr("Cancel"), this);
    m_cancel_button->setToolTip(tr("Stop the job; nothing it would have written appears"));
    m_cancel_button->setEnabled(false);
    row->addWidget(m_bar, 1);
    row->addWidget(m_cancel_button);
    layout->addLayout(row);
    m_stage = new QLabel(this);
    m_stage->setWordWrap(true);
    m_stage->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_stage);
    connect(m_cancel_button, &QPushButton::clicked, this, &JobProgress::cancel);
}

JobProgress::~JobProgress() {
    if (m_cancel) m_cancel->cancel();
}

void JobProgress::start(std::shared_ptr<sy::CancelToken> cancel, const QString& text) {
    m_cancel = std::move(cancel);
    m_bar->setValue(0);
    m_stage->setText(text);
    m_cancel_button->setEnabled(true);
}

void JobProgress::show_progress(double fraction, const QString& stage) {
    if (!m_cancel) return;
    m_bar->setValue(static_cast<int>(fraction * 1000));
    m_stage->setText(stage);
}

void JobProgress::finish(const QString& text) {
    m_cancel.reset();
    m_cancel_button->setEnabled(false);
    m_stage->setText(text);
}

void JobProgress::cancel() {
    if (!m_cancel) return;
    m_cancel->cancel();
    m_stage->setText(tr("cancelling…"));
    emit cancel_requested();
}

QString JobProgress::text() const { return m_stage->text(); }

double JobProgress::fraction() const { return m_bar->value() / 1000.0; }

}  // namespace sy::gui
