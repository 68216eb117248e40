#include "guard/audit_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace switchyard::guard {
namespace {

AuditRecord Make(int64_t ts, std::string provider, std::string policy) {
  AuditRecord r;
  r.ts_ms = ts;
  r.request_id = "chatcmpl-sy" + std::to_string(ts);
  r.tenant = "acme";
  r.task = "support";
  r.provider = std::move(provider);
  r.model = "gpt-4o-mini";
  r.policy = std::move(policy);
  r.findings_before = {{"card", 1}, {"email", 2}};
  r.payload_sha256 = Sha256Hex("payload " + std::to_string(ts));
  r.payload_bytes = 1000 + ts % 7;
  return r;
}

std::vector<AuditRecord> Varied() {
  std::vector<AuditRecord> records = {
      Make(1'700'000'000'000, "openai", "allow"),
      Make(1'700'000'000'003, "openai", "allow"),      // every text repeated
      Make(1'699'999'999'990, "anthropic", "redact"),  // time goes back; two texts change
      Make(1'700'000'000'003, "anthropic", "redact"),
  };
  records[1].findings_before = {};
  records[2].findings_after = {{"phone", -3}};  // a negative count survives
  records[3].tenant = "";                       // an empty text differs from "acme"
  records[3].task = "";
  records[3].payload_bytes = 0;
  return records;
}

TEST(AuditCodecTest, RoundTripsEveryField) {
  const std::vector<AuditRecord> records = Varied();
  std::string scratch;
  const std::string chunk(EncodeAuditChunk(records, scratch));
  std::vector<AuditRecord> out = {Make(1, "kept", "allow")};  // appended to
  const core::Status s = DecodeAuditChunk(chunk, out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0], Make(1, "kept", "allow"));
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(out[i + 1], records[i]) << i;
}

// The point of the format: a record on one route costs its id, time, digest
// and counts, not its texts again (a row per record took ~160 bytes).
TEST(AuditCodecTest, RepeatedTextsAreNotStoredAgain) {
  std::vector<AuditRecord> one = {Make(1'700'000'000'000, "openai", "allow")};
  std::vector<AuditRecord> two = {one[0], Make(1'700'000'000'005, "openai", "allow")};
  two[1].findings_before = {};
  std::string scratch;
  const std::string a(EncodeAuditChunk(one, scratch));
  const std::string b(EncodeAuditChunk(two, scratch));
  // mask 1 + time delta 1 + id 1+24 + no texts + counts 1+1 + digest 32 + bytes 2
  EXPECT_EQ(b.size() - a.size(), 63u);
}

TEST(AuditCodecTest, EmptyChunkRoundTrips) {
  std::string scratch = "old contents";
  const std::string_view chunk = EncodeAuditChunk({}, scratch);
  EXPECT_EQ(chunk, std::string_view("\x01\x00", 2));
  std::vector<AuditRecord> out;
  EXPECT_TRUE(DecodeAuditChunk(chunk, out).ok());
  EXPECT_TRUE(out.empty());
}

// Times anywhere in int64 (a record's ts is whatever the caller recorded):
// the deltas wrap and round-trip.
TEST(AuditCodecTest, ExtremeTimesRoundTrip) {
  std::vector<AuditRecord> records = {Make(0, "a", "allow"), Make(0, "a", "allow"),
                                      Make(0, "a", "allow"), Make(0, "a", "allow")};
  records[0].ts_ms = std::numeric_limits<int64_t>::max();
  records[1].ts_ms = std::numeric_limits<int64_t>::min();
  records[2].ts_ms = std::numeric_limits<int64_t>::max();
  records[3].ts_ms = -1;
  std::string scratch;
  std::vector<AuditRecord> out;
  ASSERT_TRUE(DecodeAuditChunk(EncodeAuditChunk(records, scratch), out).ok());
  EXPECT_EQ(out, records);
}

