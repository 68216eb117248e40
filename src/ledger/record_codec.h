// Record codec: one ledger record as one compact binary value (the `body` of
// a row in schema version 6).
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

#include <string>
#include <string_view>

#include "core/status.h"
#include "ledger/record.h"

namespace switchyard::ledger {

inline constexpr unsigned char kRecordFormat = 1;

// Encodes `r` (every field, bodies included) at the start of `scratch` and
// returns the encoding, valid until `scratch` changes. `scratch` grows when it
// is too small for a worst case and never shrinks: a buffer reused from record
// to record is neither reallocated nor zero-filled again.
std::string_view EncodeRecord(const Record& r, std::string& scratch);

// Decodes `in` into `r` (every field is assigned). With include_bodies =
// false, request_body / response_body / pii_findings are left empty.
// Errors: InvalidArgument naming what is wrong, e.g. "record truncated in
// field model", "unknown record format 7", "unknown fields in mask 0x40000000".
core::Status DecodeRecord(std::string_view in, Record& r, bool include_bodies = true);

// The id of an encoded record, without decoding the rest.
// Errors: as DecodeRecord's.
core::Result<std::string_view> EncodedId(std::string_view in);

}  // namespace switchyard::ledger
