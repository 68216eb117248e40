// Egress audit chunk: a batch of AuditRecords as one compact binary value,
// the `body` of a row of guard_egress_audit_chunks (audit.h).
//
// Why not a row per record: the writer thread paid for SQLite's per-row work
// (11 columns bound, a record built, a b-tree insert and an index entry per
// record) and above all for the bytes (~160 per record with the index, each
// written to the WAL and again at the checkpoint). A chunk row per batch
// costs one insert, and a gateway record ~70 bytes (63 with the codec test's
// 24-character id; the gateway's are 31): the digest as its 32 bytes, and the
// tenant, task, provider, model and policy only when they differ from the
// record before (on one route they seldom do).
//
// Layout (core/byte_codec.h: varints, signed = zigzag, texts = varint
// length + bytes):
//   u8     format (kAuditChunkFormat)
//   varint record count
//   per record:
//     u8     repeat mask: bit i set = text field i of {tenant, task, provider,
//            model, policy} equals the record before's and is not stored;
//            other bits must be 0; the first record's mask is 0
//     signed ts_ms minus the record before's ts_ms (the first: minus 0)
//     text   request_id
//     text   each field of {tenant, task, provider, model, policy} not in the mask
//     findings_before, then findings_after: varint n, n x (text name, signed count),
//            names ascending, each once
//     32 bytes payload SHA-256
//     signed payload_bytes
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "guard/audit.h"

namespace switchyard::guard {

inline constexpr unsigned char kAuditChunkFormat = 1;

// The chunk of `records`, written at the start of `scratch` and valid until
// `scratch` changes. `scratch` grows to a worst case and is never shrunk, so
// one reused from batch to batch is neither reallocated nor zero-filled
// again. Every payload_sha256 must be 64 lowercase hex digits
// (AuditStore::Record checks); one that is not is stored as 32 zero bytes.
std::string_view EncodeAuditChunk(std::span<const AuditRecord> records, std::string& scratch);

// Appends the chunk's records to `out`, in the order they were encoded.
// Errors (InvalidArgument; `out` may hold part of the chunk then):
// "audit chunk is empty", "unknown audit chunk format N", "audit chunk
// truncated in record K" (K counts from 0), "audit chunk record K has an
// unknown repeat mask 0xNN", "audit chunk record K has findings out of
// order" (names must ascend, each once), "audit chunk has trailing bytes".
core::Status DecodeAuditChunk(std::string_view chunk, std::vector<AuditRecord>& out);

}  // namespace switchyard::guard
