// Streaming: any split of a trace into chunks gives exactly the one-shot results.
#include <gtest/gtest.h>

#include "planted_trace.h"
#include "switchyard/analysis/affinity.h"
#include "switchyard/analysis/compare.h"
#include "switchyard/analysis/stats.h"

namespace sy::analysis {
namespace {

StatsOptions stats_options() {
    StatsOptions o;
    o.window_tokens = 64;
    o.domain_names = {"a", "b", "c"};
    o.position_bucket_tokens = 8;
    o.min_token_count = 2;
    return o;
}

class Chunking : public ::testing::TestWithParam<int> {};

TEST_P(Chunking, StatsEqualOneShot) {
    const testing::Trace tr = testing::random_trace(4, 8, 2, 3000, 200, 3, 42);
    StatsAccumulator whole(tr.shape, stats_options());
    whole.add(tr.buffer.view());
    StatsAccumulator parts(tr.shape, stats_options());
    for (const RoutingChunkBuffer& c : testing::random_chunks(tr, GetParam(), 7 + GetParam())) parts.add(c.view());
    const std::string expected = stats_to_json(whole.finish(), {});
    EXPECT_EQ(stats_to_json(parts.finish(), {}), expected);
    EXPECT_NE(expected.find("lbl_windows"), std::string::npos);
}

TEST_P(Chunking, AffinityEqualOneShot) {
    const testing::Trace tr = testing::random_trace(4, 8, 2, 3000, 200, 3, 43);
    for (AffinityConvention c : {AffinityConvention::first, AffinityConvention::all_pairs, AffinityConvention::weighted}) {
        const AffinityOptions options{c, 2, 2};
        AffinityAccumulator whole(tr.shape, options);
        whole.add(tr.buffer.view());
        AffinityAccumulator parts(tr.shape, options);
        for (const RoutingChunkBuffer& ch : testing::random_chunks(tr, GetParam(), 3)) parts.add(ch.view());
        EXPECT_EQ(affinity_to_json(parts.finish()), affinity_to_json(whole.finish())) << convention_name(c);
    }
}

TEST_P(Chunking, CompareEqualOneShot) {
    const testing::Trace a = testing::random_trace(3, 8, 2, 2000, 100, 2, 5);
    testing::Trace b = testing::random_trace(3, 8, 2, 2000, 100, 2, 6);
    b.buffer.token_ids = a.buffer.token_ids;
    CompareAccumulator whole(a.shape, b.shape, 10);
    whole.add(a.buffer.view(), b.buffer.view());
    CompareAccumulator parts(a.shape, b.shape, 10);
    const auto chunks = testing::random_chunks(a, GetParam(), 9);
    for (const RoutingChunkBuffer& ca : chunks) {
        const RoutingChunkBuffer cb = b.buffer.slice(b.shape, ca.first_token, ca.first_token + ca.n);
        parts.add(ca.view(), cb.view());
    }
    EXPECT_EQ(compare_to_json(parts.finish(), {}), compare_to_json(whole.finish(), {}));
}

INSTANTIATE_TEST_SUITE_P(MaxChunk, Chunking, ::testing::Values(1, 7, 100, 5000));

}  // namespace
}  // namespace sy::analysis
