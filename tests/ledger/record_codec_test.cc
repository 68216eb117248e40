#include "ledger/record_codec.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "ledger_test_util.h"

namespace switchyard::ledger {
namespace {

using testing::SampleRecord;

std::string Encode(const Record& r) {
  std::string scratch;
  return std::string(EncodeRecord(r, scratch));
}

Record Decode(const std::string& bytes, bool bodies = true) {
  Record r;
  core::Status st = DecodeRecord(bytes, r, bodies);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return r;
}

TEST(RecordCodecTest, RoundTripsEveryField) {
  for (int n = 0; n < 6; ++n) {
    const Record r = SampleRecord(n);
    EXPECT_EQ(Decode(Encode(r)), r) << n;
  }
}

TEST(RecordCodecTest, RoundTripsDefaultsAndUnusualValues) {
  Record bare;
  bare.id = "bare";
  EXPECT_EQ(Decode(Encode(bare)), bare);

  Record r = SampleRecord(3);
  r.ts_ms = -5;         // signed varint
  r.input_tokens = -1;  // counters are signed
  r.output_tokens = int64_t{1} << 62;
  r.attempts = INT32_MAX;
  r.status = -1;
  r.confidence = 0.0;                    // a value, not "none"
  r.template_hash = "0123456789ABCDEF";  // not lowercase hex: kept as text
  r.stages_tried = {"a/x", "", "b/y"};
  r.answered_by.clear();
  r.request_body = std::string("nul\0inside", 10);
  EXPECT_EQ(Decode(Encode(r)), r);

  Record neg_zero = bare;
  neg_zero.cost_usd = -0.0;
  const Record back = Decode(Encode(neg_zero));
  EXPECT_TRUE(std::signbit(back.cost_usd));
  EXPECT_FALSE(back.confidence.has_value());
}

// A record whose only stage is the one that answered stores no stage list,
// and a lowercase 16-digit template hash is stored as 8 bytes.
TEST(RecordCodecTest, RepeatedStageAndHexHashAreStoredCompactly) {
  Record r = SampleRecord(1);
  r.request_body.clear();
  r.response_body.clear();
  r.pii_findings.clear();
  r.stages_tried = {r.answered_by};
  const std::string folded = Encode(r);
  EXPECT_EQ(Decode(folded), r);
  Record two_stages = r;
  two_stages.stages_tried = {r.answered_by, r.answered_by};
  const std::string unfolded = Encode(two_stages);
  EXPECT_EQ(Decode(unfolded), two_stages);
  // 1 (count) + 2 x (1 + length) more for the explicit list of two.
  EXPECT_EQ(unfolded.size(), folded.size() + 1 + 2 * (1 + r.answered_by.size()));

  Record text_hash = r;
  text_hash.template_hash = "0123456789abcdeg";
  // 1 (length) + 16 bytes instead of 8.
  EXPECT_EQ(Encode(text_hash).size(), folded.size() + 9);
  EXPECT_EQ(Decode(Encode(text_hash)), text_hash);
}

// A scratch buffer reused for a smaller record after a larger one gives the
// same bytes as a fresh one, and is not shrunk.
TEST(RecordCodecTest, ReusesTheScratchBuffer) {
  std::string scratch;
  const Record big = SampleRecord(1);
  Record small;
  small.id = "s";
  EXPECT_EQ(std::string(EncodeRecord(big, scratch)), Encode(big));
  const size_t grown = scratch.size();
  EXPECT_GE(grown, Encode(big).size());
  const std::string_view again = EncodeRecord(small, scratch);
  EXPECT_EQ(std::string(again), Encode(small));
  EXPECT_EQ(again.data(), scratch.data());
  EXPECT_EQ(scratch.size(), grown);
  EXPECT_EQ(Decode(std::string(again)), small);
}

TEST(RecordCodecTest, WithoutBodiesLeavesThemEmpty) {
  const Record r = SampleRecord(2);
  Record got;
  got.request_body = "stale";
  ASSERT_TRUE(DecodeRecord(Encode(r), got, /*include_bodies=*/false).ok());
  Record expected = r;
  expected.request_body.clear();
  expected.response_body.clear();
  expected.pii_findings.clear();
  EXPECT_EQ(got, expected);
}

TEST(RecordCodecTest, EncodedIdReadsOnlyTheHead) {
  const std::string bytes = Encode(SampleRecord(7));
  auto id = EncodedId(bytes);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "req-7");
  // The id is complete after 1 + 1 + 5 bytes; the rest is not read.
  const std::string_view all(bytes);
  auto head = EncodedId(all.substr(0, 7));  // a view into `bytes`
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, "req-7");
  EXPECT_EQ(head->data(), bytes.data() + 2);
  EXPECT_EQ(EncodedId(all.substr(0, 6)).status().message(), "record truncated in field id");
  EXPECT_EQ(EncodedId("").status().message(), "record is empty");
}

