#include "guard/audit_codec.h"

#include <array>
#include <cstdint>
#include <string>

#include "core/byte_codec.h"

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

using Counts = std::map<std::string, int64_t, std::less<>>;

size_t CountsBound(const Counts& counts) {
  size_t n = core::kMaxVarint;
  for (const auto& [name, count] : counts) n += 2 * core::kMaxVarint + name.size();
  return n;
}

char* PutCounts(char* p, const Counts& counts) {
  p = core::PutVarint(p, counts.size());
  for (const auto& [name, count] : counts) {
    p = core::PutText(p, name);
    p = core::PutSigned(p, count);
  }
  return p;
}

int HexValue(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

char* PutDigest(char* p, const std::string& hex) {
  for (size_t i = 0; i < kDigestBytes; ++i) {
    *p++ = static_cast<char>(HexValue(hex[2 * i]) << 4 | HexValue(hex[2 * i + 1]));
  }
  return p;
}

void HexInto(std::string_view digest, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(2 * digest.size());
  for (size_t i = 0; i < digest.size(); ++i) {
    const auto b = static_cast<unsigned char>(digest[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 0xF];
  }
}

bool ReadCounts(core::ByteReader& in, Counts& out) {
  uint64_t n = 0;
  if (!in.Varint(n) || n > in.remaining()) return false;  // a pair is >= 2 bytes
  out.clear();
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    int64_t count = 0;
    if (!in.Text(name) || !in.Signed(count)) return false;
    out.emplace(std::string(name), count);
  }
  return true;
}

core::Status Invalid(std::string_view message) {
  return core::InvalidArgument("audit chunk " + std::string(message));
}

}  // namespace

void EncodeAuditChunk(std::span<const AuditRecord> records, std::string& out) {
  size_t bound = 1 + core::kMaxVarint;
  for (const AuditRecord& r : records) {
    bound += 1 + 3 * core::kMaxVarint + r.request_id.size() + kDigestBytes +
             CountsBound(r.findings_before) + CountsBound(r.findings_after);
    for (const std::string* s : Repeatable(r)) bound += core::kMaxVarint + s->size();
  }
  out.resize(bound);  // (no zero fill past the old size once the capacity is there)
  char* p = out.data();
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
    p = core::PutSigned(p, r.ts_ms - ts_before);
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
  out.resize(static_cast<size_t>(p - out.data()));
}

core::Status DecodeAuditChunk(std::string_view chunk, std::vector<AuditRecord>& out) {
  core::ByteReader in(chunk);
  unsigned char format = 0;
  if (!in.Byte(format)) return Invalid("is empty");
  if (format != kAuditChunkFormat) {
    return core::InvalidArgument("unknown audit chunk format " + std::to_string(format));
  }
  uint64_t count = 0;
  // A record takes at least 37 bytes: no count can exceed the bytes left.
  if (!in.Varint(count) || count > in.remaining()) return Invalid("truncated in record 0");
  out.reserve(out.size() + static_cast<size_t>(count));
  const size_t first = out.size();
  int64_t ts_before = 0;
  for (uint64_t k = 0; k < count; ++k) {
    const auto truncated = [k] { return Invalid("truncated in record " + std::to_string(k)); };
    AuditRecord& r = out.emplace_back();
    unsigned char mask = 0;
    if (!in.Byte(mask)) return truncated();
    if ((mask & ~kRepeatMaskAll) != 0 || (k == 0 && mask != 0)) {
      static constexpr char kHex[] = "0123456789abcdef";
      return Invalid("record " + std::to_string(k) + " has an unknown repeat mask 0x" +
                     kHex[mask >> 4] + kHex[mask & 0xF]);
    }
    int64_t delta = 0;
    if (!in.Signed(delta) || !in.Text(r.request_id)) return truncated();
    r.ts_ms = ts_before + delta;
    const auto fields = Repeatable(r);
    for (unsigned i = 0; i < kRepeatableFields; ++i) {
      if ((mask & (1U << i)) != 0) {
        *fields[i] = *Repeatable(out[first + k - 1])[i];
      } else if (!in.Text(*fields[i])) {
        return truncated();
      }
    }
    std::string_view digest;
    if (!ReadCounts(in, r.findings_before) || !ReadCounts(in, r.findings_after) ||
        !in.Bytes(kDigestBytes, digest) || !in.Signed(r.payload_bytes)) {
      return truncated();
    }
    HexInto(digest, r.payload_sha256);
    ts_before = r.ts_ms;
  }
  if (!in.AtEnd()) return Invalid("has trailing bytes");
  return core::Status::Ok();
}

}  // namespace switchyard::guard
