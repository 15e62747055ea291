// The CLI's progress styles, driven with a fake clock: JSON lines carry the documented fields
// with a rate measured from the stage's start, log lines come at most every few seconds and
// never redraw, the bar redraws one line, and whatever was held back is printed at the end.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "progress_printer.h"

using sy::ProgressUpdate;
using sy::cli::ProgressPrinter;
using sy::cli::ProgressStyle;

namespace {

// A FILE* the printer writes to, read back as text.
class Capture {
public:
    Capture() : m_file(std::tmpfile()) {}
    ~Capture() { std::fclose(m_file); }
    std::FILE* file() { return m_file; }
    std::string text() {
        std::fflush(m_file);
        std::rewind(m_file);
        std::string out;
        for (int c; (c = std::fgetc(m_file)) != EOF;) out += static_cast<char>(c);
        return out;
    }
    std::vector<std::string> lines() {
        std::vector<std::string> out;
        std::istringstream in(text());
        for (std::string line; std::getline(in, line);) out.push_back(line);
        return out;
    }

private:
    std::FILE* m_file;
};

// A trace of `seconds` s reporting every 1/16 s (exact in binary) at 2,000 tokens/s out of
// `total` tokens, starting at t = 100 s.
void feed_tokens(ProgressPrinter& printer, double seconds, int64_t total, int64_t start_done = 0) {
    for (int i = 0; i <= int(seconds * 16); ++i) {
        const double t = 100.0 + i / 16.0;
        const int64_t done = start_done + i * 125;
        printer.update({"trace", double(done) / double(total), done, total, "tokens", "human text"}, t);
    }
}

}  // namespace

TEST(ProgressPrinter, JsonLinesHaveTheDocumentedFieldsAndAreThrottled) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::json, out.file(), 100.0);
    feed_tokens(printer, 10.0, 20000);
    printer.finish(110.0);
    const std::vector<std::string> lines = out.lines();
    // 10 s at one line per 0.5 s, plus the first; the last update (fraction 1) always passes.
    ASSERT_GE(lines.size(), 20u);
    EXPECT_LE(lines.size(), 22u);
    double previous_elapsed = -1, previous_fraction = -1;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto j = nlohmann::ordered_json::parse(lines[i]);
        std::vector<std::string> keys;
        for (const auto& item : j.items()) keys.push_back(item.key());
        EXPECT_EQ(keys, (std::vector<std::string>{"stage", "done", "total", "unit", "rate", "eta_s", "fraction",
                                                  "elapsed_s"}));
        EXPECT_EQ(j["stage"], "trace");
        EXPECT_EQ(j["unit"], "tokens");
        EXPECT_EQ(j["total"], 20000);
        EXPECT_GE(j["fraction"].get<double>(), previous_fraction);
        if (i > 0 && i + 1 < lines.size()) EXPECT_GE(j["elapsed_s"].get<double>() - previous_elapsed, 0.5 - 1e-6);
        previous_elapsed = j["elapsed_s"].get<double>();
        previous_fraction = j["fraction"].get<double>();
        if (i == 0) {
            EXPECT_TRUE(j["rate"].is_null()) << "nothing measured yet";
            EXPECT_TRUE(j["eta_s"].is_null());
        } else {
            EXPECT_NEAR(j["rate"].get<double>(), 2000.0, 20.0) << lines[i];
            const double left = (20000.0 - j["done"].get<double>()) / 2000.0;
            EXPECT_NEAR(j["eta_s"].get<double>(), left, 0.15) << lines[i];
        }
    }
    const auto last = nlohmann::json::parse(lines.back());
    EXPECT_EQ(last["done"], 20000);
    EXPECT_EQ(last["fraction"], 1.0);
    EXPECT_EQ(last["eta_s"], 0.0);
}

TEST(ProgressPrinter, RateCountsOnlyThisRunsWork) {
    // A resumed trace starts with 50,000 tokens already in the file.
    Capture out;
    ProgressPrinter printer(ProgressStyle::json, out.file(), 100.0);
    feed_tokens(printer, 2.0, 60000, 50000);
    printer.finish(102.0);
    const auto last = nlohmann::json::parse(out.lines().back());
    EXPECT_EQ(last["done"], 54000);
    EXPECT_NEAR(last["rate"].get<double>(), 2000.0, 1.0);
    EXPECT_NEAR(last["eta_s"].get<double>(), 3.0, 0.05) << "6,000 tokens left at 2,000/s";
}

TEST(ProgressPrinter, NewStageRestartsTheRate) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::json, out.file(), 0.0);
    printer.update({"similarity: aligning experts", 0.0, 0, 28, "pairs"}, 0.0);
    printer.update({"similarity: aligning experts", 1.0, 28, 28, "pairs"}, 14.0);
    printer.update({"similarity: outputs", 0.0, 0, 1000, "tokens"}, 14.0);
    printer.update({"similarity: outputs", 0.5, 500, 1000, "tokens"}, 15.0);
    printer.finish(15.0);
    const std::vector<std::string> lines = out.lines();
    ASSERT_EQ(lines.size(), 4u);
    const auto pairs = nlohmann::json::parse(lines[1]), tokens = nlohmann::json::parse(lines[3]);
    EXPECT_NEAR(pairs["rate"].get<double>(), 2.0, 1e-9);
    EXPECT_EQ(tokens["stage"], "similarity: outputs");
    EXPECT_NEAR(tokens["rate"].get<double>(), 500.0, 1e-9);
    EXPECT_NEAR(tokens["eta_s"].get<double>(), 1.0, 1e-9);
}

