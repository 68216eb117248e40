#include "tokenize/internal/rank_table.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace switchyard::tokenize::internal {
namespace {

constexpr std::string_view kMagic = "SYRANKS1";
constexpr size_t kHeaderSize = 16;
constexpr uint64_t kEmptySlot = UINT64_MAX;

uint32_t ReadU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

uint64_t Mix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

core::Status Corrupt(const std::string& what) {
  return core::Internal("ranks blob: " + what);
}

}  // namespace

uint64_t RankTable::Hash(std::string_view bytes) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ bytes.size();
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = Mix(h ^ word);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = Mix(h ^ word ^ (uint64_t{n} << 56));
  }
  return Mix(h);
}

core::Result<RankTable> RankTable::Parse(std::string_view blob) {
  if (blob.size() < kHeaderSize) {
    return Corrupt("truncated header (" + std::to_string(blob.size()) + " bytes)");
  }
  if (blob.substr(0, kMagic.size()) != kMagic) return Corrupt("bad magic");
  const uint32_t count = ReadU32(blob.data() + 8);
  const uint32_t total_bytes = ReadU32(blob.data() + 12);
  if (count == 0) return Corrupt("no tokens");
  if (uint64_t{count} + total_bytes != blob.size() - kHeaderSize) {
    return Corrupt("size " + std::to_string(blob.size()) + " does not match the header (" +
                   std::to_string(count) + " tokens, " + std::to_string(total_bytes) + " bytes)");
  }

  RankTable table;
  table.data_ = blob.data();
  table.offsets_.reserve(size_t{count} + 1);
  size_t pos = kHeaderSize;
  for (uint32_t rank = 0; rank < count; ++rank) {
    const size_t length = static_cast<unsigned char>(blob[pos]);
    if (length == 0) return Corrupt("token of rank " + std::to_string(rank) + " is empty");
    if (pos + 1 + length > blob.size()) {
      return Corrupt("token of rank " + std::to_string(rank) + " runs past the end");
    }
    table.offsets_.push_back(static_cast<uint32_t>(pos));
    table.max_token_length_ = std::max(table.max_token_length_, length);
    pos += 1 + length;
  }
  table.offsets_.push_back(static_cast<uint32_t>(pos));

  const size_t capacity = std::bit_ceil(size_t{count} * 2);
  table.mask_ = capacity - 1;
  table.slots_.assign(capacity, kEmptySlot);
  for (uint32_t rank = 0; rank < count; ++rank) {
    const std::string_view token = table.Token(rank);
    const uint32_t existing = table.Find(token);
    if (existing != kNoRank) {
      return Corrupt("token of rank " + std::to_string(rank) + " repeats rank " +
                     std::to_string(existing));
    }
    const uint64_t h = Hash(token);
    uint64_t i = h & table.mask_;
    while (table.slots_[i] != kEmptySlot) i = (i + 1) & table.mask_;
    table.slots_[i] = (h & 0xffffffff00000000ULL) | rank;
  }

  for (int b = 0; b < 256; ++b) {
    const char byte = static_cast<char>(b);
    table.byte_ranks_[b] = table.Find(std::string_view(&byte, 1));
    if (table.byte_ranks_[b] == kNoRank) {
      static constexpr char kHex[] = "0123456789abcdef";
      return Corrupt(std::string("byte 0x") + kHex[b >> 4] + kHex[b & 15] + " has no token");
    }
  }
  return table;
}

uint32_t RankTable::Find(std::string_view bytes) const {
  if (bytes.size() > max_token_length_) return kNoRank;
  const uint64_t h = Hash(bytes);
  const uint64_t tag = h & 0xffffffff00000000ULL;
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    const uint64_t slot = slots_[i];
    if (slot == kEmptySlot) return kNoRank;
    if ((slot & 0xffffffff00000000ULL) == tag) {
      const auto rank = static_cast<uint32_t>(slot);
      if (Token(rank) == bytes) return rank;
    }
  }
}

}  // namespace switchyard::tokenize::internal
