#include "core/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::core {
namespace {

TEST(HexTest, EncodeDecodeRoundTripEveryByte) {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  std::string hex = "stale contents";
  HexEncode(bytes, hex);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  EXPECT_TRUE(IsLowerHex(hex));
  std::string back(256, '\0');
  ASSERT_TRUE(HexDecode(hex, back.data()));
  EXPECT_EQ(back, bytes);
}

TEST(HexTest, OnlyLowercaseDigitsCount) {
  EXPECT_TRUE(IsLowerHex(""));
  EXPECT_TRUE(IsLowerHex("0123456789abcdef"));
  for (const std::string& bad :
       {std::string("A"), std::string("g"), std::string("/"), std::string(":"), std::string("`"),
        std::string(" "), std::string("\xff"), std::string(1, '\0')}) {
    EXPECT_FALSE(IsLowerHex("ab" + bad)) << static_cast<int>(bad[0]);
  }
  char out[4];
  EXPECT_FALSE(HexDecode("abc", out));  // odd length
  EXPECT_FALSE(HexDecode("0G", out));   // not a digit
  EXPECT_FALSE(HexDecode("AB", out));   // uppercase is refused, not folded
  EXPECT_TRUE(HexDecode("7f00", out));
  EXPECT_EQ(out[0], '\x7f');
  EXPECT_EQ(out[1], '\0');
}

}  // namespace
}  // namespace switchyard::core
