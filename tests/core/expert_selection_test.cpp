// "L:E" lists and "L:a+b" groups as typed on the command line.
#include <gtest/gtest.h>

#include "switchyard/core/errors.h"
#include "switchyard/core/expert_selection.h"

using namespace sy;

TEST(ExpertSelection, ParsesListsSortedPerLayer) {
    const ExpertsByLayer e = parse_layer_experts("3:5, 1:2,3:1", "--experts");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e.at(1), std::vector<int>({2}));
    EXPECT_EQ(e.at(3), std::vector<int>({1, 5}));
    EXPECT_EQ(format_layer_experts(e), "1:2,3:1,3:5");
}

TEST(ExpertSelection, ParsesGroupsInGivenOrder) {
    const ExpertGroupsByLayer g = parse_expert_groups("0:3+1,0:4+5+6,2:0+7", "--groups");
    ASSERT_EQ(g.at(0).size(), 2u);
    EXPECT_EQ(g.at(0)[0], std::vector<int>({3, 1}));
    EXPECT_EQ(g.at(0)[1], std::vector<int>({4, 5, 6}));
    EXPECT_EQ(format_expert_groups(g), "0:3+1,0:4+5+6,2:0+7");
}

TEST(ExpertSelection, RejectsMalformedAndRepeated) {
    for (const char* bad : {"3", "3:x", "-1:2", "3:", ":4", "3:1,3:1"})
        EXPECT_THROW(parse_layer_experts(bad, "--experts"), UsageError) << bad;
    for (const char* bad : {"0:1", "0:1+1", "0:1+2,0:2+3", "0:1+x"}) EXPECT_THROW(parse_expert_groups(bad, "--groups"), UsageError) << bad;
    try {
        parse_expert_groups("0:1+2,0:2+3", "--groups");
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("more than one group"), std::string::npos) << e.what();
    }
}
