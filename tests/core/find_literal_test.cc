#include "core/find_literal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>

namespace switchyard::core {
namespace {

constexpr size_t kNpos = std::string_view::npos;

TEST(FindLiteral, FindsAKeyInAChunk) {
  const std::string_view chunk =
      R"({"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,)"
      R"("delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3}})";
  EXPECT_EQ(FindLiteral(chunk, R"("usage")"), chunk.find(R"("usage")"));
  EXPECT_EQ(FindLiteral(chunk, R"("finish_reason")"), chunk.find(R"("finish_reason")"));
  EXPECT_EQ(FindLiteral(chunk, R"("model")", 1), chunk.find(R"("model")", 1));
  EXPECT_EQ(FindLiteral(chunk, R"("logprobs")"), kNpos);
}

TEST(FindLiteral, EdgesOfTheText) {
  EXPECT_EQ(FindLiteral("abcd", "abcd"), 0U);      // the whole text
  EXPECT_EQ(FindLiteral("abcd", "abcde"), kNpos);  // longer than the text
  EXPECT_EQ(FindLiteral("", "a"), kNpos);          // empty text
  EXPECT_EQ(FindLiteral("abc", "", 2), 2U);        // empty needle: at `from`
  EXPECT_EQ(FindLiteral("abc", "", 3), 3U);
  EXPECT_EQ(FindLiteral("abc", "", 4), kNpos);                  // `from` past the end
  EXPECT_EQ(FindLiteral("abcabc", "abc", 1), 3U);               // from skips the first
  EXPECT_EQ(FindLiteral("abcabc", "abc", 4), kNpos);            // no room left
  EXPECT_EQ(FindLiteral("abcabc", "c", 3), 5U);                 // one byte
  EXPECT_EQ(FindLiteral("xxxxxxxxxxxxxxxxxxxxab", "ab"), 20U);  // two bytes, in the tail
  // The filter bytes match but the rest does not, at every position of a block.
  const std::string decoys(64, 'u');
  EXPECT_EQ(FindLiteral(decoys + "\"usage\"", R"("usage")"), 64U);
  EXPECT_EQ(FindLiteral(std::string(40, '"'), R"("usage")"), kNpos);
}

// Every needle length 0..20 at every position of texts of 0..80 bytes (the
// block loop, its tail, and starts in the last 15 positions), against
// string_view::find, on a small alphabet so that partial matches are common.
TEST(FindLiteral, AgreesWithStringFind) {
  std::mt19937 rng(20261130);
  std::uniform_int_distribution<int> letter(0, 2);
  for (int round = 0; round < 400; ++round) {
    std::string hay(static_cast<size_t>(round % 81), ' ');
    for (char& c : hay) c = static_cast<char>('a' + letter(rng));
    for (size_t n = 0; n <= 20; ++n) {
      std::string needle(n, ' ');
      for (char& c : needle) c = static_cast<char>('a' + letter(rng));
      if (n > 0 && n <= hay.size() && round % 2 == 0) {  // plant it half the time
        const size_t at = static_cast<size_t>(rng() % (hay.size() - n + 1));
        hay.replace(at, n, needle);
      }
      for (size_t from = 0; from <= hay.size() + 1; ++from) {
        ASSERT_EQ(FindLiteral(hay, needle, from), std::string_view(hay).find(needle, from))
            << "hay=" << hay << " needle=" << needle << " from=" << from;
      }
    }
  }
}

// FindEitherLiteral against the nearer of two string_view::find results, for
// pairs of needles of lengths 0..12 (the SIMD pass needs both of 4 or more),
// on texts of 0..100 bytes with either, both or neither planted.
TEST(FindEitherLiteral, AgreesWithTheNearerStringFind) {
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int> letter(0, 2);
  auto word = [&](size_t n) {
    std::string w(n, ' ');
    for (char& c : w) c = static_cast<char>('a' + letter(rng));
    return w;
  };
  for (int round = 0; round < 300; ++round) {
    std::string hay = word(static_cast<size_t>(round % 101));
    const std::string a = word(static_cast<size_t>(rng() % 13));
    const std::string b = word(static_cast<size_t>(rng() % 13));
    for (const std::string* plant : {&a, &b}) {
      if (!plant->empty() && plant->size() <= hay.size() && rng() % 2 == 0) {
        const size_t at = static_cast<size_t>(rng() % (hay.size() - plant->size() + 1));
        hay.replace(at, plant->size(), *plant);
      }
    }
    const std::string_view h(hay);
    for (size_t from = 0; from <= hay.size() + 1; ++from) {
      const size_t at_a = h.find(a, from);
      const size_t at_b = h.find(b, from);
      const EitherMatch m = FindEitherLiteral(hay, a, b, from);
      ASSERT_EQ(m.pos, std::min(at_a, at_b))
          << "hay=" << hay << " a=" << a << " b=" << b << " from=" << from;
      if (m.pos != kNpos) {
        ASSERT_EQ(m.second, at_b < at_a) << "hay=" << hay << " from=" << from;
      }
    }
  }
}

TEST(FindEitherLiteral, FindsBothKeysOfAChunkInOrder) {
  const std::string_view chunk =
      R"({"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,)"
      R"("delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3}})";
  const EitherMatch first = FindEitherLiteral(chunk, R"("usage")", R"("finish_reason")");
  EXPECT_EQ(first.pos, chunk.find(R"("finish_reason")"));
  EXPECT_TRUE(first.second);
  const EitherMatch next =
      FindEitherLiteral(chunk, R"("usage")", R"("finish_reason")", first.pos + 1);
  EXPECT_EQ(next.pos, chunk.find(R"("usage")"));
  EXPECT_FALSE(next.second);
  EXPECT_EQ(FindEitherLiteral(chunk, R"("usage")", R"("finish_reason")", next.pos + 1).pos, kNpos);
  // Both at one place: the first needle.
  EXPECT_FALSE(FindEitherLiteral(chunk, R"("usage")", R"("usage":)").second);
}

}  // namespace
}  // namespace switchyard::core
