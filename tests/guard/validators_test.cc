#include "guard/internal/validators.h"

#include <gtest/gtest.h>

namespace switchyard::guard::internal {
namespace {

TEST(ValidatorsTest, Luhn) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("4111 1111 1111 1111"));
  EXPECT_TRUE(LuhnValid("378282246310005"));
  EXPECT_TRUE(LuhnValid("0"));
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("----"));
}

TEST(ValidatorsTest, IbanLengthsAndChecksum) {
  EXPECT_EQ(IbanLength("DE"), 22u);
  EXPECT_EQ(IbanLength("NO"), 15u);
  EXPECT_EQ(IbanLength("RU"), 33u);
  EXPECT_EQ(IbanLength("AD"), 24u);
  EXPECT_EQ(IbanLength("YE"), 30u);
  EXPECT_EQ(IbanLength("US"), 0u);
  EXPECT_EQ(IbanLength("D"), 0u);
  EXPECT_TRUE(IbanChecksumValid("DE89370400440532013000"));
  EXPECT_TRUE(IbanChecksumValid("GB82WEST12345698765432"));
  EXPECT_FALSE(IbanChecksumValid("DE89370400440532013001"));
  EXPECT_FALSE(IbanChecksumValid("GB82west12345698765432"));
  EXPECT_FALSE(IbanChecksumValid("DE89"));
}

TEST(ValidatorsTest, SsnRules) {
  EXPECT_TRUE(SsnValid("123", "45", "6789"));
  EXPECT_FALSE(SsnValid("000", "45", "6789"));
  EXPECT_FALSE(SsnValid("666", "45", "6789"));
  EXPECT_FALSE(SsnValid("912", "45", "6789"));
  EXPECT_FALSE(SsnValid("123", "00", "6789"));
  EXPECT_FALSE(SsnValid("123", "45", "0000"));
  EXPECT_FALSE(SsnValid("12", "45", "6789"));
}

TEST(ValidatorsTest, Entropy) {
  EXPECT_DOUBLE_EQ(ShannonEntropy(""), 0.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("aaaa"), 0.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abab"), 1.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abcd"), 2.0);
  EXPECT_GT(ShannonEntropy("aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5"), 4.5);
  EXPECT_LT(ShannonEntropy("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            4.0);
}

TEST(ValidatorsTest, Ipv6) {
  EXPECT_TRUE(Ipv6Valid("2001:db8::1"));
  EXPECT_TRUE(Ipv6Valid("::ffff:192.0.2.1"));
  EXPECT_FALSE(Ipv6Valid("12:30:45"));
  EXPECT_FALSE(Ipv6Valid("2001:db8:::1"));
  EXPECT_FALSE(Ipv6Valid(std::string(80, '1')));
}

}  // namespace
}  // namespace switchyard::guard::internal
