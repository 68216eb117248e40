// Record codec: one ledger record as one compact binary value, and a chunk of
// them as one value (the `body` of a row in schema version 7).
//
// Why not a column per field: SQLite's per-row work grows with the number of
// columns (a parameter bind, a VDBE register copy and a record-header entry
// each, NULL or not), and that was most of the ledger writer thread's cost.
// One value per record is one bind and one column; repeated and default
// fields cost nothing. The stores read records back through DecodeRecord, so
// no caller sees the layout.
//
// Layout (all integers little-endian; "varint" = LEB128, signed ones zigzag):
//   u8     format (kRecordFormat)
//   varint id length, id bytes          (first: EncodedId reads only this)
//   varint ts_ms (signed)
//   u32    field mask: bit i set = field i below is present (not at default)
//   then each present field in bit order:
//     text fields: varint length + bytes; counters: signed varint;
//     doubles: 8 bytes (IEEE 754 bits); flags: the bit alone.
//   stages_tried == {answered_by} (the usual one-stage request) is a flag bit
//   alone, and a template hash of 16 lowercase hex digits is stored as its
//   8 bytes: a gateway record is ~134 bytes instead of ~193 as columns.
// Bits past kFieldBits are an error: a new field means a new format byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ledger/record.h"

namespace switchyard::ledger {

inline constexpr unsigned char kRecordFormat = 1;

// Encodes `r` (every field; request_body, response_body and pii_findings only
// when `with_bodies`) at the start of `scratch` and returns the encoding,
// valid until `scratch` changes. `scratch` grows when it is too small for a
// worst case and never shrinks: a buffer reused from record to record is
// neither reallocated nor zero-filled again.
std::string_view EncodeRecord(const Record& r, std::string& scratch, bool with_bodies = true);

// Decodes `in` into `r` (every field is assigned). With include_bodies =
// false, request_body / response_body / pii_findings are left empty.
// Errors: InvalidArgument naming what is wrong, e.g. "record truncated in
// field model", "unknown record format 7", "unknown fields in mask 0x40000000".
core::Status DecodeRecord(std::string_view in, Record& r, bool include_bodies = true);

// The id of an encoded record, without decoding the rest.
// Errors: as DecodeRecord's.
core::Result<std::string_view> EncodedId(std::string_view in);

// The id and time of an encoded record, without decoding the rest.
struct EncodedHead {
  std::string_view id;
  int64_t ts_ms = 0;
};
// Errors: as DecodeRecord's.
core::Result<EncodedHead> ReadEncodedHead(std::string_view in);

// A chunk: several encoded records as one value.
//   u8 format (kChunkFormat), then per record: varint length, the record's
//   EncodeRecord bytes.
// The ledger stores a batch as a few chunks (one row each) instead of a row
// per record: SQLite's per-row work (a b-tree seek and insert, a VDBE run)
// is then paid per chunk.
inline constexpr unsigned char kChunkFormat = 1;

// Clears `chunk` and writes the chunk header.
void BeginChunk(std::string& chunk);
// Appends one encoded record (EncodeRecord's result) to `chunk`.
void AppendToChunk(std::string& chunk, std::string_view encoded);

// Payloads (request_body, response_body, pii_findings) can be kept apart
// from the records, as a second chunk whose entry k belongs to record k: a
// scan that does not want them then never reads them. An entry is the three
// texts, each a varint length and its bytes.
bool HasPayloads(const Record& r);
void AppendPayloadsToChunk(std::string& chunk, const Record& r);
// Sets r's three payload fields from one entry. Errors: InvalidArgument
// "payloads truncated in <field>", "payloads have trailing bytes".
core::Status DecodePayloads(std::string_view entry, Record& r);

// Reads a chunk's records in order. Not thread-safe; views point into the
// chunk passed to the constructor.
class ChunkReader {
 public:
  explicit ChunkReader(std::string_view chunk);
  // Sets `record` to the next record's encoding and returns true; false at
  // the end or on a malformed chunk (then status() says why).
  bool Next(std::string_view& record);
  // Errors: InvalidArgument "chunk is empty", "unknown chunk format N",
  // "chunk truncated in record K" (K counts from 0).
  const core::Status& status() const { return status_; }

 private:
  const char* p_;
  const char* end_;
  size_t index_ = 0;
  core::Status status_;
};

}  // namespace switchyard::ledger
