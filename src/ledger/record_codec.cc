#include "ledger/record_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/byte_codec.h"
#include "core/hex.h"

namespace switchyard::ledger {
namespace {

// Field bits, in encoding order.
enum Field : unsigned {
  kTenant,
  kTask,
  kRoute,
  kStagesTried,  // stages_tried as a list
  kAnsweredBy,
  kProvider,
  kModel,
  kStream,
  kAttempts,
  kInputTokens,
  kCachedInputTokens,
  kCacheWriteTokens,
  kOutputTokens,
  kReasoningTokens,
  kUsageEstimated,
  kCostUsd,
  kFirstByteMs,
  kTotalMs,
  kStatus,
  kErrorCode,
  kEscalated,
  kConfidence,
  kTemplateHashText,
  kTemplateHashHex,  // 16 lowercase hex digits, stored as their 8 bytes
  kRouteReason,
  kRequestBody,
  kResponseBody,
  kPiiFindings,
  kStagesAreAnsweredBy,  // stages_tried == {answered_by}: nothing stored
  kFieldBits,
};
static_assert(kFieldBits <= 32);

constexpr uint64_t kMaxStages = 4096;

constexpr uint32_t Bit(Field f) {
  return uint32_t{1} << f;
}

using core::ByteReader;
using core::kMaxVarint;
using core::PutFixed;
using core::PutSigned;
using core::PutText;
using core::PutVarint;

// The 16 lowercase hex digits of `s` as a number, or false.
bool PackedHex(std::string_view s, uint64_t& out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    const int8_t d = core::kLowerHexValue[static_cast<unsigned char>(c)];
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint8_t>(d);
  }
  out = v;
  return true;
}

core::Status Truncated(std::string_view field) {
  return core::InvalidArgument("record truncated in field " + std::string(field));
}

// Reads the format byte and the id.
core::Status ReadHead(ByteReader& in, std::string_view& id) {
  unsigned char format = 0;
  if (!in.Byte(format)) return core::InvalidArgument("record is empty");
  if (format != kRecordFormat) {
    return core::InvalidArgument("unknown record format " + std::to_string(format));
  }
  if (!in.Text(id)) return Truncated("id");
  return core::Status::Ok();
}

}  // namespace

