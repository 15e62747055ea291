#include "routing_view.h"

#include <QLabel>
#include <QMenu>
#include <QStackedLayout>

#include "expert_selection.h"

namespace sy::gui {

QString default_empty_text() {
    return QStringLiteral("Open a model (Ctrl+O) or drop a model folder here, then press Start (Ctrl+R)\n"
                          "to watch its routing live, or open a trace file (Ctrl+Shift+O).");
}

RoutingView::RoutingView(QString name, QWidget* parent) : QWidget(parent), m_name(std::move(name)) {
    m_stack = new QStackedLayout(this);
    m_empty = new QLabel(default_empty_text(), this);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setStyleSheet(QStringLiteral("color: palette(mid); font-size: 11pt;"));
    m_stack->addWidget(m_empty);
    m_timer.setSingleShot(true);
    m_timer.setInterval(40);
    connect(&m_timer, &QTimer::timeout, this, &RoutingView::redraw_now);
}

QWidget* RoutingView::export_widget() const { return m_content; }

void RoutingView::set_content(QWidget* content) {
    m_content = content;
    m_stack->addWidget(content);
}

void RoutingView::set_empty_text(const QString& text) { m_empty->setText(text); }

void RoutingView::set_snapshot(std::shared_ptr<const RoutingSnapshot> snapshot) {
    m_snapshot = std::move(snapshot);
    if (m_snapshot) on_snapshot();
    schedule_redraw();
}

void RoutingView::schedule_redraw() {
    // Hidden views (other tabs) only remember that they are stale: the main thread then draws
    // one view per snapshot, which keeps the event loop responsive during a trace.
    if (!isVisible()) {
        m_dirty = true;
        return;
    }
    if (!m_timer.isActive()) m_timer.start();
}

void RoutingView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty) {
        m_dirty = false;
        m_timer.start();
    }
}

void RoutingView::redraw_now() {
    m_timer.stop();
    m_dirty = false;
    m_has_data = redraw_view();
    if (m_has_data) ++m_redraws;
    m_stack->setCurrentWidget((m_has_data || m_always_visible) && m_content ? m_content : static_cast<QWidget*>(m_empty));
}

bool RoutingView::redraw_view() { return m_snapshot && m_snapshot->tokens > 0 && redraw(*m_snapshot); }

void RoutingView::set_selection(const ExpertSelection* selection) {
    if (m_selection) disconnect(m_selection, nullptr, this, nullptr);
    m_selection = selection;
    if (m_selection) connect(m_selection, &ExpertSelection::changed, this, [this]() { on_selection_changed(); });
}

void RoutingView::set_content_always_visible(bool visible) {
    m_always_visible = visible;
    m_stack->setCurrentWidget((m_has_data || m_always_visible) && m_content ? m_content : static_cast<QWidget*>(m_empty));
}

void RoutingView::attach_context_menu(QWidget* widget) {
    widget->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(widget, &QWidget::customContextMenuRequested, this, [this, widget](const QPoint& at) {
        QMenu menu(this);
        menu.addAction(tr("Export plot (PNG/SVG/PDF)…"), this, &RoutingView::export_plot_requested);
        menu.addAction(tr("Export data (CSV)…"), this, &RoutingView::export_data_requested);
        menu.exec(widget->mapToGlobal(at));
    });
}

}  // namespace sy::gui
