#include "core/utf8.h"

#include <gtest/gtest.h>

namespace switchyard::core {
namespace {

TEST(CutUtf8Test, CutsAtACharacterBoundary) {
  EXPECT_EQ(CutUtf8("abc", 2), "ab");
  EXPECT_EQ(CutUtf8("abc", 3), "abc");
  EXPECT_EQ(CutUtf8("abc", 10), "abc");
  EXPECT_EQ(CutUtf8("a\xC3\xA9", 2), "a");           // e-acute is bytes 2-3
  EXPECT_EQ(CutUtf8("a\xC3\xA9z", 3), "a\xC3\xA9");  // cut right after it
  EXPECT_EQ(CutUtf8("\xE2\x82\xAC", 2), "");         // a 3-byte euro sign, nothing fits
  EXPECT_EQ(CutUtf8("", 0), "");
}

}  // namespace
}  // namespace switchyard::core
