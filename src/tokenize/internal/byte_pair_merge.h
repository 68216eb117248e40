// Byte-pair encoding of one pre-tokenised piece: start from single bytes and repeatedly
// merge the adjacent pair whose concatenation has the lowest rank (the leftmost one on a
// tie), until no adjacent pair is a token. Same result as tiktoken's byte_pair_merge.
//
// Cost: O(n log n) in the piece length n (a doubly linked list of parts and a min-heap of
// candidate pairs with lazy invalidation), so a long piece (a 100 KB run of one letter
// class) cannot go quadratic. Thread-safety: pure function of its arguments; each thread
// uses its own MergeScratch.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenize/internal/rank_table.h"

namespace switchyard::tokenize::internal {

// Working memory reused across pieces to avoid allocating per piece.
struct MergeScratch {
  std::vector<uint32_t> next;       // next[i]: start of the part after the one at i
  std::vector<uint32_t> prev;       // prev[i]: start of the part before the one at i
  std::vector<uint32_t> pair_rank;  // rank of part(i) + part(next[i]), or kNoRank
  std::vector<std::pair<uint32_t, uint32_t>> heap;  // (rank, part start), min-heap
};

// Appends the ranks of `piece`'s tokens to `out`. An empty piece appends nothing.
void BytePairEncode(const RankTable& table, std::string_view piece, MergeScratch* scratch,
                    std::vector<uint32_t>* out);

}  // namespace switchyard::tokenize::internal
