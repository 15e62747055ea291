#pragma once
// Minimum-cost assignment (Hungarian method, O(n^2 m)) and its capacitated form used by the
// placement heuristic to re-place one layer's experts exactly given its neighbours.
#include <vector>

namespace sy::analysis {

// cost: [rows, cols] row-major, rows <= cols. Returns the column of each row.
std::vector<int> hungarian(const std::vector<double>& cost, int rows, int cols);

// cost: [items, groups]; every group takes exactly `capacity` items (items == groups *
// capacity). Returns the group of each item, minimising the total cost.
std::vector<int> assign_with_capacity(const std::vector<double>& cost, int items, int groups, int capacity);

}  // namespace sy::analysis