std::string_view EncodeRecord(const Record& r, std::string& scratch, bool with_bodies) {
  uint32_t mask = 0;
  auto set = [&mask](bool present, Field f) {
    if (present) mask |= Bit(f);
  };
  const bool stages_are_answer =
      r.stages_tried.size() == 1 && !r.answered_by.empty() && r.stages_tried[0] == r.answered_by;
  uint64_t hash = 0;
  const bool hash_hex = PackedHex(r.template_hash, hash);
  set(!r.tenant.empty(), kTenant);
  set(!r.task.empty(), kTask);
  set(!r.route.empty(), kRoute);
  set(!r.stages_tried.empty() && !stages_are_answer, kStagesTried);
  set(!r.answered_by.empty(), kAnsweredBy);
  set(!r.provider.empty(), kProvider);
  set(!r.model.empty(), kModel);
  set(r.stream, kStream);
  set(r.attempts != 0, kAttempts);
  set(r.input_tokens != 0, kInputTokens);
  set(r.cached_input_tokens != 0, kCachedInputTokens);
  set(r.cache_write_tokens != 0, kCacheWriteTokens);
  set(r.output_tokens != 0, kOutputTokens);
  set(r.reasoning_tokens != 0, kReasoningTokens);
  set(r.usage_estimated, kUsageEstimated);
  // Bit patterns, not values: -0.0 and NaN are kept as they are.
  set(std::bit_cast<uint64_t>(r.cost_usd) != 0, kCostUsd);
  set(std::bit_cast<uint64_t>(r.first_byte_ms) != 0, kFirstByteMs);
  set(std::bit_cast<uint64_t>(r.total_ms) != 0, kTotalMs);
  set(r.status != 0, kStatus);
  set(!r.error_code.empty(), kErrorCode);
  set(r.escalated, kEscalated);
  set(r.confidence.has_value(), kConfidence);
  set(!r.template_hash.empty() && !hash_hex, kTemplateHashText);
  set(hash_hex, kTemplateHashHex);
  set(!r.route_reason.empty(), kRouteReason);
  set(with_bodies && !r.request_body.empty(), kRequestBody);
  set(with_bodies && !r.response_body.empty(), kResponseBody);
  set(with_bodies && !r.pii_findings.empty(), kPiiFindings);
  set(stages_are_answer, kStagesAreAnsweredBy);
  auto has = [mask](Field f) { return (mask & Bit(f)) != 0; };

  // An upper bound: every text's bytes, a varint for every field and length.
  size_t bound = 1 + (4 + kFieldBits) * kMaxVarint + size_t{5} * 8;
  for (const std::string* s : {&r.id, &r.tenant, &r.task, &r.route, &r.answered_by, &r.provider,
                               &r.model, &r.error_code, &r.template_hash, &r.route_reason}) {
    bound += s->size();
  }
  if (with_bodies) bound += r.request_body.size() + r.response_body.size() + r.pii_findings.size();
  if (has(kStagesTried)) {
    for (const std::string& s : r.stages_tried) bound += kMaxVarint + s.size();
  }
  if (scratch.size() < bound) scratch.resize(std::max(bound, 2 * scratch.size()));
  char* const begin = scratch.data();
  char* p = begin;

  *p++ = static_cast<char>(kRecordFormat);
  p = PutText(p, r.id);
  p = PutSigned(p, r.ts_ms);
  p = PutFixed(p, mask);
  auto text = [&](Field f, const std::string& s) {
    if (has(f)) p = PutText(p, s);
  };
  auto count = [&](Field f, int64_t v) {
    if (has(f)) p = PutSigned(p, v);
  };
  auto real = [&](Field f, double v) {
    if (has(f)) p = PutFixed(p, std::bit_cast<uint64_t>(v));
  };
  text(kTenant, r.tenant);
  text(kTask, r.task);
  text(kRoute, r.route);
  if (has(kStagesTried)) {
    p = PutVarint(p, r.stages_tried.size());
    for (const std::string& s : r.stages_tried) p = PutText(p, s);
  }
  text(kAnsweredBy, r.answered_by);
  text(kProvider, r.provider);
  text(kModel, r.model);
  count(kAttempts, r.attempts);
  count(kInputTokens, r.input_tokens);
  count(kCachedInputTokens, r.cached_input_tokens);
  count(kCacheWriteTokens, r.cache_write_tokens);
  count(kOutputTokens, r.output_tokens);
  count(kReasoningTokens, r.reasoning_tokens);
  real(kCostUsd, r.cost_usd);
  real(kFirstByteMs, r.first_byte_ms);
  real(kTotalMs, r.total_ms);
  count(kStatus, r.status);
  text(kErrorCode, r.error_code);
  if (r.confidence) real(kConfidence, *r.confidence);
  text(kTemplateHashText, r.template_hash);
  if (hash_hex) p = PutFixed(p, hash);
  text(kRouteReason, r.route_reason);
  text(kRequestBody, r.request_body);
  text(kResponseBody, r.response_body);
  text(kPiiFindings, r.pii_findings);
  return {begin, static_cast<size_t>(p - begin)};
}

