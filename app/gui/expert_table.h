#pragma once
// The rows of the Experts table: one per MoE layer x expert of the open model (or of the trace
// when no model is open), with the trace's statistics (load, first choice, gate mass, share of
// each domain's routed slots, top tokens; analysis::StatsResult), the score file's EAN, REAP and
// calibration frequency (`switchyard score`), and the nearest expert of the similarity computed
// for its layer (`switchyard similarity`). Sorting uses the numbers, not the text. Main thread.
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QStringList>
#include <memory>
#include <vector>

#include "routing_snapshot.h"

namespace sy {
struct ExpertScores;
struct ModelDescription;
}  // namespace sy

namespace sy::gui {

class ExpertData;

class ExpertTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int sort_role = Qt::UserRole;    // double (NaN: no value, sorted first)
    static constexpr int layer_role = Qt::UserRole + 1;
    static constexpr int expert_role = Qt::UserRole + 2;

    explicit ExpertTableModel(QObject* parent = nullptr);
    // Rebuilds every row; either source may be null.
    void rebuild(const RoutingSnapshot* snapshot, const ExpertData* data);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    int row_of(int layer, int expert) const;   // -1 when absent
    int column_of(const QString& header) const;   // -1 when absent
    QString csv() const;

private:
    struct Row {
        int layer = 0, expert = 0;
        QStringList text;              // one per column
        std::vector<double> value;     // one per column
    };
    QStringList m_headers, m_tooltips;
    std::vector<Row> m_rows;
};

// Rows of one layer (or all) whose text contains a string (case-insensitive: a domain, a token).
class ExpertTableFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit ExpertTableFilter(QObject* parent = nullptr);
    void set_layer(int layer);   // -1: every layer
    void set_text(const QString& text);

protected:
    bool filterAcceptsRow(int row, const QModelIndex& parent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    int m_layer = -1;
    QString m_text;
};

}  // namespace sy::gui
