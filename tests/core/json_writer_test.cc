#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace switchyard::core {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Field("id", "x")
      .Field("n", int64_t{3})
      .Key("arr")
      .BeginArray()
      .Int(1)
      .String("two")
      .BeginObject()
      .Field("ok", true)
      .EndObject()
      .EndArray()
      .Key("nothing")
      .Null()
      .EndObject();
  EXPECT_EQ(out, R"({"id":"x","n":3,"arr":[1,"two",{"ok":true}],"nothing":null})");
}

// The first 64 levels keep their flags in a bit mask, deeper ones in a
// vector: commas must be right on both sides of the boundary.
TEST(JsonWriterTest, CommasAreRightAtEveryDepth) {
  constexpr int kDepth = 100;
  std::string out;
  JsonWriter w(out);
  std::string want;
  for (int d = 0; d < kDepth; ++d) {
    w.BeginArray().Int(d);
    want += (d == 0 ? "[" : ",[") + std::to_string(d);
  }
  for (int d = kDepth - 1; d >= 0; --d) {
    w.EndArray();
    want += "]";
    if (d > 0) {
      w.Int(-d).BeginObject().Field("k", d).Field("l", true).EndObject();
      want += "," + std::to_string(-d) + R"(,{"k":)" + std::to_string(d) + R"(,"l":true})";
    }
  }
  EXPECT_EQ(out, want);
}

TEST(JsonWriterTest, EscapesControlCharactersQuotesAndBackslashes) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\t\x01z", 9));
  EXPECT_EQ(out, R"("a\"b\\c\n\t\u0001z")");
}

TEST(JsonWriterTest, PassesUtf8Through) {
  std::string out;
  AppendJsonString(out, "héllo 世界 🙂");
  EXPECT_EQ(out, "\"héllo 世界 🙂\"");
}

TEST(JsonWriterTest, DoublesUseShortestRoundTrip) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray().Double(0.1).Double(1.5e-7).Double(2.0).Double(1.0 / 0.0).Double(200.0);
  w.Double(1714564800004.0).Double(-3.0).Double(0.00075).EndArray();
  EXPECT_EQ(out, "[0.1,1.5e-07,2,null,200,1714564800004,-3,0.00075]");
}

}  // namespace
}  // namespace switchyard::core
