// Training log: round trip of step and held-out rows (with the per-layer load CV), resume drops
// the rows after the kept step, mismatched streams and row widths are refused, h5py reads the
// file, and a log without MoE layers has no load columns.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "switchyard/core/errors.h"
#include "switchyard/core/training_log.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using sy::test::TempDir;

namespace {

sy::TrainingLogMeta meta() {
    sy::TrainingLogMeta m;
    m.command_line = "switchyard unlearn m --forget f.jsonl --retain r.jsonl -o out";
    m.model_path = "/models/m";
    m.model_fingerprint = "abc";
    m.run_json = R"({"steps": 3})";
    m.streams = {"forget", "retain"};
    m.routing = {"anchor L1:E2"};
    m.load_layers = {1, 3};
    return m;
}

sy::TrainingStepRow row(int64_t step) {
    sy::TrainingStepRow r;
    r.step = step;
    r.lr = 1e-4 * double(step);
    r.loss = 2.0 - 0.1 * double(step);
    r.stream_loss = {1.5 + double(step), 2.5};
    r.routing_loss = {0.25 * double(step)};
    r.load_cv = {1.0 / double(step), 0.5};
    r.grad_norm = 0.5;
    r.tokens = 4096;
    r.tokens_per_second = 1000.0 + double(step);
    r.seconds = double(step);
    return r;
}

}  // namespace

TEST(TrainingLog, RoundTripsRows) {
    TempDir tmp;
    const fs::path path = tmp.path() / "training-log.h5";
    {
        sy::TrainingLog log = sy::TrainingLog::create(path, meta(), false);
        log.append(sy::HeldoutRow{0, {3.0, std::nan("")}});
        for (int64_t s = 1; s <= 3; ++s) log.append(row(s));
        log.append(sy::HeldoutRow{3, {3.5, 2.0}});
        log.close();
    }
    const sy::TrainingLogContents c = sy::read_training_log(path);
    EXPECT_EQ(c.meta.streams, meta().streams);
    EXPECT_EQ(c.meta.routing, meta().routing);
    EXPECT_EQ(c.meta.run_json, meta().run_json);
    ASSERT_EQ(c.steps.size(), 3u);
    EXPECT_EQ(c.steps[2].step, 3);
    EXPECT_DOUBLE_EQ(c.steps[2].lr, 3e-4);
    EXPECT_EQ(c.steps[1].stream_loss, (std::vector<double>{3.5, 2.5}));
    EXPECT_EQ(c.steps[2].routing_loss, (std::vector<double>{0.75}));
    EXPECT_EQ(c.meta.load_layers, (std::vector<int32_t>{1, 3}));
    EXPECT_EQ(c.steps[1].load_cv, (std::vector<double>{0.5, 0.5}));
    EXPECT_EQ(c.steps[0].tokens, 4096);
    ASSERT_EQ(c.heldout.size(), 2u);
    EXPECT_EQ(c.heldout[0].step, 0);
    EXPECT_TRUE(std::isnan(c.heldout[0].nll[1]));
    EXPECT_EQ(c.heldout[1].nll, (std::vector<double>{3.5, 2.0}));
}

TEST(TrainingLog, ResumeDropsRowsAfterTheKeptStep) {
    TempDir tmp;
    const fs::path path = tmp.path() / "log.h5";
    {
        sy::TrainingLog log = sy::TrainingLog::create(path, meta(), false);
        for (int64_t s = 1; s <= 5; ++s) log.append(row(s));
        log.append(sy::HeldoutRow{4, {1.0, 1.0}});
    }   // no close(): the destructor path, as when a run stops on an exception
    {
        sy::TrainingLog log = sy::TrainingLog::resume(path, meta(), 3);
        log.append(row(4));
        log.close();
    }
    const sy::TrainingLogContents c = sy::read_training_log(path);
    ASSERT_EQ(c.steps.size(), 4u);
    EXPECT_EQ(c.steps[3].step, 4);
    EXPECT_TRUE(c.heldout.empty());
}

TEST(TrainingLog, RefusesMismatches) {
    TempDir tmp;
    const fs::path path = tmp.path() / "log.h5";
    sy::TrainingLog log = sy::TrainingLog::create(path, meta(), false);
    sy::TrainingStepRow bad = row(1);
    bad.stream_loss.pop_back();
    EXPECT_THROW(log.append(bad), sy::ShapeMismatch);
    bad = row(1);
    bad.load_cv.pop_back();
    EXPECT_THROW(log.append(bad), sy::ShapeMismatch);
    log.close();
    EXPECT_THROW(sy::TrainingLog::create(path, meta(), false), sy::UsageError);
    sy::TrainingLogMeta other = meta();
    other.streams = {"train"};
    EXPECT_THROW(sy::TrainingLog::resume(path, other, 0), sy::UsageError);
    other = meta();
    other.load_layers = {1};
    EXPECT_THROW(sy::TrainingLog::resume(path, other, 0), sy::UsageError);
    std::ofstream(tmp.path() / "not.h5") << "text";
    EXPECT_THROW(sy::read_training_log(tmp.path() / "not.h5"), sy::Error);
}

TEST(TrainingLog, H5pyReadsIt) {
    if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) GTEST_SKIP() << "no h5py";
    TempDir tmp;
    const fs::path path = tmp.path() / "log.h5";
    {
        sy::TrainingLog log = sy::TrainingLog::create(path, meta(), false);
        for (int64_t s = 1; s <= 2; ++s) log.append(row(s));
        log.close();
    }
    const std::string script =
        "import h5py, sys\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "assert f.attrs['format'] in (b'switchyard-training-log', 'switchyard-training-log')\n"
        "assert list(f['steps/step'][:]) == [1, 2]\n"
        "assert f['steps/stream_loss'].shape == (2, 2)\n"
        "assert [s.decode() for s in f['steps/stream_names'][:]] == ['forget', 'retain']\n"
        "assert f.attrs['format_version'] == 2\n"
        "assert list(f['steps/load_layers'][:]) == [1, 3]\n"
        "assert f['steps/load_cv'].shape == (2, 2) and f['steps/load_cv'][1, 0] == 0.5\n";
    std::ofstream(tmp.path() / "check.py") << script;
    EXPECT_EQ(std::system(("/usr/bin/python3 " + (tmp.path() / "check.py").string() + " " + path.string()).c_str()), 0);
}

TEST(TrainingLog, ADenseRunHasNoLoadColumns) {
    TempDir tmp;
    const fs::path path = tmp.path() / "log.h5";
    sy::TrainingLogMeta m = meta();
    m.load_layers.clear();
    {
        sy::TrainingLog log = sy::TrainingLog::create(path, m, false);
        sy::TrainingStepRow r = row(1);
        r.load_cv.clear();
        log.append(r);
        log.close();
    }
    const sy::TrainingLogContents c = sy::read_training_log(path);
    EXPECT_TRUE(c.meta.load_layers.empty());
    ASSERT_EQ(c.steps.size(), 1u);
    EXPECT_TRUE(c.steps[0].load_cv.empty());
}
