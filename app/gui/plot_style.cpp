#include "plot_style.h"

#include <algorithm>
#include <array>

namespace sy::gui {

namespace {

// Tableau 20 (categorical): pairs of strong / light hues.
constexpr std::array<QRgb, 20> tab20 = {
    0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
    0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xc7c7c7, 0xdbdb8d, 0x9edae5,
};
// Viridis anchors at t = 0, 0.25, 0.5, 0.75, 1.
constexpr std::array<QRgb, 5> viridis = {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725};

QColor viridis_at(double t) {
    t = std::clamp(t, 0.0, 1.0) * (viridis.size() - 1);
    const int i = std::min(static_cast<int>(t), static_cast<int>(viridis.size()) - 2);
    const double f = t - i;
    const QColor a(viridis[i]), b(viridis[i + 1]);
    return QColor::fromRgbF(static_cast<float>(a.redF() + f * (b.redF() - a.redF())),
                            static_cast<float>(a.greenF() + f * (b.greenF() - a.greenF())),
                            static_cast<float>(a.blueF() + f * (b.blueF() - a.blueF())));
}

}  // namespace

QColor expert_color(int expert, int expert_count) {
    if (expert < 0) return QColor(Qt::lightGray);
    if (expert_count <= static_cast<int>(tab20.size())) return QColor(tab20[static_cast<std::size_t>(expert) % tab20.size()]);
    return viridis_at(expert_count > 1 ? double(expert) / (expert_count - 1) : 0.0);
}

QCPColorGradient categorical_gradient(int count) {
    QCPColorGradient gradient;
    gradient.clearColorStops();
    count = std::max(count, 1);
    for (int i = 0; i < count; ++i)
        gradient.setColorStopAt(count > 1 ? double(i) / (count - 1) : 0.0, expert_color(i, count));
    if (count == 1) gradient.setColorStopAt(1.0, expert_color(0, 1));
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setLevelCount(std::max(count, 2));
    return gradient;
}

QCPColorGradient sequential_gradient() {
    QCPColorGradient gradient;
    gradient.clearColorStops();
    for (std::size_t i = 0; i < viridis.size(); ++i) gradient.setColorStopAt(double(i) / (viridis.size() - 1), QColor(viridis[i]));
    gradient.setLevelCount(256);
    return gradient;
}

void style_plot(QCustomPlot* plot) {
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->setNoAntialiasingOnDrag(true);
    plot->setContextMenuPolicy(Qt::CustomContextMenu);   // the view offers export
}

QCPColorScale* add_color_scale(QCustomPlot* plot, const QString& label) {
    auto* scale = new QCPColorScale(plot);
    plot->plotLayout()->addElement(0, 1, scale);
    scale->setType(QCPAxis::atRight);
    scale->axis()->setLabel(label);
    auto* margins = new QCPMarginGroup(plot);
    plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    return scale;
}

void integer_ticks(QCPAxis* axis) {
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    axis->setTicker(ticker);
}

namespace {

// QCPTextElement sizes itself to its text on one line, and a layout row cannot be narrower than
// its widest element, so a long title widened the plot past the window and was clipped at both
// ends. This one asks for the height of its text wrapped at the plot's width instead.
class WrappedTitle final : public QCPTextElement {
public:
    WrappedTitle(QCustomPlot* plot, const QFont& font) : QCPTextElement(plot, QString(), font) {
        setTextFlags(Qt::AlignCenter | Qt::TextWordWrap);
    }

protected:
    QSize minimumOuterSizeHint() const override { return {min_width, wrapped_height()}; }
    QSize maximumOuterSizeHint() const override { return {QWIDGETSIZE_MAX, wrapped_height()}; }

private:
    static constexpr int min_width = 80;

    // The viewport is the size being laid out (the widget, or an export's requested size), less
    // the other columns of the grid (a colour scale keeps its width from the last layout).
    int available_width() const {
        int width = mParentPlot->viewport().width() - mMargins.left() - mMargins.right();
        if (auto* grid = qobject_cast<QCPLayoutGrid*>(layout())) {
            for (int c = 0; c < grid->columnCount(); ++c) {
                int column = 0;
                bool mine = false;
                for (int r = 0; r < grid->rowCount(); ++r) {
                    if (!grid->hasElement(r, c)) continue;
                    const QCPLayoutElement* e = grid->element(r, c);
                    mine = mine || e == this;
                    if (e != this) column = std::max(column, e->outerRect().width());
                }
                if (!mine) width -= column + grid->columnSpacing();
            }
        }
        return std::max(min_width, width);
    }

    int wrapped_height() const {
        const int width = available_width();
        const QRect text = QFontMetrics(mFont).boundingRect(QRect(0, 0, width, 1 << 20), mTextFlags, mText);
        return text.height() + mMargins.top() + mMargins.bottom();
    }
};

}  // namespace

QCPTextElement* add_title(QCustomPlot* plot) {
    plot->plotLayout()->insertRow(0);
    auto* title = new WrappedTitle(plot, QFont(plot->font().family(), 10, QFont::Bold));
    plot->plotLayout()->addElement(0, 0, title);
    return title;
}

}  // namespace sy::gui
