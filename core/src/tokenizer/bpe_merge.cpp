#include "bpe_merge.h"

#include <queue>

namespace sy::tok {
namespace {

struct Symbol {
    int32_t id;
    int32_t prev;  // index of the previous live symbol, -1 at the start
    int32_t next;  // index of the next live symbol, -1 at the end
    bool alive;
};

struct Candidate {
    int32_t rank;
    int32_t pos;  // index of the left symbol; original positions keep "leftmost on ties"
    int32_t new_id;
    bool operator>(const Candidate& other) const {
        return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
};

using Heap = std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>>;

void push_pair(Heap& heap, const std::vector<Symbol>& symbols, int32_t left, const MergeTable& merges) {
    const int32_t right = symbols[left].next;
    if (right < 0) return;
    const auto it = merges.find(merge_key(symbols[left].id, symbols[right].id));
    if (it != merges.end()) heap.push({it->second.rank, left, it->second.new_id});
}

}  // namespace

void merge_symbols(std::vector<int32_t>& ids, const MergeTable& merges) {
    if (ids.size() < 2) return;
    const auto n = static_cast<int32_t>(ids.size());
    std::vector<Symbol> symbols(ids.size());
    for (int32_t i = 0; i < n; ++i) symbols[i] = {ids[i], i - 1, i + 1 < n ? i + 1 : -1, true};

    Heap heap;
    for (int32_t i = 0; i + 1 < n; ++i) push_pair(heap, symbols, i, merges);

    while (!heap.empty()) {
        const Candidate top = heap.top();
        heap.pop();
        Symbol& left = symbols[top.pos];
        if (!left.alive || left.next < 0) continue;
        // Stale entry: the pair at this position changed since it was pushed.
        const auto it = merges.find(merge_key(left.id, symbols[left.next].id));
        if (it == merges.end() || it->second.new_id != top.new_id) continue;

        Symbol& right = symbols[left.next];
        left.id = top.new_id;
        left.next = right.next;
        right.alive = false;
        if (left.next >= 0) symbols[left.next].prev = top.pos;

        if (left.prev >= 0) push_pair(heap, symbols, left.prev, merges);
        push_pair(heap, symbols, top.pos, merges);
    }

    ids.clear();
    for (int32_t i = 0; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
}

}  // namespace sy::tok
