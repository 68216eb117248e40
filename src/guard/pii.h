// PiiScanner: finds personal data and secrets in text with ONE Hyperscan pass.
//
//   PiiScanner::Create(options)   compiles every regex detector (built-in + custom)
//                                 into one immutable Hyperscan block-mode database
//   scanner.ScanText(text)        ONE hs_scan over the text (UTF-8 mode; SOM
//                                 leftmost for variable-width patterns, start =
//                                 end - width for fixed-width ones), then
//                                 per-detector validation (Luhn, mod-97, SSN
//                                 rules, inet_pton, entropy) and overlap resolution
//
// Two detectors are runs of one byte class rather than regexes: contiguous card
// numbers (13-19 digits) and generic high-entropy tokens. Hyperscan spends about
// 1 ns/byte on each such bounded repeat, so they are found by a skip-scan that
// reads about one byte in 13 (or 32) of ordinary text. Likewise no regex uses
// \b (word boundaries are checked on the candidates) and none is led by a class
// common in prose: together that keeps mixed text above 200 MB/s per core
// (bench/guard_bench.cc: ~250 MB/s on 1 MiB of digit-heavy mixed text, ~400 MB/s
// on 16 KiB, ~1.2 GB/s on prose).
//
// Detectors: e-mail; phone (international "+CC ..." and national formats with
// separators: NANP "(415) 555-2671", trunk-prefixed "030 1234 5678"; plain digit
// runs and years never match); payment card (13-19 digits, optional single spaces
// or dashes, IIN 2-6, Luhn); IBAN (country length table + mod-97); US SSN
// (ddd-dd-dddd; area not 000/666/9xx, group not 00, serial not 0000); IPv4
// (octets <= 255, not part of a longer dotted number); IPv6 (inet_pton-valid,
// at least three groups written); secrets (sk-/sk-proj-/sk-ant-, AKIA/ASIA,
// ghp_/gho_/ghu_/ghs_/ghr_, github_pat_, xoxb-/xoxa-/xoxp-, AIza, Stripe
// sk_live_, our own sy- keys, PEM private keys (the whole BEGIN..END block), JWTs,
// and generic tokens of >= 32 [A-Za-z0-9_-] characters with letters and digits
// whose Shannon entropy is at least `entropy_threshold` bits per character); and
// custom patterns (name + Hyperscan regex) from config.
//
// Overlaps: when two candidates overlap, the longer wins; equal lengths go to
// the more specific detector (named secret formats > checksummed types > e-mail
// > SSN > phone > IP > generic high-entropy token > custom). Findings are
// returned sorted by start and never overlap.
//
// Input is text as the client meant it: the DECODED content of JSON strings
// (the gateway scans message contents after parsing). A key written with JSON
// escapes ("sk\u002dproj...") in raw JSON is therefore found once the string is
// decoded (see redact.h DecodeJsonString), not in the raw bytes. Texts scanned
// as separate segments (ScanTexts) are never matched across: a secret split
// over two message contents is not found as one secret (its halves may still
// match on their own, e.g. as high-entropy tokens).
//
// The scanner expects valid UTF-8 (the front door validates bodies); invalid
// bytes are scanned safely but matches next to them are unspecified.
//
// A Finding holds offsets, never the matched bytes: the matched text is reached
// only through Finding::Reveal(text), so logging a Finding cannot leak it.
//
// Ownership and threading: the scanner owns the compiled database (immutable)
// and a pool of Hyperscan scratch spaces; ScanText/ScanTexts are safe from any
// number of threads at once (each call borrows a scratch, cloning a new one when
// all are busy). Finding::name and ::detector point at strings owned by the
// scanner (static for built-ins): use them while the scanner lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::guard {

enum class PiiType : uint8_t {
  kEmail,
  kPhone,
  kCard,
  kIban,
  kSsn,
  kIpv4,
  kIpv6,
  kSecret,
  kCustom,
};

// "email", "phone", "card", "iban", "ssn", "ipv4", "ipv6", "secret", "custom".
std::string_view PiiTypeName(PiiType type);

struct Finding {
  PiiType type = PiiType::kEmail;
  size_t start = 0;  // byte offsets into the scanned text: [start, end)
  size_t end = 0;
  // The checksum or structural rule passed (Luhn, mod-97, SSN ranges), or the
  // detector has none. False only when ScannerOptions::keep_unvalidated is set.
  bool validated = true;
  // The type name ("email", ...) or, for kCustom, the custom pattern's name.
  std::string_view name;
  // The detector within the type, e.g. "openai_key", "aws_access_key", "jwt",
  // "private_key", "high_entropy"; equals `name` for non-secrets.
  std::string_view detector;
  // Index of the text in ScanTexts() input; 0 for ScanText().
  size_t segment = 0;