// The encoder's precondition (64 lowercase hex digits) is the store's to
// check; a digest that breaks it is never read past its end.
TEST(AuditCodecTest, ADigestThatIsNotOneIsStoredAsZeros) {
  std::vector<AuditRecord> records = {Make(1, "a", "allow"), Make(2, "a", "allow")};
  records[0].payload_sha256 = "";
  records[1].payload_sha256 = std::string(64, 'G');
  std::string scratch;
  std::vector<AuditRecord> out;
  ASSERT_TRUE(DecodeAuditChunk(EncodeAuditChunk(records, scratch), out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].payload_sha256, std::string(64, '0'));
  EXPECT_EQ(out[1].payload_sha256, std::string(64, '0'));
}

TEST(AuditCodecTest, Errors) {
  std::vector<AuditRecord> out;
  auto error = [&](std::string_view chunk) {
    out.clear();
    const core::Status s = DecodeAuditChunk(chunk, out);
    EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
    return s.message();
  };
  EXPECT_EQ(error(""), "audit chunk is empty");
  EXPECT_EQ(error("\x07"), "unknown audit chunk format 7");
  EXPECT_EQ(error("\x01"), "audit chunk truncated in record 0");
  EXPECT_EQ(error(std::string("\x01\x05\x00", 3)), "audit chunk truncated in record 0");

  std::string scratch;
  std::string chunk(EncodeAuditChunk(Varied(), scratch));
  // Every cut short of the end is truncated somewhere, never read past.
  for (size_t n = 2; n < chunk.size(); ++n) {
    EXPECT_EQ(error(chunk.substr(0, n)).rfind("audit chunk truncated in record ", 0), 0u) << n;
  }
  EXPECT_EQ(error(chunk.substr(0, chunk.size() - 1)), "audit chunk truncated in record 3");
  EXPECT_EQ(error(chunk + "x"), "audit chunk has trailing bytes");

  std::string masked = chunk;
  masked[2] = '\x01';  // the first record cannot repeat a record before it
  EXPECT_EQ(error(masked), "audit chunk record 0 has an unknown repeat mask 0x01");
  std::vector<AuditRecord> two = {Make(1, "openai", "allow"), Make(2, "openai", "allow")};
  chunk = EncodeAuditChunk(two, scratch);
  // Record 1's mask byte follows record 0, which ends where a chunk of
  // record 0 alone ends (the count byte is the same: 1 and 2 both take one).
  std::string one_scratch;
  const std::string one_chunk(EncodeAuditChunk(std::span(two).first(1), one_scratch));
  const size_t mask_at = one_chunk.size();
  EXPECT_EQ(chunk[mask_at], '\x1f');  // tenant, task, provider, model, policy repeated
  chunk[mask_at] = '\x3f';
  EXPECT_EQ(error(chunk), "audit chunk record 1 has an unknown repeat mask 0x3f");

  // A count the bytes cannot hold is refused before anything is reserved.
  std::string huge("\x01\xff\xff\xff\xff\x0f", 6);
  huge += std::string(100, '\0');
  EXPECT_EQ(error(huge), "audit chunk truncated in record 0");

  // Findings names ascend, each once (a std::map's order).
  std::vector<AuditRecord> one = {Make(1, "openai", "allow")};
  one[0].findings_before = {{"aa", 1}, {"bb", 2}};
  std::string ordered(EncodeAuditChunk(one, scratch));
  const size_t at = ordered.find("bb");
  ASSERT_NE(at, std::string::npos);
  std::string swapped = ordered;
  swapped.replace(at, 2, "aa");  // "aa" twice
  EXPECT_EQ(error(swapped), "audit chunk record 0 has findings out of order");
  swapped.replace(ordered.find("aa"), 2, "cc");  // "cc" before "aa"
  EXPECT_EQ(error(swapped), "audit chunk record 0 has findings out of order");
}

}  // namespace
}  // namespace switchyard::guard
