#include "edit_report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace sy::cli {
namespace {

std::string list(const std::vector<int>& values) {
    std::string text;
    for (int v : values) text += (text.empty() ? "" : ",") + std::to_string(v);
    return text.empty() ? "-" : text;
}

std::string groups(const std::vector<std::vector<int>>& groups) {
    std::string text;
    for (const auto& g : groups) {
        text += text.empty() ? "" : " ";
        for (std::size_t i = 0; i < g.size(); ++i) text += (i ? "+" : "") + std::to_string(g[i]);
    }
    return text.empty() ? "-" : text;
}

std::string megabytes(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
    return text;
}

void append(std::string& out, const char* format, ...) __attribute__((format(printf, 2, 3)));
void append(std::string& out, const char* format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    out += line;
}

void coverage(std::string& out, const ExpertScores& s) {
    append(out, "calibration: %lld tokens", static_cast<long long>(s.tokens));
    for (std::size_t d = 0; d < s.domains.size(); ++d)
        append(out, "%s %s %.1f%%", d ? "," : ":", s.domains[d].c_str(), 100.0 * double(s.domain_tokens[d]) / double(s.tokens));
    out += "\n";
}

void preview(std::string& out, const PreviewResult& p) {
    append(out, "preview on %lld tokens\n%-8s %22s\n", static_cast<long long>(p.tokens), "layer", "MoE output rel. error");
    for (std::size_t i = 0; i < p.layers.size(); ++i) append(out, "%-8d %22.6f\n", p.layers[i], p.relative_error[i]);
    append(out, "%-24s %10s %12s %12s %10s\n", "domain", "tokens", "nll_before", "nll_after", "change");
    auto row = [&](const std::string& name, const EvalStats& before, const EvalStats& after) {
        append(out, "%-24s %10lld %12.4f %12.4f %+9.2f%%\n", name.c_str(), static_cast<long long>(before.tokens), before.mean_nll,
               after.mean_nll, 100.0 * (after.mean_nll - before.mean_nll) / before.mean_nll);
    };
    for (const auto& [name, before] : p.before.domains) row(name, before, p.after.domains.at(name));
    row("all", p.before.all, p.after.all);
}

}  // namespace

std::string edit_report(const std::string& verb, const EditJobResult& result, const CalibrationScores& scores) {
    const EditSummary& s = result.summary;
    std::string out;
    append(out, "%s: %lld -> %lld experts per MoE layer\n", verb.c_str(), static_cast<long long>(s.experts_before),
           static_cast<long long>(s.experts_after));
    for (const std::string& note : result.plan.notes) append(out, "note: %s\n", note.c_str());
    append(out, "%-8s %-28s %-28s %s\n", "layer", "removed", "merged", "masked");
    for (const auto& l : s.layers)
        append(out, "%-8d %-28s %-28s %s\n", l.layer, list(l.removed).c_str(), groups(l.merged).c_str(), list(l.masked).c_str());
    const double saved = s.bytes_before > 0 ? 100.0 * double(int64_t(s.bytes_before) - int64_t(s.bytes_after)) / double(s.bytes_before) : 0;
    append(out, "tensor bytes: %s -> %s (%.1f%% saved)\n", megabytes(s.bytes_before).c_str(), megabytes(s.bytes_after).c_str(), saved);
    if (scores.scores) coverage(out, *scores.scores);
    if (result.preview) preview(out, *result.preview);
    return out;
}

int run_edit_and_report(const std::string& verb, const Model& model, const Recipe& recipe, const EditRecord& record,
                        const EditJobOptions& job, const CalibrationScores& scores, StderrProgress& progress,
                        const CancelToken& cancel) {
    const EditJobResult result = run_edit_job(model, recipe, record, job, scores, progress, cancel);
    progress.done();
    std::fputs(edit_report(verb, result, scores).c_str(), stdout);
    if (result.exported)
        std::printf("wrote %zu tensors (%.1f MB) to %s\n", result.exported->tensor_count,
                    double(result.exported->total_bytes) / 1e6, job.export_options.output_dir.c_str());
    return 0;
}

}  // namespace sy::cli
