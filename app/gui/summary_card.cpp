#include "summary_card.h"

#include <set>

#include "switchyard/core/model.h"

namespace sy::gui {

QString format_params(int64_t n) {
    if (n >= 1'000'000'000) return QString::number(n / 1e9, 'f', 2) + QLatin1Char('B');
    if (n >= 1'000'000) return QString::number(n / 1e6, 'f', 2) + QLatin1Char('M');
    if (n >= 1'000) return QString::number(n / 1e3, 'f', 1) + QLatin1Char('K');
    return QString::number(n);
}

SummaryCard::SummaryCard(QWidget* parent) : QLabel(parent) {
    setTextFormat(Qt::RichText);
    setWordWrap(true);
    setAlignment(Qt::AlignTop | Qt::AlignLeft);
    setMargin(6);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    clear_model();
}

void SummaryCard::clear_model() { setText(tr("<i>No model open.</i><br>File → Open model (Ctrl+O), or drop a model folder on the window.")); }

void SummaryCard::show_model(const sy::Model& model) {
    const ModelDescription& d = model.description;
    const ModelSummary summary = summarize(model);
    std::set<int64_t> expert_counts(d.num_experts.begin(), d.num_experts.end());
    QStringList experts, dtypes;
    for (int64_t e : expert_counts) experts << QString::number(e);
    for (const auto& [dtype, count] : summary.dtypes) dtypes << QStringLiteral("%1 ×%2").arg(QString::fromStdString(dtype)).arg(count);
    auto row = [](const QString& key, const QString& value) {
        return QStringLiteral("<tr><td style='color:gray;padding-right:8px'>%1</td><td>%2</td></tr>").arg(key, value);
    };
    QString html = QStringLiteral("<b style='font-size:12pt'>%1</b><table>")
                       .arg(QString::fromStdString(model.checkpoint.dir().filename().string()).toHtmlEscaped());
    html += row(tr("family"), QString::fromStdString(d.model_type));
    html += row(tr("layers"), tr("%1 (%2 MoE)").arg(d.num_layers).arg(d.moe_layers.size()));
    html += row(tr("experts"), d.moe_layers.empty() ? tr("dense") : tr("%1 per MoE layer, top-%2").arg(experts.join(QStringLiteral("/"))).arg(d.top_k));
    html += row(tr("shared"), QString::number(d.shared_expert_count));
    html += row(tr("hidden"), QString::number(d.hidden_size));
    html += row(tr("vocab"), QString::number(d.vocab_size));
    html += row(tr("params"), tr("%1 total / %2 active").arg(format_params(summary.params_total), format_params(summary.params_active)));
    html += row(tr("active"), tr("%1 without the input embedding").arg(format_params(summary.params_active_without_embedding)));
    html += row(tr("dtypes"), dtypes.join(QStringLiteral(", ")));
    html += row(tr("files"), tr("%1 (%2 tensors)").arg(summary.files.size()).arg(summary.tensor_count));
    setText(html + QStringLiteral("</table>"));
}

}  // namespace sy::gui