core::Status DecodeRecord(std::string_view bytes, Record& r, bool include_bodies) {
  ByteReader in(bytes);
  std::string_view id;
  if (core::Status st = ReadHead(in, id); !st.ok()) return st;
  r.id.assign(id);
  if (!in.Signed(r.ts_ms)) return Truncated("ts_ms");
  uint32_t mask = 0;
  if (!in.Fixed(mask)) return Truncated("mask");
  if ((mask >> kFieldBits) != 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", mask & ~((uint32_t{1} << kFieldBits) - 1));
    return core::InvalidArgument(std::string("unknown fields in mask ") + hex);
  }
  auto has = [mask](Field f) { return (mask & Bit(f)) != 0; };
  // Each reader assigns the field's default when its bit is clear.
  auto text = [&](Field f, std::string& out) {
    if (!has(f)) {
      out.clear();
      return true;
    }
    return in.Text(out);
  };
  auto count = [&](Field f, int64_t& out) {
    out = 0;
    return !has(f) || in.Signed(out);
  };
  auto small = [&](Field f, int& out) {
    out = 0;
    return !has(f) || in.Int(out);
  };
  auto real = [&](Field f, double& out) {
    out = 0;
    return !has(f) || in.Double(out);
  };
  if (!text(kTenant, r.tenant)) return Truncated("tenant");
  if (!text(kTask, r.task)) return Truncated("task");
  if (!text(kRoute, r.route)) return Truncated("route");
  r.stages_tried.clear();
  if (has(kStagesTried)) {
    uint64_t n = 0;
    // Each stage takes at least its length byte: a count beyond what is left
    // is corrupt; and a route tries a handful of stages, so a count in the
    // thousands (the bytes of a large body after it) is too.
    if (!in.Varint(n) || n > in.remaining()) return Truncated("stages_tried");
    if (n > kMaxStages) {
      return core::InvalidArgument("record has " + std::to_string(n) + " stages (at most " +
                                   std::to_string(kMaxStages) + ")");
    }
    r.stages_tried.resize(static_cast<size_t>(n));
    for (std::string& s : r.stages_tried) {
      if (!in.Text(s)) return Truncated("stages_tried");
    }
  }
  if (!text(kAnsweredBy, r.answered_by)) return Truncated("answered_by");
  if (has(kStagesAreAnsweredBy)) r.stages_tried.assign(1, r.answered_by);
  if (!text(kProvider, r.provider)) return Truncated("provider");
  if (!text(kModel, r.model)) return Truncated("model");
  r.stream = has(kStream);
  if (!small(kAttempts, r.attempts)) return Truncated("attempts");
  if (!count(kInputTokens, r.input_tokens)) return Truncated("input_tokens");
  if (!count(kCachedInputTokens, r.cached_input_tokens)) return Truncated("cached_input_tokens");
  if (!count(kCacheWriteTokens, r.cache_write_tokens)) return Truncated("cache_write_tokens");
  if (!count(kOutputTokens, r.output_tokens)) return Truncated("output_tokens");
  if (!count(kReasoningTokens, r.reasoning_tokens)) return Truncated("reasoning_tokens");
  r.usage_estimated = has(kUsageEstimated);
  if (!real(kCostUsd, r.cost_usd)) return Truncated("cost_usd");
  if (!real(kFirstByteMs, r.first_byte_ms)) return Truncated("first_byte_ms");
  if (!real(kTotalMs, r.total_ms)) return Truncated("total_ms");
  if (!small(kStatus, r.status)) return Truncated("status");
  if (!text(kErrorCode, r.error_code)) return Truncated("error_code");
  r.escalated = has(kEscalated);
  r.confidence.reset();
  if (has(kConfidence)) {
    double c = 0;
    if (!in.Double(c)) return Truncated("confidence");
    r.confidence = c;
  }
  if (!text(kTemplateHashText, r.template_hash)) return Truncated("template_hash");
  if (has(kTemplateHashHex)) {
    uint64_t hash = 0;
    if (!in.Fixed(hash)) return Truncated("template_hash");
    r.template_hash.resize(16);
    for (int i = 15; i >= 0; --i, hash >>= 4)
      r.template_hash[static_cast<size_t>(i)] = core::kLowerHexDigits[hash & 15];
  }
  if (!text(kRouteReason, r.route_reason)) return Truncated("route_reason");
  // The bodies come last: a scan without them stops reading here.
  r.request_body.clear();
  r.response_body.clear();
  r.pii_findings.clear();
  if (!include_bodies) return core::Status::Ok();
  if (!text(kRequestBody, r.request_body)) return Truncated("request_body");
  if (!text(kResponseBody, r.response_body)) return Truncated("response_body");
  if (!text(kPiiFindings, r.pii_findings)) return Truncated("pii_findings");
  if (!in.AtEnd()) return core::InvalidArgument("record has trailing bytes");
  return core::Status::Ok();
}

