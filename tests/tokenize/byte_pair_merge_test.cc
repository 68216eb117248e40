#include "tokenize/internal/byte_pair_merge.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tokenize/internal/embedded_ranks.h"

namespace switchyard::tokenize::internal {
namespace {

std::string U32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// A vocabulary of all 256 single bytes (rank = byte value), then `extra` with ranks
// 256, 257, ...; owns the blob the table views.
struct Toy {
  std::unique_ptr<std::string> blob;
  RankTable table;
};

Toy ToyTable(const std::vector<std::string>& extra) {
  std::string records;
  uint32_t total = 256;
  for (int b = 0; b < 256; ++b) {
    records += '\x01';
    records += static_cast<char>(b);
  }
  for (const std::string& token : extra) {
    records += static_cast<char>(token.size());
    records += token;
    total += static_cast<uint32_t>(token.size());
  }
  auto blob = std::make_unique<std::string>(
      "SYRANKS1" + U32(static_cast<uint32_t>(256 + extra.size())) + U32(total) + records);
  auto table = RankTable::Parse(*blob);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return {std::move(blob), std::move(table).value()};
}

std::vector<uint32_t> Encode(const RankTable& table, std::string_view piece) {
  MergeScratch scratch;
  std::vector<uint32_t> out;
  BytePairEncode(table, piece, &scratch, &out);
  return out;
}

// The textbook quadratic algorithm: repeatedly merge the lowest-ranked adjacent pair,
// the leftmost one on a tie.
std::vector<uint32_t> NaiveEncode(const RankTable& table, std::string_view piece) {
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < piece.size(); ++i) parts.push_back(piece.substr(i, 1));
  while (parts.size() > 1) {
    uint32_t best = RankTable::kNoRank;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string_view pair(parts[i].data(), parts[i].size() + parts[i + 1].size());
      const uint32_t rank = table.Find(pair);
      if (rank < best) {
        best = rank;
        best_at = i;
      }
    }
    if (best == RankTable::kNoRank) break;
    parts[best_at] =
        std::string_view(parts[best_at].data(), parts[best_at].size() + parts[best_at + 1].size());
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  std::vector<uint32_t> out;
  for (std::string_view part : parts) out.push_back(table.Find(part));
  return out;
}

TEST(BytePairMergeTest, EmptyAndSingleByte) {
  const Toy toy = ToyTable({});
  EXPECT_TRUE(Encode(toy.table, "").empty());
  EXPECT_EQ(Encode(toy.table, "a"), std::vector<uint32_t>({97}));
  EXPECT_EQ(Encode(toy.table, "\xff"), std::vector<uint32_t>({255}));
}

TEST(BytePairMergeTest, NoMergesLeavesBytes) {
  const Toy toy = ToyTable({"zz"});
  EXPECT_EQ(Encode(toy.table, "abc"), std::vector<uint32_t>({97, 98, 99}));
}

TEST(BytePairMergeTest, WholePieceIsOneToken) {
  const Toy toy = ToyTable({"xy", "hello"});
  EXPECT_EQ(Encode(toy.table, "hello"), std::vector<uint32_t>({257}));
}

TEST(BytePairMergeTest, LowestRankMergesFirst) {
  // "bc" (256) beats "ab" (257): a + bc, and "abc" is not reachable from "a"+"bc".
  const Toy toy = ToyTable({"bc", "ab", "abc_unused"});
  EXPECT_EQ(Encode(toy.table, "abc"), std::vector<uint32_t>({97, 256}));
  // With "ab" first, "ab" + "c" then merges into "abc".
  const Toy other = ToyTable({"ab", "bc", "abc"});
  EXPECT_EQ(Encode(other.table, "abcd"), std::vector<uint32_t>({258, 100}));
}

TEST(BytePairMergeTest, TiesGoToTheLeftmostPair) {
  const Toy toy = ToyTable({"aa"});
  EXPECT_EQ(Encode(toy.table, "aaa"), std::vector<uint32_t>({256, 97}));
  EXPECT_EQ(Encode(toy.table, "aaaaa"), std::vector<uint32_t>({256, 256, 97}));
  const Toy longer = ToyTable({"aa", "aaa"});
  // aa a a: the pair "a a" (rank 256) beats "aa a" (257), so aa aa, never aaa a.
  EXPECT_EQ(Encode(longer.table, "aaaa"), std::vector<uint32_t>({256, 256}));
  EXPECT_EQ(Encode(longer.table, "aaa"), std::vector<uint32_t>({257}));
}

TEST(BytePairMergeTest, MatchesNaiveMergeOnRealVocabularies) {
  for (const std::string_view blob : {EmbeddedO200kRanks(), EmbeddedCl100kRanks()}) {
    auto table = RankTable::Parse(blob);
    ASSERT_TRUE(table.ok());
    std::mt19937 random(42);
    const std::string alphabet = "aeinrst THE_thx0123.\xe4\xb8\x80\xc3\xa9";
    for (int round = 0; round < 300; ++round) {
      const size_t length = 2 + random() % (round < 250 ? 40 : 1500);
      std::string piece;
      for (size_t i = 0; i < length; ++i) piece += alphabet[random() % alphabet.size()];
      ASSERT_EQ(Encode(*table, piece), NaiveEncode(*table, piece)) << "piece: " << piece;
    }
  }
}

TEST(BytePairMergeTest, LongPieceOfOneLetter) {
  auto table = RankTable::Parse(EmbeddedO200kRanks());
  ASSERT_TRUE(table.ok());
  const std::string piece(100000, 'a');
  const std::vector<uint32_t> tokens = Encode(*table, piece);
  ASSERT_FALSE(tokens.empty());
  std::string decoded;
  for (uint32_t t : tokens) decoded += table->Token(t);
  EXPECT_EQ(decoded, piece);
  const std::string prefix(3000, 'a');
  EXPECT_EQ(Encode(*table, prefix), NaiveEncode(*table, prefix));
}

}  // namespace
}  // namespace switchyard::tokenize::internal
