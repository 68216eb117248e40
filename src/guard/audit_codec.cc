#include "guard/audit_codec.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "core/byte_codec.h"
#include "core/hex.h"

namespace switchyard::guard {
namespace {

constexpr size_t kDigestBytes = 32;
constexpr unsigned kRepeatableFields = 5;
constexpr unsigned char kRepeatMaskAll = (1U << kRepeatableFields) - 1;

// The texts a record may share with the record before, in mask-bit order.
std::array<const std::string*, kRepeatableFields> Repeatable(const AuditRecord& r) {
  return {&r.tenant, &r.task, &r.provider, &r.model, &r.policy};
}
std::array<std::string*, kRepeatableFields> Repeatable(AuditRecord& r) {
  return {&r.tenant, &r.task, &r.provider, &r.model, &r.policy};
}

size_t CountsBound(const FindingCounts& counts) {
  size_t n = core::kMaxVarint;
  for (const auto& [name, count] : counts) n += 2 * core::kMaxVarint + name.size();
  return n;
}

char* PutCounts(char* p, const FindingCounts& counts) {
  p = core::PutVarint(p, counts.size());
  for (const auto& [name, count] : counts) {
    p = core::PutText(p, name);
    p = core::PutSigned(p, count);
  }
  return p;
}

// A digest that is not 64 lowercase hex digits (callers check first) is
// stored as 32 zero bytes: never read past its end.
char* PutDigest(char* p, const std::string& hex) {
  if (hex.size() != 2 * kDigestBytes || !core::HexDecode(hex, p)) {
    std::fill_n(p, kDigestBytes, '\0');
  }
  return p + kDigestBytes;
}

// Wrapping arithmetic: any two int64 times have a delta that round-trips.
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// The smallest encoded record: mask, time, an empty id, every text repeated,
// two empty counts, the digest and the byte count.
constexpr size_t kMinRecordBytes = 1 + 1 + 1 + 1 + 1 + kDigestBytes + 1;

enum class CountsRead { kOk, kTruncated, kOutOfOrder };

// Names must come in ascending order, each once (as a std::map writes them).
CountsRead ReadCounts(core::ByteReader& in, FindingCounts& out) {
  uint64_t n = 0;
  if (!in.Varint(n) || n > in.remaining()) return CountsRead::kTruncated;  // a pair is >= 2 bytes
  out.clear();
  std::string_view before;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    int64_t count = 0;
    if (!in.Text(name) || !in.Signed(count)) return CountsRead::kTruncated;
    if (i > 0 && name <= before) return CountsRead::kOutOfOrder;
    out.emplace_hint(out.end(), std::string(name), count);
    before = name;
  }
  return CountsRead::kOk;
}

core::Status Invalid(std::string_view message) {
  return core::InvalidArgument("audit chunk " + std::string(message));
}

}  // namespace

std::string_view EncodeAuditChunk(std::span<const AuditRecord> records, std::string& scratch) {
  size_t bound = 1 + core::kMaxVarint;
  for (const AuditRecord& r : records) {
    bound += 1 + 3 * core::kMaxVarint + r.request_id.size() + kDigestBytes +
             CountsBound(r.findings_before) + CountsBound(r.findings_after);
    for (const std::string* s : Repeatable(r)) bound += core::kMaxVarint + s->size();
  }
  // Grown, never shrunk: a scratch reused from batch to batch is not
  // zero-filled again.
  if (scratch.size() < bound) scratch.resize(bound);
  char* p = scratch.data();
  *p++ = static_cast<char>(kAuditChunkFormat);
  p = core::PutVarint(p, records.size());
  const AuditRecord* before = nullptr;
  int64_t ts_before = 0;
  for (const AuditRecord& r : records) {
    const auto fields = Repeatable(r);
    unsigned char mask = 0;
    if (before != nullptr) {
      const auto before_fields = Repeatable(*before);
      for (unsigned i = 0; i < kRepeatableFields; ++i) {
        if (*fields[i] == *before_fields[i]) mask = static_cast<unsigned char>(mask | (1U << i));
      }
    }
    *p++ = static_cast<char>(mask);
    p = core::PutSigned(p, WrapSub(r.ts_ms, ts_before));
    p = core::PutText(p, r.request_id);
    for (unsigned i = 0; i < kRepeatableFields; ++i) {
      if ((mask & (1U << i)) == 0) p = core::PutText(p, *fields[i]);
    }
    p = PutCounts(p, r.findings_before);
    p = PutCounts(p, r.findings_after);
    p = PutDigest(p, r.payload_sha256);
    p = core::PutSigned(p, r.payload_bytes);
    before = &r;
    ts_before = r.ts_ms;
  }
  return {scratch.data(), static_cast<size_t>(p - scratch.data())};
}

core::Status DecodeAuditChunk(std::string_view chunk, std::vector<AuditRecord>& out) {
  core::ByteReader in(chunk);
  unsigned char format = 0;
  if (!in.Byte(format)) return Invalid("is empty");
  if (format != kAuditChunkFormat) {
    return core::InvalidArgument("unknown audit chunk format " + std::to_string(format));
  }
  uint64_t count = 0;
  // No count can promise more records than the bytes left can hold (nor make
  // the reserve below ask for more than the chunk's size allows).
  if (!in.Varint(count) || count > in.remaining() / kMinRecordBytes) {
    return Invalid("truncated in record 0");
  }
  out.reserve(out.size() + static_cast<size_t>(count));
  const size_t first = out.size();
  int64_t ts_before = 0;
  for (uint64_t k = 0; k < count; ++k) {
    const auto truncated = [k] { return Invalid("truncated in record " + std::to_string(k)); };
    AuditRecord& r = out.emplace_back();
    unsigned char mask = 0;
    if (!in.Byte(mask)) return truncated();
    if ((mask & ~kRepeatMaskAll) != 0 || (k == 0 && mask != 0)) {
      return Invalid("record " + std::to_string(k) + " has an unknown repeat mask 0x" +
                     core::kLowerHexDigits[mask >> 4] + core::kLowerHexDigits[mask & 0xF]);
    }
    int64_t delta = 0;
    if (!in.Signed(delta) || !in.Text(r.request_id)) return truncated();
    r.ts_ms = WrapAdd(ts_before, delta);
    const auto fields = Repeatable(r);
    for (unsigned i = 0; i < kRepeatableFields; ++i) {
      if ((mask & (1U << i)) != 0) {
        *fields[i] = *Repeatable(out[first + k - 1])[i];
      } else if (!in.Text(*fields[i])) {
        return truncated();
      }
    }
    for (FindingCounts* counts : {&r.findings_before, &r.findings_after}) {
      switch (ReadCounts(in, *counts)) {
        case CountsRead::kOk:
          break;
        case CountsRead::kTruncated:
          return truncated();
        case CountsRead::kOutOfOrder:
          return Invalid("record " + std::to_string(k) + " has findings out of order");
      }
    }
    std::string_view digest;
    if (!in.Bytes(kDigestBytes, digest) || !in.Signed(r.payload_bytes)) return truncated();
    core::HexEncode(digest, r.payload_sha256);
    ts_before = r.ts_ms;
  }
  if (!in.AtEnd()) return Invalid("has trailing bytes");
  return core::Status::Ok();
}

}  // namespace switchyard::guard
