#include "core/byte_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace switchyard::core {
namespace {

std::string Put(auto put, auto value) {
  std::string buf(kMaxVarint + 16, '\0');
  char* end = put(buf.data(), value);
  buf.resize(static_cast<size_t>(end - buf.data()));
  return buf;
}

TEST(ByteCodecTest, VarintsRoundTripAtTheirEdges) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383},
                     uint64_t{16384}, uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()}) {
    const std::string bytes = Put(PutVarint, v);
    ByteReader in(bytes);
    uint64_t out = 0;
    ASSERT_TRUE(in.Varint(out)) << v;
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.AtEnd());
  }
  EXPECT_EQ(Put(PutVarint, uint64_t{127}).size(), 1u);
  EXPECT_EQ(Put(PutVarint, uint64_t{128}).size(), 2u);
  EXPECT_EQ(Put(PutVarint, std::numeric_limits<uint64_t>::max()).size(), kMaxVarint);
}

TEST(ByteCodecTest, SignedUseZigzag) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    const std::string bytes = Put(PutSigned, v);
    ByteReader in(bytes);
    int64_t out = 0;
    ASSERT_TRUE(in.Signed(out)) << v;
    EXPECT_EQ(out, v);
  }
  EXPECT_EQ(Put(PutSigned, int64_t{-64}).size(), 1u);  // small magnitudes stay small
  EXPECT_EQ(Put(PutSigned, int64_t{64}).size(), 2u);
}

TEST(ByteCodecTest, TextsFixedAndBytes) {
  std::string buf(64, '\0');
  char* p = PutText(buf.data(), "hello");
  p = PutFixed(p, uint32_t{0x01020304});
  p = PutText(p, "");
  buf.resize(static_cast<size_t>(p - buf.data()));
  EXPECT_EQ(buf, std::string("\x05hello\x04\x03\x02\x01\x00", 11));
  ByteReader in(buf);
  std::string_view text;
  uint32_t fixed = 0;
  std::string owned = "x";
  ASSERT_TRUE(in.Text(text));
  EXPECT_EQ(text, "hello");
  ASSERT_TRUE(in.Fixed(fixed));
  EXPECT_EQ(fixed, 0x01020304u);
  ASSERT_TRUE(in.Text(owned));
  EXPECT_EQ(owned, "");
  EXPECT_TRUE(in.AtEnd());
}

// Every read that would pass the end says false and never reads beyond it.
TEST(ByteCodecTest, ReadsPastTheEndFail) {
  uint64_t v = 0;
  int i = 0;
  unsigned char b = 0;
  std::string_view view;
  uint32_t fixed = 0;
  double d = 0;
  ByteReader empty("");
  EXPECT_FALSE(empty.Byte(b));
  EXPECT_FALSE(empty.Varint(v));
  EXPECT_FALSE(empty.Text(view));
  EXPECT_FALSE(empty.Fixed(fixed));
  EXPECT_FALSE(empty.Double(d));
  EXPECT_TRUE(empty.Bytes(0, view));
  EXPECT_FALSE(empty.Bytes(1, view));

  ByteReader unfinished("\x80\x80");  // continuation bits to the end
  EXPECT_FALSE(unfinished.Varint(v));
  const std::string eleven(11, '\x80');  // longer than any 64-bit varint
  ByteReader too_long(eleven);
  EXPECT_FALSE(too_long.Varint(v));
  std::string max = Put(PutVarint, std::numeric_limits<uint64_t>::max());
  max.back() = '\x02';  // a 65th bit
  ByteReader too_big(max);
  EXPECT_FALSE(too_big.Varint(v));
  ByteReader short_text("\x05hell");
  EXPECT_FALSE(short_text.Text(view));
  ByteReader short_fixed("\x01\x02\x03");
  EXPECT_FALSE(short_fixed.Fixed(fixed));
  EXPECT_EQ(short_fixed.remaining(), 3u);  // a failed fixed read consumes nothing

  const std::string big = Put(PutSigned, int64_t{1} << 40);
  ByteReader out_of_int(big);
  EXPECT_FALSE(out_of_int.Int(i));
  const std::string small = Put(PutSigned, int64_t{-5});
  ByteReader in_int(small);
  ASSERT_TRUE(in_int.Int(i));
  EXPECT_EQ(i, -5);
}

}  // namespace
}  // namespace switchyard::core
