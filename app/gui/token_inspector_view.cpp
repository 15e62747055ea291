#include "token_inspector_view.h"

#include <QFile>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <mutex>

#include <QGuiApplication>

#include "expert_selection.h"
#include "job_runner.h"
#include "plot_style.h"
#include "switchyard/compute/trace_job.h"
#include "switchyard/core/model.h"

namespace sy::gui {

namespace {

constexpr int64_t trace_preview_tokens = 256;

}  // namespace

// The runner the inspector's requests share: built by the first request (on its worker
// thread), reused by the next ones, so each request pays the forward pass, not the load.
// Requests run one at a time (route_text refuses while busy); a new model gets a new slot.
struct TokenInspectorView::RunnerSlot {
    std::mutex mutex;
    std::shared_ptr<sy::ModelRunner> runner;
    int loads = 0;   // runners built in this slot
};

namespace {

// Runs the text through run_trace in a temporary folder and returns its routing.
std::shared_ptr<const RoutingSnapshot> route(std::shared_ptr<const sy::Model> model, const QString& text,
                                             const QString& device, const QString& dtype,
                                             TokenInspectorView::RunnerSlot& slot) {
    QTemporaryDir dir;
    if (!dir.isValid()) throw sy::IoError("cannot create a temporary folder for the token inspector");
    const QString input = dir.filePath(QStringLiteral("text.txt"));
    QFile file(input);
    if (!file.open(QIODevice::WriteOnly) || file.write(text.toUtf8()) < 0) throw sy::IoError(input.toStdString() + ": cannot write");
    file.close();
    sy::TraceOptions options;
    options.corpus.data = {input.toStdString()};
    options.corpus.seq_len = 4096;
    options.runner.device = device.toStdString();
    options.runner.dtype = sy::parse_compute_dtype(dtype.toStdString());
    options.output = dir.filePath(QStringLiteral("text.h5")).toStdString();
    std::unique_ptr<LiveRouting> live;
    options.on_batch = [&](const sy::TraceBatchEvent& event) {
        if (!live) live = std::make_unique<LiveRouting>(event.meta, "typed text");
        live->add(event.batch, event.first_token, event.first_doc);
    };
    {
        std::lock_guard<std::mutex> lock(slot.mutex);
        if (!slot.runner) slot.runner = std::make_shared<sy::ModelRunner>(*model, options.runner), ++slot.loads;
        options.reuse_runner = slot.runner;
    }
    sy::NullProgress progress;
    sy::CancelToken cancel;
    sy::run_trace(*model, options, progress, cancel);
    if (!live) throw sy::UsageError("the text has no tokens");
    return live->snapshot(true);
}

}  // namespace

TokenInspectorView::TokenInspectorView(QWidget* parent) : RoutingView(tr("Tokens"), parent) {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);
    m_text = new QPlainTextEdit(content);
    m_text->setPlaceholderText(tr("Type or paste text, then press Route (Ctrl+Return)"));
    m_text->setMaximumHeight(90);
    layout->addWidget(m_text);
    auto* bar = new QHBoxLayout;
    m_route = new QPushButton(tr("Route"), content);
    m_route->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_route->setToolTip(tr("Run the open model on this text and show each token's experts (Ctrl+Return)"));
    bar->addWidget(m_route);
    m_status = new QLabel(content);
    bar->addWidget(m_status, 1);
    layout->addLayout(bar);
    m_table = new QTableWidget(content);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setDefaultSectionSize(150);
    layout->addWidget(m_table, 1);
    set_content(content);
    attach_context_menu(m_table);
    connect(m_route, &QPushButton::clicked, this, [this]() { route_text(m_text->toPlainText()); });
    connect(m_table, &QTableWidget::cellClicked, this, [this](int row, int column) {
        click_cell(row, column, QGuiApplication::keyboardModifiers() & (Qt::ControlModifier | Qt::MetaModifier));
    });
    set_empty_text(tr("Open a model (Ctrl+O) to route typed text through it, or start a trace (Ctrl+R)."));
}

QWidget* TokenInspectorView::export_widget() const { return m_table; }

namespace {

constexpr int experts_role = Qt::UserRole;   // QList<int>: the cell's experts, first choice first

}  // namespace

void TokenInspectorView::click_cell(int row, int column, bool add) {
    const QTableWidgetItem* item = m_table->item(row, column);
    if (item == nullptr || column < 1 || column > static_cast<int>(m_layers.size())) return;
    const QList<int> experts = item->data(experts_role).value<QList<int>>();
    if (!experts.isEmpty()) emit expert_clicked(m_layers[static_cast<std::size_t>(column - 1)], experts.front(), add);
}

void TokenInspectorView::show_selection() {
    for (int c = 1; c < m_table->columnCount() && c <= static_cast<int>(m_layers.size()); ++c) {
        const std::vector<int> selected = selection() ? selection()->in_layer(m_layers[static_cast<std::size_t>(c - 1)])
                                                      : std::vector<int>{};
        for (int r = 0; r < m_table->rowCount(); ++r) {
            QTableWidgetItem* item = m_table->item(r, c);
            if (item == nullptr) continue;
            bool marked = false;
            for (int e : item->data(experts_role).value<QList<int>>())
                marked = marked || std::binary_search(selected.begin(), selected.end(), e);
            if (item->font().bold() == marked) continue;
            QFont font = item->font();
            font.setBold(marked);
            font.setUnderline(marked);
            item->setFont(font);
        }
    }
}

void TokenInspectorView::on_selection_changed() { show_selection(); }

