// RankTable: one byte-level BPE vocabulary (token bytes <-> rank), parsed from a
// "SYRANKS1" blob written by scripts/gen_ranks.mjs:
//   "SYRANKS1", u32 count N, u32 total token bytes, then N records (u8 length, bytes);
//   record i is the token of rank i.
//
// Ownership: the table keeps views into the blob, which must outlive it (the embedded
// blobs live for the whole process). Thread-safety: immutable after Parse, every const
// method may be called concurrently. Errors: Parse returns kInternal naming the defect.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::tokenize::internal {

class RankTable {
 public:
  static constexpr uint32_t kNoRank = UINT32_MAX;

  static core::Result<RankTable> Parse(std::string_view blob);

  // The rank of exactly these bytes, or kNoRank.
  uint32_t Find(std::string_view bytes) const;
  // The rank of the one-byte token `b` (every byte has one: Parse checks it).
  uint32_t ByteRank(uint8_t b) const { return byte_ranks_[b]; }
  // The bytes of the token of `rank`; precondition rank < size().
  std::string_view Token(uint32_t rank) const {
    return {data_ + offsets_[rank] + 1, offsets_[rank + 1] - offsets_[rank] - 1};
  }
  size_t size() const { return offsets_.size() - 1; }
  // Length of the longest token: no longer byte string has a rank.
  size_t max_token_length() const { return max_token_length_; }

 private:
  RankTable() = default;
  static uint64_t Hash(std::string_view bytes);

  const char* data_ = nullptr;
  // offsets_[r] + 1 is where the bytes of rank r start; record r+1 starts at offsets_[r+1].
  std::vector<uint32_t> offsets_;
  // Open addressing, linear probing; slot = hash high 32 bits << 32 | rank; kEmptySlot if free.
  std::vector<uint64_t> slots_;
  uint64_t mask_ = 0;
  size_t max_token_length_ = 0;
  std::array<uint32_t, 256> byte_ranks_{};
};

}  // namespace switchyard::tokenize::internal
