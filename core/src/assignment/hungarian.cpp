#include "switchyard/core/hungarian.h"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace sy {

// Shortest augmenting path with potentials (the classic e-maxx formulation), 1-based inside.
std::vector<int> hungarian(const std::vector<double>& cost, int rows, int cols) {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> u(rows + 1, 0.0), v(cols + 1, 0.0);
    std::vector<int> match(cols + 1, 0), way(cols + 1, 0);   // match[j]: row assigned to column j
    std::vector<double> min_slack(cols + 1);
    std::vector<char> used(cols + 1);
    for (int i = 1; i <= rows; ++i) {
        match[0] = i;
        int j0 = 0;
        std::fill(min_slack.begin(), min_slack.end(), inf);
        std::fill(used.begin(), used.end(), 0);
        do {
            used[j0] = 1;
            const int i0 = match[j0];
            const double* row = cost.data() + static_cast<size_t>(i0 - 1) * cols;
            double delta = inf;
            int j1 = 0;
            for (int j = 1; j <= cols; ++j) {
                if (used[j]) continue;
                const double cur = row[j - 1] - u[i0] - v[j];
                if (cur < min_slack[j]) {
                    min_slack[j] = cur;
                    way[j] = j0;
                }
                if (min_slack[j] < delta) {
                    delta = min_slack[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= cols; ++j) {
                if (used[j]) {
                    u[match[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            j0 = j1;
        } while (match[j0] != 0);
        do {
            const int j1 = way[j0];
            match[j0] = match[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    std::vector<int> col_of_row(rows, -1);
    for (int j = 1; j <= cols; ++j) {
        if (match[j] != 0) col_of_row[match[j] - 1] = j - 1;
    }
    return col_of_row;
}

std::vector<int> assign_with_capacity(const std::vector<double>& cost, int items, int groups, int capacity) {
    const int slots = groups * capacity;
    std::vector<double> expanded(static_cast<size_t>(items) * slots);
    for (int i = 0; i < items; ++i)
        for (int s = 0; s < slots; ++s)
            expanded[static_cast<size_t>(i) * slots + s] = cost[static_cast<size_t>(i) * groups + s / capacity];
    std::vector<int> slot = hungarian(expanded, items, slots);
    for (int& s : slot) s /= capacity;
    return slot;
}

}  // namespace sy