TEST(ProgressPrinter, FractionOnlyUpdatesGiveNullCounts) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::json, out.file(), 0.0);
    printer.update({"placement search", 0.0}, 0.0);
    printer.update({"placement search", 0.25}, 1.0);
    printer.finish(1.0);
    const auto j = nlohmann::json::parse(out.lines().back());
    EXPECT_TRUE(j["done"].is_null());
    EXPECT_TRUE(j["total"].is_null());
    EXPECT_TRUE(j["unit"].is_null());
    EXPECT_TRUE(j["rate"].is_null());
    EXPECT_NEAR(j["eta_s"].get<double>(), 3.0, 1e-9);
    EXPECT_EQ(j["fraction"], 0.25);
}

TEST(ProgressPrinter, LogLinesAtMostEveryFewSecondsWithoutRedraws) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::log, out.file(), 100.0, 5.0);
    feed_tokens(printer, 60.0, 120000);
    printer.finish(160.0);
    const std::string text = out.text();
    EXPECT_EQ(text.find('\r'), std::string::npos);
    const std::vector<std::string> lines = out.lines();
    // The first line, one per 5 s for 60 s, the last; never more.
    EXPECT_GE(lines.size(), 12u);
    EXPECT_LE(lines.size(), 14u);
    EXPECT_EQ(lines.front(), "[0:00] trace  0 / 120,000 tokens    0.0%");
    EXPECT_EQ(lines[1], "[0:05] trace  10,000 / 120,000 tokens    8.3%  2,000 tok/s  ETA 0:55");
    EXPECT_EQ(lines.back(), "[1:00] trace  120,000 / 120,000 tokens  100.0%  2,000 tok/s");
}

TEST(ProgressPrinter, LogPrintsTheHeldBackUpdateWhenFinished) {
    // A run cancelled (or failing) between two log lines still shows how far it got.
    Capture out;
    ProgressPrinter printer(ProgressStyle::log, out.file(), 0.0, 5.0);
    printer.update({"export", 0.0, 0, 4'000'000'000, "bytes"}, 0.0);
    printer.update({"export", 0.25, 1'000'000'000, 4'000'000'000, "bytes"}, 2.0);
    EXPECT_EQ(out.lines().size(), 1u);
    printer.finish(2.5);
    printer.finish(3.0);   // idempotent
    const std::vector<std::string> lines = out.lines();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1], "[0:02] export  1.00 GB / 4.00 GB   25.0%  500.0 MB/s  ETA 0:06");
}

TEST(ProgressPrinter, BarRedrawsOneLineAndEndsIt) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::bar, out.file(), 0.0);
    printer.update({"stats", 0.0, 0, 1'000'000, "tokens"}, 0.0);
    printer.update({"stats", 0.5, 500'000, 1'000'000, "tokens"}, 1.0);
    printer.update({"stats", 0.51, 510'000, 1'000'000, "tokens"}, 1.05);   // within 0.1 s: held back
    printer.update({"stats", 1.0, 1'000'000, 1'000'000, "tokens"}, 2.0);
    printer.finish(2.0);
    EXPECT_EQ(out.text(),
              "\rstats  0 / 1,000,000 tokens    0.0%"
              "\rstats  500,000 / 1,000,000 tokens   50.0%  500,000 tok/s  ETA 0:01"
              "\rstats  1,000,000 / 1,000,000 tokens  100.0%  500,000 tok/s        \n");
}

TEST(ProgressPrinter, ReportWithTextOnlyShowsTheText) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::log, out.file(), 0.0);
    printer.update({"placement MIP (GLPK)", 0.5}, 0.0);
    printer.finish(0.0);
    EXPECT_EQ(out.text(), "[0:00] placement MIP (GLPK)   50.0%\n");
}

TEST(ProgressPrinter, NonePrintsNothing) {
    Capture out;
    ProgressPrinter printer(ProgressStyle::none, out.file(), 0.0);
    feed_tokens(printer, 1.0, 2000);
    printer.finish(1.0);
    EXPECT_EQ(out.text(), "");
}

TEST(ProgressPrinter, JsonNumbersArePrintedShort) {
    // 0.46887199999999996 and 1.4000000000000001 are what naive rounding prints.
    Capture out;
    ProgressPrinter printer(ProgressStyle::json, out.file(), 10.0);
    printer.update({"trace", 0.0, 0, 8192, "tokens"}, 10.0);
    printer.update({"trace", 3841.0 / 8192.0, 3841, 8192, "tokens"}, 11.4);
    printer.finish(11.4);
    EXPECT_EQ(out.lines().back(),
              R"({"stage":"trace","done":3841,"total":8192,"unit":"tokens","rate":2743.57,"eta_s":1.6,)"
              R"("fraction":0.468872,"elapsed_s":1.4})");
}
