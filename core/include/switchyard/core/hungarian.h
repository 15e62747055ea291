#pragma once
// Minimum-cost assignment (Hungarian method, O(n^2 m)). Lives in core because two libraries
// need it and neither may depend on the other: sy_analysis (torch-free) re-places experts with
// it, sy_compute matches intermediate neurons of two experts with it.
// Pure functions, any thread.
#include <vector>

namespace sy {

// cost: [rows, cols] row-major, rows <= cols. Returns the column of each row.
std::vector<int> hungarian(const std::vector<double>& cost, int rows, int cols);

// cost: [items, groups]; every group takes exactly `capacity` items (items == groups *
// capacity). Returns the group of each item, minimising the total cost.
std::vector<int> assign_with_capacity(const std::vector<double>& cost, int items, int groups, int capacity);

}  // namespace sy
