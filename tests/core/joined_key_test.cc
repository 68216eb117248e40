#include "core/joined_key.h"

#include <string>

#include <gtest/gtest.h>

namespace switchyard::core {
namespace {

TEST(JoinedKeyTest, JoinsPartsWithTheSeparator) {
  EXPECT_EQ(JoinedKey({"openai", "gpt-4o-mini"}, '\n').view(), "openai\ngpt-4o-mini");
  EXPECT_EQ(JoinedKey({"a", "", "c", ""}, '|').view(), "a||c|");
  EXPECT_EQ(JoinedKey({"only"}, '|').view(), "only");
  EXPECT_EQ(JoinedKey({}, '|').view(), "");
}

// Past the inline buffer the key goes to the heap, whole.
TEST(JoinedKeyTest, LongKeysAreWholeOnTheHeap) {
  const std::string a(JoinedKey::kInline, 'a');
  const std::string b(10, 'b');
  const JoinedKey at_limit({std::string_view(a).substr(1)}, '|');
  EXPECT_EQ(at_limit.view().size(), JoinedKey::kInline - 1);
  const JoinedKey joined({a, b}, '|');
  EXPECT_EQ(joined.view(), a + "|" + b);
  EXPECT_EQ(JoinedKey({a}, '|').view(), a);  // exactly kInline: still inline
}

}  // namespace
}  // namespace switchyard::core
