#include "tokenize/internal/byte_pair_merge.h"

#include <algorithm>
#include <functional>

namespace switchyard::tokenize::internal {

void BytePairEncode(const RankTable& table, std::string_view piece, MergeScratch* scratch,
                    std::vector<uint32_t>* out) {
  const auto n = static_cast<uint32_t>(piece.size());
  if (n == 0) return;
  if (n == 1) {
    out->push_back(table.ByteRank(static_cast<uint8_t>(piece[0])));
    return;
  }
  if (const uint32_t whole = table.Find(piece); whole != RankTable::kNoRank) {
    out->push_back(whole);
    return;
  }

  // Parts are identified by their start offset; the end of part i is next[i] (n = end).
  auto& next = scratch->next;
  auto& prev = scratch->prev;
  auto& pair_rank = scratch->pair_rank;
  auto& heap = scratch->heap;
  next.resize(n);
  prev.resize(n);
  pair_rank.resize(n);
  heap.clear();
  const auto rank_of_pair = [&](uint32_t i) {
    const uint32_t j = next[i];
    if (j == n) return RankTable::kNoRank;
    return table.Find(piece.substr(i, next[j] - i));
  };
  constexpr std::greater<std::pair<uint32_t, uint32_t>> kMinHeap;
  for (uint32_t i = 0; i < n; ++i) {
    next[i] = i + 1;
    prev[i] = i == 0 ? n : i - 1;  // n: no previous part
  }
  for (uint32_t i = 0; i + 1 < n; ++i) {
    pair_rank[i] = rank_of_pair(i);
    if (pair_rank[i] != RankTable::kNoRank) heap.emplace_back(pair_rank[i], i);
  }
  pair_rank[n - 1] = RankTable::kNoRank;
  std::make_heap(heap.begin(), heap.end(), kMinHeap);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), kMinHeap);
    const auto [rank, i] = heap.back();
    heap.pop_back();
    // Stale entry: the part was absorbed (its pair_rank was reset) or its pair changed.
    // A pair that changed always covers more bytes, so it cannot have the same rank.
    if (pair_rank[i] != rank) continue;
    const uint32_t j = next[i];  // absorbed into i
    const uint32_t k = next[j];
    next[i] = k;
    if (k != n) prev[k] = i;
    pair_rank[j] = RankTable::kNoRank;
    pair_rank[i] = rank_of_pair(i);
    if (pair_rank[i] != RankTable::kNoRank) {
      heap.emplace_back(pair_rank[i], i);
      std::push_heap(heap.begin(), heap.end(), kMinHeap);
    }
    if (const uint32_t p = prev[i]; p != n) {
      pair_rank[p] = rank_of_pair(p);
      if (pair_rank[p] != RankTable::kNoRank) {
        heap.emplace_back(pair_rank[p], p);
        std::push_heap(heap.begin(), heap.end(), kMinHeap);
      }
    }
  }

  for (uint32_t i = 0; i != n; i = next[i]) {
    out->push_back(table.Find(piece.substr(i, next[i] - i)));
  }
}

}  // namespace switchyard::tokenize::internal