core::Result<std::string_view> EncodedId(std::string_view bytes) {
  ByteReader in(bytes);
  std::string_view id;
  if (core::Status st = ReadHead(in, id); !st.ok()) return st;
  return id;
}

core::Result<EncodedHead> ReadEncodedHead(std::string_view bytes) {
  ByteReader in(bytes);
  EncodedHead head;
  if (core::Status st = ReadHead(in, head.id); !st.ok()) return st;
  if (!in.Signed(head.ts_ms)) return Truncated("ts_ms");
  return head;
}

void BeginChunk(std::string& chunk) {
  chunk.clear();
  chunk.push_back(static_cast<char>(kChunkFormat));
}

void AppendToChunk(std::string& chunk, std::string_view encoded) {
  char length[kMaxVarint];
  chunk.append(length, PutVarint(length, encoded.size()));
  chunk.append(encoded);
}

bool HasPayloads(const Record& r) {
  return !r.request_body.empty() || !r.response_body.empty() || !r.pii_findings.empty();
}

void AppendPayloadsToChunk(std::string& chunk, const Record& r) {
  const std::string* texts[] = {&r.request_body, &r.response_body, &r.pii_findings};
  char scratch[kMaxVarint];
  size_t entry = 0;
  for (const std::string* t : texts) {
    entry += static_cast<size_t>(PutVarint(scratch, t->size()) - scratch) + t->size();
  }
  // One resize, then raw writes (an append per piece was ~170 instructions).
  const size_t at = chunk.size();
  chunk.resize(at + kMaxVarint + entry);
  char* p = PutVarint(chunk.data() + at, entry);
  for (const std::string* t : texts) p = PutText(p, *t);
  chunk.resize(static_cast<size_t>(p - chunk.data()));
}

core::Status DecodePayloads(std::string_view entry, Record& r) {
  ByteReader in(entry);
  if (!in.Text(r.request_body)) return core::InvalidArgument("payloads truncated in request_body");
  if (!in.Text(r.response_body)) {
    return core::InvalidArgument("payloads truncated in response_body");
  }
  if (!in.Text(r.pii_findings)) return core::InvalidArgument("payloads truncated in pii_findings");
  if (!in.AtEnd()) return core::InvalidArgument("payloads have trailing bytes");
  return core::Status::Ok();
}

ChunkReader::ChunkReader(std::string_view chunk)
    : p_(chunk.data()), end_(chunk.data() + chunk.size()) {
  if (chunk.empty()) {
    status_ = core::InvalidArgument("chunk is empty");
    p_ = end_;
  } else if (static_cast<unsigned char>(chunk[0]) != kChunkFormat) {
    status_ = core::InvalidArgument("unknown chunk format " +
                                    std::to_string(static_cast<unsigned char>(chunk[0])));
    p_ = end_;
  } else {
    ++p_;
  }
}

bool ChunkReader::Next(std::string_view& record) {
  if (p_ == end_) return false;
  ByteReader in(std::string_view(p_, static_cast<size_t>(end_ - p_)));
  if (!in.Text(record)) {
    status_ = core::InvalidArgument("chunk truncated in record " + std::to_string(index_));
    p_ = end_;
    return false;
  }
  p_ = record.data() + record.size();
  ++index_;
  return true;
}

}  // namespace switchyard::ledger
