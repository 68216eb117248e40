#include "tokenize/internal/rank_table.h"

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

// A blob in the SYRANKS1 format; `records` is the raw record bytes, count/total as given.
std::string Blob(uint32_t count, uint32_t total, const std::string& records) {
  return "SYRANKS1" + U32(count) + U32(total) + records;
}

// All 256 single bytes (rank = byte value), then `extra` tokens.
std::string Vocabulary(const std::vector<std::string>& extra) {
  std::string records;
  uint32_t total = 0;
  for (int b = 0; b < 256; ++b) {
    records += '\x01';
    records += static_cast<char>(b);
    ++total;
  }
  for (const std::string& token : extra) {
    records += static_cast<char>(token.size());
    records += token;
    total += static_cast<uint32_t>(token.size());
  }
  return Blob(static_cast<uint32_t>(256 + extra.size()), total, records);
}

std::string ParseError(const std::string& blob) {
  auto table = RankTable::Parse(blob);
  EXPECT_FALSE(table.ok());
  if (table.ok()) return "";
  EXPECT_EQ(table.status().code(), core::StatusCode::kInternal);
  return table.status().message();
}

TEST(RankTableTest, FindsTokensAndBytes) {
  const std::string blob = Vocabulary({"ab", "abc", std::string(255, 'z')});
  auto table = RankTable::Parse(blob);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->size(), 259u);
  EXPECT_EQ(table->Find("ab"), 256u);
  EXPECT_EQ(table->Find("abc"), 257u);
  EXPECT_EQ(table->Find(std::string(255, 'z')), 258u);
  EXPECT_EQ(table->Find("a"), 97u);
  EXPECT_EQ(table->Find(std::string(1, '\0')), 0u);
  EXPECT_EQ(table->Find("abcd"), RankTable::kNoRank);
  EXPECT_EQ(table->Find("ba"), RankTable::kNoRank);
  EXPECT_EQ(table->Find(""), RankTable::kNoRank);
  EXPECT_EQ(table->ByteRank(0xff), 255u);
  EXPECT_EQ(table->Token(257), "abc");
  EXPECT_EQ(table->Token(0), std::string(1, '\0'));
}

TEST(RankTableTest, RejectsTruncatedHeader) {
  EXPECT_EQ(ParseError("SYRAN"), "ranks blob: truncated header (5 bytes)");
}

TEST(RankTableTest, RejectsBadMagic) {
  EXPECT_EQ(ParseError("NOTRANKS" + U32(1) + U32(1) + "\x01x"), "ranks blob: bad magic");
}

TEST(RankTableTest, RejectsEmptyVocabulary) {
  EXPECT_EQ(ParseError(Blob(0, 0, "")), "ranks blob: no tokens");
}

TEST(RankTableTest, RejectsSizeMismatch) {
  EXPECT_EQ(ParseError(Blob(1, 1, std::string("\x01xy"))),
            "ranks blob: size 19 does not match the header (1 tokens, 1 bytes)");
}

TEST(RankTableTest, RejectsEmptyToken) {
  EXPECT_EQ(ParseError(Blob(2, 1, std::string("\x01x\x00", 3))),
            "ranks blob: token of rank 1 is empty");
}

TEST(RankTableTest, RejectsTokenPastTheEnd) {
  EXPECT_EQ(ParseError(Blob(1, 2, "\x05xy")), "ranks blob: token of rank 0 runs past the end");
}

TEST(RankTableTest, RejectsDuplicateToken) {
  EXPECT_EQ(ParseError(Vocabulary({"ab", "cd", "ab"})),
            "ranks blob: token of rank 258 repeats rank 256");
}

TEST(RankTableTest, RejectsMissingByte) {
  // Only the bytes 0..0x7f: byte-level BPE needs every byte.
  std::string records;
  for (int b = 0; b < 0x80; ++b) {
    records += '\x01';
    records += static_cast<char>(b);
  }
  EXPECT_EQ(ParseError(Blob(0x80, 0x80, records)), "ranks blob: byte 0x80 has no token");
}

TEST(RankTableTest, EmbeddedVocabulariesParse) {
  auto o200k = RankTable::Parse(EmbeddedO200kRanks());
  ASSERT_TRUE(o200k.ok()) << o200k.status().ToString();
  EXPECT_EQ(o200k->size(), 199998u);
  EXPECT_EQ(o200k->Token(0), "!");
  EXPECT_EQ(o200k->Find(" hello"), 40617u);
  auto cl100k = RankTable::Parse(EmbeddedCl100kRanks());
  ASSERT_TRUE(cl100k.ok()) << cl100k.status().ToString();
  EXPECT_EQ(cl100k->size(), 100256u);
  EXPECT_EQ(cl100k->Find(" hello"), 24748u);
  EXPECT_EQ(EmbeddedRanksSourceVersion(), "4.0.0");
}

}  // namespace
}  // namespace switchyard::tokenize::internal