TEST(RecordCodecTest, EveryTruncationIsAnErrorNamingTheField) {
  const std::string bytes = Encode(SampleRecord(1));
  Record r;
  EXPECT_EQ(DecodeRecord("", r).message(), "record is empty");
  for (size_t n = 1; n < bytes.size(); ++n) {
    core::Status st = DecodeRecord(std::string_view(bytes).substr(0, n), r);
    ASSERT_FALSE(st.ok()) << n;
    EXPECT_EQ(st.message().rfind("record truncated in field ", 0), 0u) << st.message();
  }
  // Cut inside the model name: the message says so.
  const std::string model = SampleRecord(1).model;
  const size_t at = bytes.rfind(model);  // not the one inside answered_by
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(DecodeRecord(std::string_view(bytes).substr(0, at + 3), r).message(),
            "record truncated in field model");
}

// A corrupt stage count is an error before anything is allocated for it:
// beyond the bytes left, or beyond any route's length (a large body after the
// count would otherwise leave room for millions of empty "stages").
TEST(RecordCodecTest, CorruptStageCountIsAnErrorNotAnAllocation) {
  Record r;
  r.id = "x";
  r.stages_tried = {"a", "b"};
  r.request_body.assign(20000, '\0');  // bytes after the count
  const std::string bytes = Encode(r);
  // format, id length, "x", ts 0, 4-byte mask, then the count (2).
  ASSERT_EQ(bytes[8], 2);
  Record out;
  std::string huge = bytes;
  huge.replace(8, 1, std::string("\xff\xff\xff\xff\x0f", 5));  // 2^32 - 1 stages
  EXPECT_EQ(DecodeRecord(huge, out).message(), "record truncated in field stages_tried");
  std::string many = bytes;
  many.replace(8, 1, std::string("\x88\x27", 2));  // 5000 stages: fits in what is left
  EXPECT_EQ(DecodeRecord(many, out).message(), "record has 5000 stages (at most 4096)");
}

TEST(RecordCodecTest, BadFormatUnknownFieldsAndTrailingBytesAreErrors) {
  std::string bytes = Encode(SampleRecord(1));
  Record r;
  std::string bad_format = bytes;
  bad_format[0] = 7;
  EXPECT_EQ(DecodeRecord(bad_format, r).message(), "unknown record format 7");

  Record bare;
  bare.id = "x";
  std::string unknown = Encode(bare);
  // format, id length, "x", ts_ms 0, then the mask (4 bytes, little-endian)
  // with bit 29 set.
  ASSERT_EQ(unknown.size(), 8u);
  unknown.resize(4);
  unknown += std::string("\x00\x00\x00\x20", 4);
  EXPECT_EQ(DecodeRecord(unknown, r).message(), "unknown fields in mask 0x20000000");

  EXPECT_EQ(DecodeRecord(bytes + "x", r).message(), "record has trailing bytes");
  // Without bodies the tail is not read, so trailing bytes go unnoticed there.
  EXPECT_TRUE(DecodeRecord(bytes + "x", r, /*include_bodies=*/false).ok());
}

// A chunk holds records in order, each readable on its own; the head of each
// (id, time) is read without decoding the rest.
TEST(RecordCodecTest, ChunkRoundTripsRecordsInOrder) {
  std::string chunk;
  BeginChunk(chunk);
  std::string scratch;
  std::vector<Record> in = {SampleRecord(1), Record{}, SampleRecord(2)};
  in[1].id = "bare";
  in[1].ts_ms = -7;
  in[2].response_body.assign(300, 'x');  // a length over one varint byte
  for (const Record& r : in) AppendToChunk(chunk, EncodeRecord(r, scratch));
  ChunkReader reader(chunk);
  std::string_view bytes;
  std::vector<Record> out;
  while (reader.Next(bytes)) {
    auto head = ReadEncodedHead(bytes);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    Record r;
    ASSERT_TRUE(DecodeRecord(bytes, r).ok());
    EXPECT_EQ(head->id, r.id);
    EXPECT_EQ(head->ts_ms, r.ts_ms);
    out.push_back(std::move(r));
  }
  EXPECT_TRUE(reader.status().ok());
  EXPECT_EQ(out, in);
  // BeginChunk empties a reused buffer.
  BeginChunk(chunk);
  ChunkReader empty(chunk);
  EXPECT_FALSE(empty.Next(bytes));
  EXPECT_TRUE(empty.status().ok());
}

TEST(RecordCodecTest, MalformedChunksGiveExactErrors) {
  std::string scratch;
  std::string good;
  BeginChunk(good);
  AppendToChunk(good, EncodeRecord(SampleRecord(1), scratch));
  struct Case {
    std::string chunk;
    size_t records;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", 0, "chunk is empty"},
      {"\x02", 0, "unknown chunk format 2"},
      {good.substr(0, good.size() - 1), 0, "chunk truncated in record 0"},
      {good + "\x80", 1, "chunk truncated in record 1"},
  };
  for (const Case& c : cases) {
    ChunkReader reader(c.chunk);
    std::string_view bytes;
    size_t n = 0;
    while (reader.Next(bytes)) ++n;
    EXPECT_EQ(n, c.records) << c.error;
    EXPECT_EQ(reader.status().message(), c.error);
    EXPECT_FALSE(reader.Next(bytes));  // stays at the end
  }
  EXPECT_EQ(ReadEncodedHead("").status().message(), "record is empty");
  EXPECT_EQ(ReadEncodedHead(std::string("\x01\x01r", 3)).status().message(),
            "record truncated in field ts_ms");
}

}  // namespace
}  // namespace switchyard::ledger