int TokenInspectorView::bold_cells() const {
    int n = 0;
    for (int r = 0; r < m_table->rowCount(); ++r)
        for (int c = 1; c < m_table->columnCount(); ++c) n += m_table->item(r, c) && m_table->item(r, c)->font().bold();
    return n;
}

QString TokenInspectorView::cell_text(int row, int column) const {
    const QTableWidgetItem* item = m_table->item(row, column);
    return item ? item->text() : QString();
}

int TokenInspectorView::token_rows() const { return m_table->rowCount(); }

int TokenInspectorView::model_loads() const {
    if (!m_runner) return 0;
    std::lock_guard<std::mutex> lock(m_runner->mutex);
    return m_runner->loads;
}

void TokenInspectorView::set_model(std::shared_ptr<const sy::Model> model, QString device, QString dtype) {
    // Same model, device and dtype (a trace started on it): the loaded weights stay valid.
    if (!m_runner || model != m_model || device != m_device || dtype != m_dtype)
        m_runner = std::make_shared<RunnerSlot>();   // a running request keeps the old one
    m_model = std::move(model);
    m_device = std::move(device);
    m_dtype = std::move(dtype);
    m_routed.reset();
    set_content_always_visible(m_model != nullptr);   // the text box works before any trace
}

void TokenInspectorView::route_text(const QString& text) {
    if (!m_model) {
        emit failed(tr("open a model first (File → Open model, Ctrl+O)"));
        return;
    }
    if (m_busy || text.trimmed().isEmpty()) return;
    m_text->setPlainText(text);
    m_busy = true;
    m_route->setEnabled(false);
    m_status->setText(tr("routing…"));
    run_job<const RoutingSnapshot>(
        this,
        [model = m_model, text, device = m_device, dtype = m_dtype, slot = m_runner]() {
            return route(model, text, device, dtype, *slot);
        },
        [this](std::shared_ptr<const RoutingSnapshot> result) {
            m_busy = false;
            m_route->setEnabled(true);
            m_routed = std::move(result);
            m_status->setText(tr("%1 tokens").arg(m_routed->tokens));
            set_snapshot(m_routed);
            redraw_now();
            emit routed();
        },
        [this](QString message) {
            m_busy = false;
            m_route->setEnabled(true);
            m_status->setText(message);
            emit failed(message);
        });
}

bool TokenInspectorView::redraw(const RoutingSnapshot& snapshot) {
    // A live trace's snapshots replace the preview, never a routed text the user is reading.
    const RoutingSnapshot& shown = m_routed ? *m_routed : snapshot;
    fill_table(shown, m_routed ? shown.tokens : trace_preview_tokens);
    if (!m_routed) m_status->setText(tr("first %1 tokens of the trace; type text above to route your own").arg(m_table->rowCount()));
    return m_table->rowCount() > 0;
}

void TokenInspectorView::fill_table(const RoutingSnapshot& snapshot, int64_t max_tokens) {
    const int layers = snapshot.layers(), k = snapshot.shape.top_k, experts = snapshot.shape.max_experts();
    const int64_t rows = std::min(snapshot.kept_tokens(), max_tokens);
    const TokenBlock* first = snapshot.blocks.empty() ? nullptr : snapshot.blocks.front().get();
    if (&snapshot != m_routed.get() && first == m_preview_first && m_table->rowCount() == rows) return;   // unchanged preview
    m_preview_first = &snapshot == m_routed.get() ? nullptr : first;
    m_table->setUpdatesEnabled(false);
    m_table->clear();
    m_table->setRowCount(static_cast<int>(rows));
    m_table->setColumnCount(layers + 1);
    QStringList headers{tr("token")};
    m_layers = snapshot.shape.moe_layers;
    for (int l = 0; l < layers; ++l) headers << tr("layer %1").arg(snapshot.shape.moe_layers[static_cast<std::size_t>(l)]);
    m_table->setHorizontalHeaderLabels(headers);
    for (const auto& block : snapshot.blocks)
        for (int64_t t = 0; t < block->n && block->first_token + t < rows; ++t) {
            const int row = static_cast<int>(block->first_token + t);
            m_table->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(snapshot.token_text(block->ids[static_cast<std::size_t>(t)]))));
            for (int l = 0; l < layers; ++l) {
                QStringList parts;
                QList<int> cell_experts;
                const std::size_t at = static_cast<std::size_t>((t * layers + l) * k);
                for (int j = 0; j < k; ++j) {
                    parts << QStringLiteral("%1 (%2)").arg(block->topk_ids[at + j]).arg(block->topk_weights[at + j], 0, 'f', 2);
                    cell_experts << block->topk_ids[at + j];
                }
                auto* item = new QTableWidgetItem(parts.join(QStringLiteral(", ")));
                item->setData(experts_role, QVariant::fromValue(cell_experts));
                QColor color = expert_color(block->topk_ids[at], experts);
                color.setAlpha(90);
                item->setBackground(color);
                m_table->setItem(row, l + 1, item);
            }
        }
    show_selection();
    m_table->setUpdatesEnabled(true);
}

QString TokenInspectorView::csv() const {
    QString out = QStringLiteral("token");
    for (int c = 1; c < m_table->columnCount(); ++c) out += QLatin1Char(',') + m_table->horizontalHeaderItem(c)->text();
    out += QLatin1Char('\n');
    for (int r = 0; r < m_table->rowCount(); ++r) {
        QStringList cells;
        for (int c = 0; c < m_table->columnCount(); ++c) {
            QString text = m_table->item(r, c) ? m_table->item(r, c)->text() : QString();
            cells << QLatin1Char('"') + text.replace('"', QLatin1String("\"\"")) + QLatin1Char('"');
        }
        out += cells.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out;
}

}  // namespace sy::gui
