#pragma once
// Draws progress updates on a stream in one of the CLI's styles (app/cli/progress_stderr.h picks
// the style and the stream). Separate from the flags and signals so tests can drive it with their
// own clock and stream.
#include <cstdint>
#include <cstdio>
#include <string>

#include "switchyard/core/progress.h"

namespace sy::cli {

enum class ProgressStyle {
    bar,    // one line redrawn with '\r' (a terminal)
    log,    // a plain line at most every few seconds (a log file, a pipe)
    json,   // one JSON object per line (scripts, notebooks, job schedulers)
    none,
};

// Times are seconds on any monotonic clock. Lines are throttled here (style.md rule 8): at most
// one per 0.1 s (bar), 0.5 s (json) or log_interval_s (log), besides the first update and each
// stage's first and last (fraction 1); finish() prints the latest update if it was held back.
class ProgressPrinter {
public:
    ProgressPrinter(ProgressStyle style, std::FILE* out, double start_s, double log_interval_s = 5.0);
    void update(const ProgressUpdate& u, double now_s);
    // Prints the latest update if it was held back and ends a bar's line. Idempotent.
    void finish(double now_s);

private:
    struct Shown {
        std::string stage, unit, text;
        double fraction = 0;
        int64_t done = -1, total = -1;
        double time = 0;   // when it was reported: lines describe that moment, not when they are printed
    };
    void print(double now_s);
    std::string human_line() const;
    std::string json_line() const;

    ProgressStyle m_style;
    std::FILE* m_out;
    double m_start, m_interval;
    Shown m_last;   // the latest update
    bool m_any = false, m_pending = false, m_stage_finished = false;
    double m_last_print = 0;
    // Rate and ETA are measured from the start of the current stage: a resumed trace starts with
    // its earlier tokens done, which must not count as speed.
    double m_base_time = 0, m_base_fraction = 0;
    int64_t m_base_done = 0;
    double m_rate = -1, m_eta = -1;   // -1: not known yet
    std::size_t m_bar_width = 0;      // characters of the bar line now on screen
};

}  // namespace sy::cli