  size_t length() const { return end - start; }
  // The matched bytes. Explicit on purpose: never log the result.
  std::string_view Reveal(std::string_view scanned_text) const {
    return scanned_text.substr(start, end - start);
  }
  bool operator==(const Finding&) const = default;
};

// "card[12,31)" style description without the matched text (safe to log).
std::string DescribeFinding(const Finding& f);

// Counts by Finding::name, e.g. {"card": 1, "email": 2}.
std::map<std::string, int64_t, std::less<>> CountByName(std::span<const Finding> findings);
// The same as a compact JSON object, keys sorted: {"card":1,"email":2}; "{}" when empty.
// Suitable for the ledger's pii_findings column.
std::string FindingsSummaryJson(std::span<const Finding> findings);

struct CustomPattern {
  // [a-z0-9_]{1,32}, lowercase; becomes Finding::name and the placeholder label
  // (uppercased: <EMPLOYEE_ID_1>). Must not be a built-in type name.
  std::string name;
  // Hyperscan (PCRE subset) syntax; no lookaround or backreferences, must not
  // match the empty string. Compiled with SOM leftmost and UTF-8 flags.
  std::string regex;
  bool caseless = false;
};

struct ScannerOptions {
  // Built-in detectors; each can be switched off.
  bool email = true;
  bool phone = true;
  bool card = true;
  bool iban = true;
  bool ssn = true;
  bool ip = true;       // IPv4 and IPv6
  bool secrets = true;  // named key formats, private keys, JWTs
  bool high_entropy = true;
  // Generic tokens: minimum length and entropy (bits per character). Random
  // base62 of length 32 scores ~4.7; hex digests stay under 4.0, UUIDs ~3.5.
  size_t high_entropy_min_length = 32;
  double entropy_threshold = 4.0;
  // Report candidates whose checksum failed (card Luhn, IBAN mod-97, SSN rules)
  // with validated = false instead of dropping them.
  bool keep_unvalidated = false;
  std::vector<CustomPattern> custom;
};

class PiiScanner {
 public:
  // Compiles the database. Errors:
  //   FailedPrecondition "pii: this CPU is not supported by Hyperscan (needs SSSE3)"
  //   InvalidArgument "pii: custom pattern '<name>': <why>" where why is e.g.
  //     "name must match [a-z0-9_]{1,32}", "name is a built-in type",
  //     "duplicate name", or Hyperscan's compile error text
  //   InvalidArgument "pii: high_entropy_min_length must be between 16 and 256"
  //   Internal "pii: hyperscan: <message>" for an unexpected library failure.
  static core::Result<std::unique_ptr<PiiScanner>> Create(const ScannerOptions& options = {});
  ~PiiScanner();
  PiiScanner(const PiiScanner&) = delete;
  PiiScanner& operator=(const PiiScanner&) = delete;

  // Findings in `text`, sorted by start, non-overlapping. Errors: Internal
  // "pii: hyperscan scan failed (<code>)" (out of memory for a scratch), or
  // InvalidArgument "pii: text larger than 4 GiB".
  core::Result<std::vector<Finding>> ScanText(std::string_view text) const;

  // Finds in each text what ScanText would (never a match across texts);
  // Finding::segment is the index into `texts` and offsets are relative to
  // that text. Without custom patterns the texts take one Hyperscan pass,
  // joined by NUL bytes, which no built-in detector matches (a scan's fixed
  // cost was most of it for a chat's short messages: 12 of them 2.3 -> 0.9 us,
  // bench/guard_bench.cc); custom patterns could match a NUL, so with them
  // each text takes its own pass.
  core::Result<std::vector<Finding>> ScanTexts(std::span<const std::string_view> texts) const;
  core::Result<std::vector<Finding>> ScanTexts(const std::vector<std::string>& texts) const;

  const ScannerOptions& options() const { return options_; }
  // Size of the compiled database in bytes (for start-up logs).
  size_t DatabaseBytes() const;

  struct Impl;

 private:
  PiiScanner(ScannerOptions options, std::unique_ptr<Impl> impl);
  core::Status ScanInto(std::string_view text, size_t segment, std::vector<Finding>& out) const;

  ScannerOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::guard
