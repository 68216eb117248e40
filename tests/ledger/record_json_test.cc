#include "ledger/record_json.h"

#include <gtest/gtest.h>

#include "ledger_test_util.h"

namespace switchyard::ledger {
namespace {

TEST(RecordJsonTest, RoundTripsEveryField) {
  Record r = testing::SampleRecord(7);
  std::string json;
  AppendRecordJson(json, r);
  EXPECT_EQ(json.find('\n'), std::string::npos);  // one line, whatever the bodies hold
  auto back = ParseRecordJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);

  r.confidence.reset();
  r.stages_tried.clear();
  json.clear();
  AppendRecordJson(json, r);
  EXPECT_NE(json.find("\"confidence\":null"), std::string::npos);
  back = ParseRecordJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RecordJsonTest, MissingAndUnknownKeysAreTolerated) {
  auto r = ParseRecordJson(R"({"id":"a","ts_ms":5,"future_field":[1,2]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "a");
  EXPECT_EQ(r->ts_ms, 5);
  EXPECT_EQ(r->status, 0);
  EXPECT_FALSE(r->confidence.has_value());
}

TEST(RecordJsonTest, BadInputGivesExactErrors) {
  EXPECT_EQ(ParseRecordJson(R"({"id":"a","ts_ms":)").status().message(),
            "ledger record: invalid JSON (The JSON document has an improper structure: missing "
            "or superfluous commas, braces, missing keys, etc.)");
  EXPECT_EQ(ParseRecordJson("[1]").status().message(), "ledger record: expected a JSON object");
  EXPECT_EQ(ParseRecordJson(R"({"id":"a","ts_ms":"now"})").status().message(),
            "ledger record: \"ts_ms\" must be an integer");
  EXPECT_EQ(ParseRecordJson(R"({"id":"a","stages_tried":[1]})").status().message(),
            "ledger record: \"stages_tried\" must be an array of strings");
  EXPECT_EQ(ParseRecordJson(R"({"ts_ms":1})").status().message(), "ledger record: missing \"id\"");
  EXPECT_EQ(ParseRecordJson(R"({"ts_ms":1})").status().code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchyard::ledger
