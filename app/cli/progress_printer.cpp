#include "progress_printer.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "switchyard/core/human_format.h"

namespace sy::cli {
namespace {

std::string percent(double fraction) {
    char text[16];
    std::snprintf(text, sizeof text, "%5.1f%%", 100.0 * std::clamp(fraction, 0.0, 1.0));
    return text;
}

// "12,288 / 16,384 tokens", "1.20 GB / 2.70 GB"
std::string counts(int64_t done, int64_t total, const std::string& unit) {
    const auto amount = [&](int64_t n) { return unit == "bytes" ? format_bytes(uint64_t(n)) : format_count(n); };
    std::string out = amount(done);
    if (total >= 0) out += " / " + amount(total);
    if (unit != "bytes") out += " " + unit;
    return out;
}

// "3,104 tok/s" (the unit name the progress lines have always used), "45.6 MB/s", "0.72 pairs/s"
std::string rate_text(double rate, const std::string& unit) {
    if (unit == "bytes") return format_bytes(uint64_t(rate)) + "/s";
    char number[32];
    if (rate >= 100) std::snprintf(number, sizeof number, "%s", format_count(std::llround(rate)).c_str());
    else std::snprintf(number, sizeof number, "%.3g", rate);
    return std::string(number) + (unit == "tokens" ? " tok/s" : " " + unit + "/s");
}

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(' ');
    return first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// Dividing by a power of ten gives the double nearest to the decimal, which JSON prints short.
double rounded(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

}  // namespace

ProgressPrinter::ProgressPrinter(ProgressStyle style, std::FILE* out, double start_s, double log_interval_s)
    : m_style(style), m_out(out), m_start(start_s), m_interval(log_interval_s) {}

void ProgressPrinter::update(const ProgressUpdate& u, double now_s) {
    if (m_style == ProgressStyle::none) return;
    // A new stage (or a count or fraction going back) restarts the rate. Updates without counts
    // may carry their numbers in the stage text, so only a fraction going back restarts those.
    const bool new_stage = m_any && u.done >= 0 && u.stage != m_last.stage;
    const bool restart = !m_any || new_stage || u.fraction < m_last.fraction || (u.done >= 0 && u.done < m_last.done);
    if (restart) {
        m_base_time = now_s;
        m_base_fraction = u.fraction;
        m_base_done = std::max<int64_t>(u.done, 0);
        m_stage_finished = false;
    }
    m_last = {std::string(u.stage), std::string(u.unit), std::string(u.text), u.fraction, u.done, u.total, now_s};
    const double elapsed = now_s - m_base_time;
    m_rate = u.done >= 0 && elapsed > 0 && u.done > m_base_done ? double(u.done - m_base_done) / elapsed : -1;
    if (u.fraction >= 1) m_eta = 0;
    else if (elapsed > 0 && u.fraction > m_base_fraction)
        m_eta = elapsed * (1 - u.fraction) / (u.fraction - m_base_fraction);
    else m_eta = -1;

    const bool first = !m_any, stage_end = u.fraction >= 1 && !m_stage_finished;
    m_any = m_pending = true;
    m_stage_finished |= stage_end;
    const double gap = m_style == ProgressStyle::bar ? 0.1 : m_style == ProgressStyle::json ? 0.5 : m_interval;
    if (first || new_stage || stage_end || now_s - m_last_print >= gap) print(now_s);
}

void ProgressPrinter::finish(double now_s) {
    if (m_style == ProgressStyle::none) return;
    if (m_pending) print(now_s);
    if (m_bar_width > 0) std::fputc('\n', m_out);
    m_bar_width = 0;
    std::fflush(m_out);
}

void ProgressPrinter::print(double now_s) {
    m_last_print = now_s;
    m_pending = false;
    std::string line;
    switch (m_style) {
        case ProgressStyle::bar: {
            // Redrawn in place: pad with blanks over whatever the previous, longer line left.
            line = human_line();
            const std::size_t width = line.size();
            if (width < m_bar_width) line.append(m_bar_width - width, ' ');
            m_bar_width = width;
            line = "\r" + line;
            break;
        }
        case ProgressStyle::log:
            line = "[" + format_duration(m_last.time - m_start) + "] " + human_line() + "\n";
            break;
        case ProgressStyle::json:
            line = json_line() + "\n";
            break;
        case ProgressStyle::none:
            return;
    }
    std::fputs(line.c_str(), m_out);
    std::fflush(m_out);
}

std::string ProgressPrinter::human_line() const {
    std::string line = m_last.done >= 0 ? m_last.stage + "  " + counts(m_last.done, m_last.total, m_last.unit)
                                        : trimmed(m_last.text.empty() ? m_last.stage : m_last.text);
    line += "  " + percent(m_last.fraction);
    if (m_rate >= 0) line += "  " + rate_text(m_rate, m_last.unit);
    if (m_eta >= 0 && m_last.fraction < 1) line += "  ETA " + format_duration(m_eta);
    return line;
}

std::string ProgressPrinter::json_line() const {
    const auto known = [](auto value, auto json_value) {
        return value >= 0 ? nlohmann::ordered_json(json_value) : nlohmann::ordered_json(nullptr);
    };
    const nlohmann::ordered_json line{
        {"stage", m_last.stage},
        {"done", known(m_last.done, m_last.done)},
        {"total", known(m_last.total, m_last.total)},
        {"unit", m_last.unit.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m_last.unit)},
        {"rate", known(m_rate, rounded(m_rate, 2))},
        {"eta_s", known(m_eta, rounded(m_eta, 1))},
        {"fraction", rounded(std::clamp(m_last.fraction, 0.0, 1.0), 6)},
        {"elapsed_s", rounded(m_last.time - m_start, 2)},
    };
    return line.dump();
}

}  // namespace sy::cli
