#pragma once
// Base of every central view: holds the latest RoutingSnapshot, redraws on a
// coalescing single-shot timer (40 ms, PlotJuggler's replot timer; style.md rule 9) so a burst
// of snapshots costs one redraw, shows an empty state that says what to do, and offers export
// of its plot (PNG/SVG/PDF) and its data (CSV) from a context menu.
#include <QString>
#include <QTimer>
#include <QWidget>
#include <memory>

#include "routing_snapshot.h"

class QCustomPlot;
class QLabel;
class QStackedLayout;

namespace sy::gui {

class RoutingView : public QWidget {
    Q_OBJECT
public:
    explicit RoutingView(QString name, QWidget* parent = nullptr);

    const QString& name() const { return m_name; }
    // Main thread. Schedules one redraw within ~40 ms; null clears the view.
    void set_snapshot(std::shared_ptr<const RoutingSnapshot> snapshot);
    const std::shared_ptr<const RoutingSnapshot>& snapshot() const { return m_snapshot; }
    // Redraws that had data (tests assert views received data this way).
    int redraws() const { return m_redraws; }
    bool has_data() const { return m_has_data; }

    // The plot exported as PNG/SVG/PDF (null: the content widget is rendered instead).
    virtual QCustomPlot* plot() const { return nullptr; }
    virtual QWidget* export_widget() const;
    // The data of what is shown, as CSV text with a header row.
    virtual QString csv() const = 0;
    // Coalesced redraw now (tests, screenshots).
    void redraw_now();

signals:
    void export_plot_requested();
    void export_data_requested();

protected:
    void showEvent(QShowEvent* event) override;
    // Called on every new snapshot, visible or not (start background work here; draw in redraw).
    virtual void on_snapshot() {}
    // Draw the current snapshot (never null here). Return false when there is nothing to show.
    virtual bool redraw(const RoutingSnapshot& snapshot) = 0;
    void set_content(QWidget* content);
    void set_empty_text(const QString& text);
    // Show the content even without data (a view with its own input, e.g. the token inspector).
    void set_content_always_visible(bool visible);
    void schedule_redraw();
    // Connects a plot's context menu to the export actions.
    void attach_context_menu(QWidget* widget);

private:
    QString m_name;
    std::shared_ptr<const RoutingSnapshot> m_snapshot;
    QTimer m_timer;
    QStackedLayout* m_stack = nullptr;
    QLabel* m_empty = nullptr;
    QWidget* m_content = nullptr;
    int m_redraws = 0;
    bool m_has_data = false;
    bool m_always_visible = false;
    bool m_dirty = false;   // a snapshot arrived while hidden: redraw when shown
};

// Empty-state text shared by the views.
QString default_empty_text();

}  // namespace sy::gui
