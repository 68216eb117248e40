#include "guard/pii.h"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "core/json_writer.h"
#include "guard/internal/validators.h"

namespace switchyard::guard {
namespace {

// How a raw Hyperscan match becomes a finding.
enum class Check : uint8_t {
  kNone,  // accept as reported
  kEmail,
  kPhoneIntl,
  kPhoneNanp,
  kPhoneNational,
  kCard,
  kIban,
  kSsn,
  kIpv4,
  kIpv6,
  kPrivateKey,
};

// Which ScannerOptions switch enables a detector.
enum class Group : uint8_t { kEmail, kPhone, kCard, kIban, kSsn, kIp, kSecrets };

struct BuiltIn {
  const char* regex;
  PiiType type;
  const char* detector;
  int priority;  // higher = more specific, breaks ties between equal lengths
  Check check;
  Group group;
  // Only the longest match per start is useful (no shorter fallback): Hyperscan
  // reports are collapsed as they arrive.
  bool longest_only;
  // Word boundaries, checked after the scan rather than with \b in the regex
  // (\b makes the combined database several times slower): the byte before the
  // start / after the end must not be [A-Za-z0-9_].
  bool word_start;
  bool word_end;
  // 0: compiled with HS_FLAG_SOM_LEFTMOST. > 0: a fixed-width regex, start =
  // end - width, no SOM needed. kRebuild: the check rebuilds the extent around
  // a literal anchor (IPv6).
  int width = 0;
};

constexpr int kRebuild = -1;

#define SY_OCTET "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#define SY_HEX "[0-9A-Fa-f]"

// Tuned for Hyperscan: no \b, and no pattern whose cheapest literal factor is
// common in prose (a full-form IPv6 regex led by a hex class alone made the
// whole database 3x slower). Contiguous card numbers and generic tokens are
// runs of one class and are found by skip-scans instead (see Resolve).
constexpr BuiltIn kBuiltIns[] = {
    // E-mail: '@' and the domain; the local part is found by walking back.
    {R"(@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24})", PiiType::kEmail, "email", 70,
     Check::kEmail, Group::kEmail, false, false, false},
    {R"(\+[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,6})", PiiType::kPhone, "phone", 50,
     Check::kPhoneIntl, Group::kPhone, false, false, false},
    // NANP: 415-555-2671, 415.555.2671, (415)555-2671, (415) 555-2671.
    {R"([2-9][0-9]{2}[ .\-][2-9][0-9]{2}[ .\-][0-9]{4})", PiiType::kPhone, "phone", 50,
     Check::kPhoneNanp, Group::kPhone, false, true, true, 12},
    {R"(\([2-9][0-9]{2}\)[2-9][0-9]{2}[ .\-][0-9]{4})", PiiType::kPhone, "phone", 50,
     Check::kPhoneNanp, Group::kPhone, false, false, true, 13},
    {R"(\([2-9][0-9]{2}\) [2-9][0-9]{2}[ .\-][0-9]{4})", PiiType::kPhone, "phone", 50,
     Check::kPhoneNanp, Group::kPhone, false, false, true, 14},
    // National numbers with a trunk 0: 06 12 34 56 78, 030 1234 5678, (030) 123456.
    {R"(0[1-9](?:[ .\-][0-9]{2}){4}|0[1-9][0-9]{0,4}[ \-/.][0-9]{3,8}(?:[ \-/.][0-9]{2,8}){0,3})",
     PiiType::kPhone, "phone", 50, Check::kPhoneNational, Group::kPhone, false, true, true},
    {R"(\(0[1-9][0-9]{0,4}\) ?[0-9]{2,8}(?:[ \-/.][0-9]{2,8}){0,3})", PiiType::kPhone, "phone", 50,
     Check::kPhoneNational, Group::kPhone, false, false, true},
    // Grouped cards: 4-4-4-4(-3) and Amex 4-6-5; the check extends the last
    // groups. Contiguous 13-19 digit runs come from a skip-scan.
    {R"([2-6][0-9]{3}[ \-][0-9]{4}[ \-][0-9]{4}[ \-][0-9])", PiiType::kCard, "card", 80,
     Check::kCard, Group::kCard, false, true, false, 16},
    {R"(3[0-9]{3}[ \-][0-9]{6}[ \-][0-9]{4})", PiiType::kCard, "card", 80, Check::kCard,
     Group::kCard, false, true, false, 16},
    // IBAN: only the start is matched; the extent comes from the country length.
    {R"([A-Z]{2}[0-9]{2} ?[A-Z0-9]{4})", PiiType::kIban, "iban", 80, Check::kIban, Group::kIban,
     true, true, false},
    {R"([0-9]{3}-[0-9]{2}-[0-9]{4})", PiiType::kSsn, "ssn", 60, Check::kSsn, Group::kSsn, false,
     true, true, 11},
    {R"([0-9]{3} [0-9]{2} [0-9]{4})", PiiType::kSsn, "ssn", 60, Check::kSsn, Group::kSsn, false,
     true, true, 11},
    {R"((?:)" SY_OCTET R"(\.){3})" SY_OCTET, PiiType::kIpv4, "ipv4", 40, Check::kIpv4, Group::kIp,
     false, true, true},
    // IPv6: compressed forms contain "::"; full forms have seven ":group"s. The
    // extent is rebuilt around the match and checked with inet_pton.
    {R"(::)", PiiType::kIpv6, "ipv6", 45, Check::kIpv6, Group::kIp, false, false, false, kRebuild},
    {R"((?::)" SY_HEX R"({1,4}){7})", PiiType::kIpv6, "ipv6", 45, Check::kIpv6, Group::kIp, false,
     false, false, kRebuild},
    // Named secret formats.
    {R"(sk-ant-[A-Za-z0-9_\-]{20,})", PiiType::kSecret, "anthropic_key", 110, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,})", PiiType::kSecret, "openai_key", 108,
     Check::kNone, Group::kSecrets, true, true, false},
    {R"(sk-[A-Za-z0-9_\-]{20,})", PiiType::kSecret, "openai_key", 100, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"([rs]k_(?:live|test)_[A-Za-z0-9]{16,})", PiiType::kSecret, "stripe_key", 100, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})", PiiType::kSecret, "aws_access_key", 100,
     Check::kNone, Group::kSecrets, true, true, true},
    {R"(gh[pousr]_[A-Za-z0-9]{36,})", PiiType::kSecret, "github_token", 100, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"(github_pat_[A-Za-z0-9_]{22,})", PiiType::kSecret, "github_token", 100, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"(xox[abposr]-[A-Za-z0-9\-]{10,})", PiiType::kSecret, "slack_token", 100, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"(AIza[0-9A-Za-z_\-]{35})", PiiType::kSecret, "google_api_key", 100, Check::kNone,
     Group::kSecrets, true, true, false},
    {R"(sy-[A-Za-z0-9]{43})", PiiType::kSecret, "switchyard_key", 100, Check::kNone,
     Group::kSecrets, true, true, true},
    {R"(-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----)", PiiType::kSecret, "private_key", 120,
     Check::kPrivateKey, Group::kSecrets, true, false, false},
    {R"(eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]*)", PiiType::kSecret, "jwt",
     95, Check::kNone, Group::kSecrets, true, true, false},
};
#undef SY_OCTET
#undef SY_HEX

constexpr int kHighEntropyPriority = 10;
constexpr int kCustomPriority = 90;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool IsLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool IsAlnum(char c) {
  return IsDigit(c) || IsUpper(c) || IsLower(c);
}
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsWord(char c) {
  return IsAlnum(c) || c == '_';
}
bool IsEmailLocal(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

// Bytes of a generic token (base64, base64url, base62 and friends).
constexpr std::array<bool, 256> MakeTokenTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  for (const char c : {'_', '-', '+', '/'}) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTokenByte = MakeTokenTable();
bool IsTokenByte(char c) {
  return kTokenByte[static_cast<unsigned char>(c)];
}

char At(std::string_view t, size_t i) {
  return i < t.size() ? t[i] : '\0';
}
char Before(std::string_view t, size_t i) {
  return i > 0 ? t[i - 1] : '\0';
}

size_t CountDigits(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), IsDigit));
}

enum class Verdict { kReject, kValid, kInvalid };

Verdict CheckEmail(std::string_view t, size_t& start, size_t end) {
  const size_t at = start;  // the match is '@' and the domain
  if (at >= end || t[at] != '@') return Verdict::kReject;
  // The local part: up to 64 bytes back from '@'.
  while (start > 0 && at - start < 64 && IsEmailLocal(t[start - 1])) --start;
  if (start > 0 && (IsEmailLocal(t[start - 1]) || t[start - 1] == '@')) return Verdict::kReject;
  while (start < at && t[start] == '.') ++start;
  const std::string_view local = t.substr(start, at - start);
  if (local.empty() || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return Verdict::kReject;
  }
  // Every domain label: non-empty, no leading or trailing hyphen.
  std::string_view domain = t.substr(at + 1, end - at - 1);
  while (!domain.empty()) {
    const size_t dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.front() == '-' || label.back() == '-') return Verdict::kReject;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  const char next = At(t, end);
  if (IsAlnum(next) || next == '-' || next == '_' || next == '@') return Verdict::kReject;
  return Verdict::kValid;
}

Verdict CheckPhoneIntl(std::string_view t, size_t start, size_t end) {
  const char prev = Before(t, start);
  if (IsAlnum(prev) || prev == '+' || prev == '_') return Verdict::kReject;
  const std::string_view s = t.substr(start, end - start);
  const size_t digits = CountDigits(s);
  if (digits < 8 || digits > 15) return Verdict::kReject;
  if (IsDigit(At(t, end)) || IsAlnum(At(t, end))) return Verdict::kReject;
  // Balanced parentheses, at most one pair.
  const auto open = std::count(s.begin(), s.end(), '(');
  const auto close = std::count(s.begin(), s.end(), ')');
  if (open != close || open > 1) return Verdict::kReject;
  return Verdict::kValid;
}

Verdict CheckPhoneNanp(std::string_view t, size_t start, size_t /*end*/) {
  const char prev = Before(t, start);
  if (IsAlnum(prev) || prev == '_' || prev == '+' || prev == '-' || prev == '.') {
    return Verdict::kReject;
  }
  return Verdict::kValid;
}

Verdict CheckPhoneNational(std::string_view t, size_t start, size_t end) {
  const char prev = Before(t, start);
  if (IsAlnum(prev) || prev == '_' || prev == '+' || prev == '-' || prev == '.' || prev == '/') {
    return Verdict::kReject;
  }
  const std::string_view s = t.substr(start, end - start);
  const size_t digits = CountDigits(s);
  if (digits < 9 || digits > 12) return Verdict::kReject;
  // Dates: 0d.mm.yyyy, 0d/mm/yyyy, 0d-mm-yyyy (possibly followed by a time).
  if (s.size() >= 10 && IsDigit(s[1]) && !IsDigit(s[2]) && IsDigit(s[3]) && IsDigit(s[4]) &&
      s[5] == s[2] && IsDigit(s[6]) && IsDigit(s[7]) && IsDigit(s[8]) && IsDigit(s[9])) {
    return Verdict::kReject;
  }
  // One separator kind throughout (spaces may mix with one other kind).
  char sep = 0;
  for (const char c : s) {
    if (IsDigit(c) || c == ' ' || c == '(' || c == ')') continue;
    if (sep != 0 && c != sep) return Verdict::kReject;
    sep = c;
  }
  if (sep == '.' || sep == '/') {
    // Dotted or slashed numbers are versions, dates and fractions more often
    // than phones unless all groups are two or more digits long and there are
    // at least three of them.
    size_t groups = 0;
    size_t run = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i < s.size() && IsDigit(s[i])) {
        ++run;
        continue;
      }
      if (run > 0) {
        if (run < 2) return Verdict::kReject;
        ++groups;
      }
      run = 0;
    }
    if (groups < 3) return Verdict::kReject;
  }
  return Verdict::kValid;
}

// Mastercard 2221-2720; 3 only for Amex, Diners and JCB (30, 34-39).
bool CardPrefixOk(std::string_view digits) {
  if (digits[0] == '2') {
    const int p = (digits[0] - '0') * 1000 + (digits[1] - '0') * 100 + (digits[2] - '0') * 10 +
                  (digits[3] - '0');
    return p >= 2221 && p <= 2720;
  }
  if (digits[0] == '3') return digits[1] == '0' || digits[1] >= '4';
  return true;
}

// Digit groups of a card number: lengths, 3-6 each except the last (1-6), or
// one group of 13-19.
// Card number groupings: one run of 13-19 digits, or 4-4-4-4, 4-4-4-4-3,
// 4-4-4-1..3 (13-15 digits), and Amex/Diners 4-6-5 / 4-6-4.
bool CardGroupsOk(std::string_view s) {
  size_t groups[8];
  size_t n = 0;
  size_t run = 0;
  for (const char c : s) {
    if (IsDigit(c)) {
      ++run;
      continue;
    }
    if (n == 7) return false;
    groups[n++] = run;
    run = 0;
  }
  groups[n++] = run;
  if (n == 1) return true;
  if (n == 3) {
    return groups[0] == 4 && groups[1] == 6 && (groups[2] == 4 || groups[2] == 5);
  }
  if (n != 4 && n != 5) return false;
  for (size_t i = 0; i < 3; ++i) {
    if (groups[i] != 4) return false;
  }
  if (n == 4) return groups[3] >= 1 && groups[3] <= 4;
  return groups[3] == 4 && groups[4] == 3;
}

Verdict CardVerdict(std::string_view t, size_t start, size_t end) {
  const std::string_view s = t.substr(start, end - start);
  char digits[24];
  size_t n = 0;
  for (const char c : s) {
    if (!IsDigit(c)) continue;
    if (n == sizeof(digits)) return Verdict::kReject;
    digits[n++] = c;
  }
  if (n < 13 || n > 19 || !CardGroupsOk(s)) return Verdict::kReject;
  const std::string_view d(digits, n);
  if (!CardPrefixOk(d)) return Verdict::kReject;
  return internal::LuhnValid(d) ? Verdict::kValid : Verdict::kInvalid;
}

// From a grouped match (or a contiguous run), extends over further digits and
// single separators ("4111 1111 1111 1111 123"), then tries the longest
// extent first and drops trailing groups until the Luhn check passes.
Verdict CheckCard(std::string_view t, size_t start, size_t& end) {
  // A card number is not part of a decimal or a dotted number, nor the body
  // of an IBAN ("DE89 3704 ...").
  const char prev = Before(t, start);
  if ((prev == '.' || prev == ',' || prev == '-') && IsDigit(Before(t, start - 1))) {
    return Verdict::kReject;
  }
  if ((prev == ' ' || prev == '-') && start >= 5 && IsUpper(t[start - 5]) &&
      IsUpper(t[start - 4]) && IsDigit(t[start - 3]) && IsDigit(t[start - 2])) {
    return Verdict::kReject;
  }
  size_t digits = CountDigits(t.substr(start, end - start));
  const char sep = [&] {
    for (size_t i = start; i < end; ++i) {
      if (!IsDigit(t[i])) return t[i];
    }
    return '\0';
  }();
  size_t e = end;
  std::vector<size_t> ends;  // group ends, shortest first
  while (true) {
    while (e < t.size() && IsDigit(t[e]) && digits < 19) {
      ++e;
      ++digits;
    }
    if (e < t.size() && IsDigit(t[e])) return Verdict::kReject;  // more than 19 digits
    ends.push_back(e);
    if (sep != '\0' && e + 1 < t.size() && t[e] == sep && IsDigit(t[e + 1]) && digits < 19) {
      ++e;
      continue;
    }
    break;
  }
  if (IsWord(At(t, ends.back()))) return Verdict::kReject;
  Verdict first = Verdict::kReject;
  size_t first_end = 0;
  for (size_t i = ends.size(); i-- > 0;) {
    const Verdict v = CardVerdict(t, start, ends[i]);
    if (v == Verdict::kValid) {
      end = ends[i];
      return v;
    }
    if (v == Verdict::kInvalid && first == Verdict::kReject) {
      first = v;
      first_end = ends[i];
    }
  }
  if (first == Verdict::kInvalid) end = first_end;
  return first;
}

Verdict CheckIban(std::string_view t, size_t start, size_t& end) {
  const size_t want = internal::IbanLength(t.substr(start, 2));
  if (want == 0) return Verdict::kReject;
  char compact[40];
  size_t n = 0;
  size_t i = start;
  while (n < want && i < t.size()) {
    const char c = t[i];
    if (IsUpper(c) || IsDigit(c)) {
      compact[n++] = c;
      ++i;
    } else if (c == ' ' && n > 0 && i + 1 < t.size() && (IsUpper(t[i + 1]) || IsDigit(t[i + 1]))) {
      ++i;
    } else {
      break;
    }
  }
  if (n < want) return Verdict::kReject;
  if (IsAlnum(At(t, i)) || At(t, i) == '_') return Verdict::kReject;
  end = i;
  return internal::IbanChecksumValid(std::string_view(compact, n)) ? Verdict::kValid
                                                                   : Verdict::kInvalid;
}

Verdict CheckSsn(std::string_view t, size_t start, size_t end) {
  const std::string_view s = t.substr(start, end - start);
  if (s.size() != 11) return Verdict::kReject;
  // Not part of a longer dashed or dotted number (phone, date, ...).
  const char prev = Before(t, start);
  const char next = At(t, end);
  if ((prev == '-' || prev == '.' || prev == '+') && IsDigit(Before(t, start - 1))) {
    return Verdict::kReject;
  }
  if ((next == '-' || next == '.') && IsDigit(At(t, end + 1))) return Verdict::kReject;
  return internal::SsnValid(s.substr(0, 3), s.substr(4, 2), s.substr(7, 4)) ? Verdict::kValid
                                                                            : Verdict::kInvalid;
}

Verdict CheckIpv4(std::string_view t, size_t start, size_t end) {
  const char prev = Before(t, start);
  if (prev == '.' && IsDigit(Before(t, start - 1))) return Verdict::kReject;
  if (At(t, end) == '.' && IsDigit(At(t, end + 1))) return Verdict::kReject;
  return Verdict::kValid;
}

Verdict CheckIpv6(std::string_view t, size_t& start, size_t& end) {
  // Rebuild the extent around the match: hex digits and colons to the left,
  // hex digits, colons and dots (embedded IPv4) to the right; 45 bytes at most.
  constexpr size_t kMax = 45;
  while (start > 0 && end - start < kMax && (IsHex(t[start - 1]) || t[start - 1] == ':')) --start;
  while (end < t.size() && end - start < kMax &&
         (IsHex(t[end]) || t[end] == ':' || t[end] == '.')) {
    ++end;
  }
  while (end > start && t[end - 1] == '.') --end;
  if (end - start < 2) return Verdict::kReject;
  const char prev = Before(t, start);
  if (IsAlnum(prev) || prev == '_' || prev == ':' || prev == '.') return Verdict::kReject;
  // A colon that ends a sentence clause ("at 2001:db8::1: it") is not part of it.
  while (end > start + 2 && t[end - 1] == ':' && t[end - 2] != ':') --end;
  if (IsWord(At(t, end))) return Verdict::kReject;
  const std::string_view s = t.substr(start, end - start);
  if (!internal::Ipv6Valid(s)) return Verdict::kReject;
  // Written groups (an embedded IPv4 counts as the two it replaces) and hex
  // digits: "a::b" or "::1" are too little to call an address.
  size_t groups = 0;
  size_t digits = 0;
  bool in_group = false;
  for (const char c : s) {
    if (c == ':' || c == '.') {
      if (c == '.') ++groups;
      in_group = false;
      continue;
    }
    ++digits;
    if (!in_group) ++groups;
    in_group = true;
  }
  if (s.find('.') != std::string_view::npos) --groups;  // 4 parts -> 2 groups overall
  if (groups >= 3 || (groups == 2 && digits >= 5)) return Verdict::kValid;
  return Verdict::kReject;
}

// The first occurrence of a literal at or after a position, memoised for the
// non-decreasing positions one scan asks about (keeps many PEM headers linear).
struct NextLiteral {
  std::string_view literal;
  size_t from = std::string_view::npos;
  size_t pos = std::string_view::npos;
  size_t Find(std::string_view t, size_t p) {
    if (from != std::string_view::npos && from <= p &&
        (pos == std::string_view::npos || pos >= p)) {
      return pos;
    }
    from = p;
    pos = t.find(literal, p);
    return pos;
  }
};

struct PemSearch {
  NextLiteral end_line{"-----END "};
  NextLiteral tail{"PRIVATE KEY-----"};
  NextLiteral header{"-----BEGIN "};
};

// Extends a PEM header to the whole block, through its END line when present
// (within 64 KiB, before any next BEGIN), else over the base64 body that follows.
Verdict CheckPrivateKey(std::string_view t, size_t start, size_t& end, PemSearch& pem) {
  constexpr size_t kMaxBlock = size_t{64} * 1024;
  constexpr size_t kTailLength = 16;  // "PRIVATE KEY-----"
  const size_t end_line = pem.end_line.Find(t, end);
  if (end_line != std::string_view::npos && end_line - end < kMaxBlock) {
    const size_t tail = pem.tail.Find(t, end_line);
    const size_t next_header = pem.header.Find(t, end);
    if (tail != std::string_view::npos && tail - end < kMaxBlock &&
        (next_header == std::string_view::npos || next_header > end_line)) {
      end = tail + kTailLength;
      return Verdict::kValid;
    }
  }
  // No END line: take the following lines that are base64 (or, before the
  // body, "Name: value" headers), stopping at a blank line after the body.
  auto is_b64 = [](char c) { return IsAlnum(c) || c == '+' || c == '/' || c == '='; };
  size_t i = end;
  size_t last_good = end;
  bool seen_body = false;
  while (i < t.size() && i - start < kMaxBlock) {
    if (t[i] == '\r') ++i;
    if (i >= t.size() || t[i] != '\n') break;
    const size_t line_start = i + 1;
    size_t eol = t.find('\n', line_start);
    if (eol == std::string_view::npos) eol = t.size();
    std::string_view line = t.substr(line_start, eol - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (seen_body) break;
      i = eol;
      continue;
    }
    if (std::all_of(line.begin(), line.end(), is_b64)) {
      seen_body = true;
    } else if (seen_body || line.find(": ") == std::string_view::npos) {
      break;
    }
    last_good = line_start + line.size();
    i = eol;
  }
  end = last_good;
  return Verdict::kValid;
}

Verdict CheckHighEntropy(std::string_view t, size_t start, size_t& end,
                         const ScannerOptions& options) {
  while (end < t.size() && t[end] == '=' && end - start < 4096) ++end;
  const std::string_view s = t.substr(start, end - start);
  if (s.size() < options.high_entropy_min_length) return Verdict::kReject;
  bool upper = false;
  bool lower = false;
  bool digit = false;
  for (const char c : s) {
    upper |= IsUpper(c);
    lower |= IsLower(c);
    digit |= IsDigit(c);
  }
  if (!upper || !lower || !digit) return Verdict::kReject;
  if (internal::ShannonEntropy(s) < options.entropy_threshold) return Verdict::kReject;
  return Verdict::kValid;
}

// Calls fn(start, end) for every maximal run of >= min_len bytes satisfying
// `in_run`. Skip-scan: when the last byte of a window is outside the class no
// run of min_len can cover the window, so the scan jumps past it; text with few
// such bytes is crossed looking at about one byte in min_len.
template <typename Pred, typename Fn>
void ForEachRun(std::string_view t, size_t min_len, Pred in_run, Fn fn) {
  const size_t n = t.size();
  size_t i = 0;  // always 0 or just after a byte outside the class
  while (i + min_len <= n) {
    const size_t j = i + min_len - 1;
    if (!in_run(t[j])) {
      i = j + 1;
      continue;
    }
    size_t k = j;
    while (k > i && in_run(t[k - 1])) --k;
    if (k > i) {
      i = k;
      continue;
    }
    size_t end = j + 1;
    while (end < n && in_run(t[end])) ++end;
    fn(i, end);
    i = end;
  }
}

struct Raw {
  uint32_t detector;  // dense index into Impl::detectors
  uint32_t from;
  uint32_t to;
};

struct Candidate {
  Finding finding;
  int priority;
};

}  // namespace

std::string_view PiiTypeName(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "email";
    case PiiType::kPhone:
      return "phone";
    case PiiType::kCard:
      return "card";
    case PiiType::kIban:
      return "iban";
    case PiiType::kSsn:
      return "ssn";
    case PiiType::kIpv4:
      return "ipv4";
    case PiiType::kIpv6:
      return "ipv6";
    case PiiType::kSecret:
      return "secret";
    case PiiType::kCustom:
      return "custom";
  }
  return "unknown";
}

std::string DescribeFinding(const Finding& f) {
  std::string out(f.name);
  if (f.detector != f.name) {
    out += '/';
    out += f.detector;
  }
  if (f.segment != 0) out += "#" + std::to_string(f.segment);
  out += '[' + std::to_string(f.start) + ',' + std::to_string(f.end) + ')';
  if (!f.validated) out += " unvalidated";
  return out;
}

std::map<std::string, int64_t, std::less<>> CountByName(std::span<const Finding> findings) {
  std::map<std::string, int64_t, std::less<>> counts;
  for (const Finding& f : findings) {
    auto it = counts.find(f.name);
    if (it == counts.end()) {
      counts.emplace(std::string(f.name), 1);
    } else {
      ++it->second;
    }
  }
  return counts;
}

std::string FindingsSummaryJson(std::span<const Finding> findings) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  for (const auto& [name, count] : CountByName(findings)) w.Field(name, count);
  w.EndObject();
  return out;
}

struct PiiScanner::Impl {
  struct Detector {
    PiiType type;
    std::string name;
    std::string detector;
    int priority;
    Check check;
    bool longest_only;
    bool word_start;
    bool word_end;
    int width = 0;  // see BuiltIn::width
  };

  ~Impl() {
    for (hs_scratch_t* s : free_scratch) hs_free_scratch(s);
    if (prototype != nullptr) hs_free_scratch(prototype);
    if (db != nullptr) hs_free_database(db);
  }

  hs_scratch_t* Acquire() const {
    {
      std::lock_guard lock(mu);
      if (!free_scratch.empty()) {
        hs_scratch_t* s = free_scratch.back();
        free_scratch.pop_back();
        return s;
      }
    }
    hs_scratch_t* s = nullptr;
    if (hs_clone_scratch(prototype, &s) != HS_SUCCESS) return nullptr;
    return s;
  }
  void Release(hs_scratch_t* s) const {
    std::lock_guard lock(mu);
    free_scratch.push_back(s);
  }

  std::vector<Detector> detectors;  // indexed by Hyperscan id
  // No custom patterns: no detector can match a NUL byte (the built-ins are
  // written without '.', negated classes or \s), so texts joined by NULs
  // match exactly as they would one by one (ScanTexts).
  bool joinable = true;
  hs_database_t* db = nullptr;
  hs_scratch_t* prototype = nullptr;
  mutable std::mutex mu;
  mutable std::vector<hs_scratch_t*> free_scratch;
};

namespace {

bool GroupEnabled(Group g, const ScannerOptions& o) {
  switch (g) {
    case Group::kEmail:
      return o.email;
    case Group::kPhone:
      return o.phone;
    case Group::kCard:
      return o.card;
    case Group::kIban:
      return o.iban;
    case Group::kSsn:
      return o.ssn;
    case Group::kIp:
      return o.ip;
    case Group::kSecrets:
      return o.secrets;
  }
  return false;
}

bool ValidCustomName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsLower(c) || IsDigit(c) || c == '_'; });
}

struct ScanContext {
  const PiiScanner::Impl* impl;
  std::vector<Raw>* raw;
  std::vector<int32_t>* last;  // per detector: index of its last raw entry, or -1
};

int OnMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int /*flags*/,
            void* ctx) {
  auto* c = static_cast<ScanContext*>(ctx);
  const auto t = static_cast<uint32_t>(to);
  const int width = c->impl->detectors[id].width;
  const auto f = width == 0  ? static_cast<uint32_t>(from)
                 : width > 0 ? t - static_cast<uint32_t>(width)
                             : t;
  int32_t& last = (*c->last)[id];
  if (c->impl->detectors[id].longest_only && last >= 0) {
    Raw& prev = (*c->raw)[static_cast<size_t>(last)];
    if (prev.from == f) {
      prev.to = std::max(prev.to, t);
      return 0;
    }
  }
  last = static_cast<int32_t>(c->raw->size());
  c->raw->push_back(Raw{id, f, t});
  return 0;
}

// One hs_scan over `text`: its raw matches, appended to `raw` (offsets from
// the start of `text`).
core::Status MatchInto(const PiiScanner::Impl& impl, std::string_view text, std::vector<Raw>& raw) {
  if (impl.db == nullptr) return core::Status::Ok();
  hs_scratch_t* scratch = impl.Acquire();
  if (scratch == nullptr) return core::Internal("pii: hyperscan scan failed (no scratch)");
  std::vector<int32_t> last(impl.detectors.size(), -1);
  ScanContext ctx{&impl, &raw, &last};
  const hs_error_t rc =
      hs_scan(impl.db, text.data(), static_cast<unsigned>(text.size()), 0, scratch, OnMatch, &ctx);
  impl.Release(scratch);
  if (rc != HS_SUCCESS) {
    return core::Internal("pii: hyperscan scan failed (" + std::to_string(rc) + ")");
  }
  return core::Status::Ok();
}

// Validation, boundaries and overlap resolution of one text's raw matches
// (offsets relative to `text`); appends the findings, sorted by start.
void Resolve(const PiiScanner::Impl& impl, const ScannerOptions& options, std::string_view text,
             size_t segment, std::vector<Raw>& raw, std::vector<Finding>& out) {
  std::vector<Candidate> candidates;
  auto add = [&](const PiiScanner::Impl::Detector& d, size_t start, size_t end, Verdict v,
                 int priority) {
    Finding f;
    f.type = d.type;
    f.start = start;
    f.end = end;
    f.validated = v == Verdict::kValid;
    f.name = d.name;
    f.detector = d.detector;
    f.segment = segment;
    candidates.push_back(Candidate{f, priority + (f.validated ? 0 : -200)});
  };

  // Per (detector, start): the ends from longest to shortest; the first one
  // that passes its boundary and check becomes a candidate.
  PemSearch pem;
  std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
    if (a.detector != b.detector) return a.detector < b.detector;
    if (a.from != b.from) return a.from < b.from;
    return a.to > b.to;
  });
  for (size_t i = 0; i < raw.size();) {
    size_t j = i;
    while (j < raw.size() && raw[j].detector == raw[i].detector && raw[j].from == raw[i].from) ++j;
    const PiiScanner::Impl::Detector& d = impl.detectors[raw[i].detector];
    const bool start_ok = !d.word_start || !IsWord(Before(text, raw[i].from));
    for (size_t k = i; start_ok && k < j; ++k) {
      size_t start = raw[k].from;
      size_t end = raw[k].to;
      if (d.word_end && IsWord(At(text, end))) continue;
      Verdict v = Verdict::kValid;
      switch (d.check) {
        case Check::kNone:
          break;
        case Check::kEmail:
          v = CheckEmail(text, start, end);
          break;
        case Check::kPhoneIntl:
          v = CheckPhoneIntl(text, start, end);
          break;
        case Check::kPhoneNanp:
          v = CheckPhoneNanp(text, start, end);
          break;
        case Check::kPhoneNational:
          v = CheckPhoneNational(text, start, end);
          break;
        case Check::kCard:
          v = CheckCard(text, start, end);
          break;
        case Check::kIban:
          v = CheckIban(text, start, end);
          break;
        case Check::kSsn:
          v = CheckSsn(text, start, end);
          break;
        case Check::kIpv4:
          v = CheckIpv4(text, start, end);
          break;
        case Check::kIpv6:
          v = CheckIpv6(text, start, end);
          break;
        case Check::kPrivateKey:
          v = CheckPrivateKey(text, start, end, pem);
          break;
      }
      if (v == Verdict::kReject || start >= end) continue;
      if (v == Verdict::kInvalid && !options.keep_unvalidated) continue;
      add(d, start, end, v, d.priority);
      break;
    }
    i = j;
  }

  if (options.card) {
    // Contiguous card numbers: maximal runs of 13-19 digits.
    static const PiiScanner::Impl::Detector kCardRun{PiiType::kCard, "card", "card", 80,
                                                     Check::kCard,   false,  true,   true};
    ForEachRun(
        text, 13, [](char c) { return IsDigit(c); },
        [&](size_t start, size_t end) {
          if (end - start > 19 || IsWord(Before(text, start)) || IsWord(At(text, end))) return;
          size_t e = end;
          const Verdict v = CheckCard(text, start, e);
          if (v == Verdict::kValid || (v == Verdict::kInvalid && options.keep_unvalidated)) {
            add(kCardRun, start, e, v, kCardRun.priority);
          }
        });
  }
  if (options.high_entropy) {
    static const PiiScanner::Impl::Detector kHighEntropy{
        PiiType::kSecret, "secret", "high_entropy", kHighEntropyPriority,
        Check::kNone,     true,     true,           true};
    ForEachRun(
        text, options.high_entropy_min_length, [](char c) { return IsTokenByte(c); },
        [&](size_t start, size_t end) {
          if (CheckHighEntropy(text, start, end, options) == Verdict::kValid) {
            add(kHighEntropy, start, end, Verdict::kValid, kHighEntropyPriority);
          }
        });
  }
  if (candidates.empty()) return;

  // Overlaps: longest first, then the most specific; keep what does not
  // overlap anything kept.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.finding.length() != b.finding.length()) return a.finding.length() > b.finding.length();
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.finding.start < b.finding.start;
  });
  std::map<size_t, size_t> kept;  // start -> end
  const size_t first_out = out.size();
  for (const Candidate& c : candidates) {
    const size_t s = c.finding.start;
    const size_t e = c.finding.end;
    auto next = kept.lower_bound(s);
    if (next != kept.end() && next->first < e) continue;
    if (next != kept.begin() && std::prev(next)->second > s) continue;
    kept.emplace(s, e);
    out.push_back(c.finding);
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first_out), out.end(),
            [](const Finding& a, const Finding& b) { return a.start < b.start; });
}

}  // namespace

core::Result<std::unique_ptr<PiiScanner>> PiiScanner::Create(const ScannerOptions& options) {
  if (hs_valid_platform() != HS_SUCCESS) {
    return core::FailedPrecondition("pii: this CPU is not supported by Hyperscan (needs SSSE3)");
  }
  if (options.high_entropy_min_length < 16 || options.high_entropy_min_length > 256) {
    return core::InvalidArgument("pii: high_entropy_min_length must be between 16 and 256");
  }
  auto impl = std::make_unique<Impl>();
  std::vector<std::string> regexes;
  std::vector<unsigned> flags;
  for (const BuiltIn& b : kBuiltIns) {
    if (!GroupEnabled(b.group, options)) continue;
    impl->detectors.push_back(
        PiiScanner::Impl::Detector{b.type, std::string(PiiTypeName(b.type)), b.detector, b.priority,
                                   b.check, b.longest_only, b.word_start, b.word_end, b.width});
    regexes.emplace_back(b.regex);
    flags.push_back(HS_FLAG_UTF8 | (b.width == 0 ? HS_FLAG_SOM_LEFTMOST : 0u));
  }
  const size_t first_custom = impl->detectors.size();
  std::set<std::string, std::less<>> names;
  for (const CustomPattern& p : options.custom) {
    const std::string prefix = "pii: custom pattern '" + p.name + "': ";
    if (!ValidCustomName(p.name)) {
      return core::InvalidArgument(prefix + "name must match [a-z0-9_]{1,32}");
    }
    static constexpr std::string_view kReserved[] = {"email", "phone", "card",   "iban",  "ssn",
                                                     "ipv4",  "ipv6",  "secret", "custom"};
    if (std::find(std::begin(kReserved), std::end(kReserved), p.name) != std::end(kReserved)) {
      return core::InvalidArgument(prefix + "name is a built-in type");
    }
    if (!names.insert(p.name).second) return core::InvalidArgument(prefix + "duplicate name");
    if (p.regex.empty()) return core::InvalidArgument(prefix + "empty regex");
    impl->detectors.push_back(PiiScanner::Impl::Detector{
        PiiType::kCustom, p.name, p.name, kCustomPriority, Check::kNone, false, false, false});
    regexes.push_back(p.regex);
    flags.push_back(HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8 | (p.caseless ? HS_FLAG_CASELESS : 0u));
  }
  impl->joinable = impl->detectors.size() == first_custom;
  if (regexes.empty()) {
    // Nothing to detect: an empty database is not allowed, so scans short-cut.
    return std::unique_ptr<PiiScanner>(new PiiScanner(options, std::move(impl)));
  }
  std::vector<const char*> exprs;
  std::vector<unsigned> ids;
  for (size_t i = 0; i < regexes.size(); ++i) {
    exprs.push_back(regexes[i].c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* error = nullptr;
  const hs_error_t rc =
      hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &impl->db, &error);
  if (rc != HS_SUCCESS) {
    std::string message = error != nullptr ? error->message : "unknown error";
    const int index = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    if (index >= 0 && static_cast<size_t>(index) >= first_custom) {
      const std::string& name = impl->detectors[static_cast<size_t>(index)].name;
      return core::InvalidArgument("pii: custom pattern '" + name + "': " + message);
    }
    return core::Internal("pii: hyperscan: " + message);
  }
  if (hs_alloc_scratch(impl->db, &impl->prototype) != HS_SUCCESS) {
    return core::Internal("pii: hyperscan: cannot allocate scratch space");
  }
  return std::unique_ptr<PiiScanner>(new PiiScanner(options, std::move(impl)));
}

PiiScanner::PiiScanner(ScannerOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

PiiScanner::~PiiScanner() = default;

size_t PiiScanner::DatabaseBytes() const {
  size_t bytes = 0;
  if (impl_->db != nullptr && hs_database_size(impl_->db, &bytes) == HS_SUCCESS) return bytes;
  return 0;
}

core::Result<std::vector<Finding>> PiiScanner::ScanText(std::string_view text) const {
  std::vector<Finding> out;
  if (core::Status s = ScanInto(text, 0, out); !s.ok()) return s;
  return out;
}

core::Result<std::vector<Finding>> PiiScanner::ScanTexts(
    std::span<const std::string_view> texts) const {
  std::vector<Finding> out;
  size_t joined_size = 0;
  for (std::string_view t : texts) joined_size += t.size() + 1;
  if (texts.size() < 2 || !impl_->joinable || impl_->db == nullptr || joined_size > UINT_MAX) {
    for (size_t i = 0; i < texts.size(); ++i) {
      if (core::Status s = ScanInto(texts[i], i, out); !s.ok()) return s;
    }
    return out;
  }
  // One Hyperscan pass over the texts joined by NUL bytes instead of one per
  // text: a scan's fixed cost (scratch, set-up) is most of it for the short
  // messages of a chat. No built-in matches a NUL (Impl::joinable), so every
  // match lies inside one text; each text's matches are then resolved on
  // their own, as ScanInto would.
  std::string joined;
  joined.reserve(joined_size);
  for (std::string_view t : texts) {
    joined.append(t);
    joined.push_back('\0');
  }
  std::vector<Raw> raw;
  if (core::Status s = MatchInto(*impl_, joined, raw); !s.ok()) return s;
  // Grouped by text (Resolve orders each text's matches itself).
  std::sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) { return a.from < b.from; });
  std::vector<Raw> mine;
  size_t next = 0;
  uint32_t begin = 0;  // of text i in `joined`
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto end = static_cast<uint32_t>(begin + texts[i].size());
    mine.clear();
    for (; next < raw.size() && raw[next].from <= end; ++next) {
      const Raw& r = raw[next];
      // (A match over a separator cannot happen with the built-ins; were it
      // to, the texts one by one would not have it either.)
      if (r.from < begin || r.to > end) continue;
      mine.push_back(Raw{r.detector, r.from - begin, r.to - begin});
    }
    begin = end + 1;  // past the separator
    if (texts[i].empty()) continue;
    Resolve(*impl_, options_, texts[i], i, mine, out);
  }
  return out;
}

core::Result<std::vector<Finding>> PiiScanner::ScanTexts(
    const std::vector<std::string>& texts) const {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  return ScanTexts(std::span<const std::string_view>(views));
}

core::Status PiiScanner::ScanInto(std::string_view text, size_t segment,
                                  std::vector<Finding>& out) const {
  if (text.empty()) return core::Status::Ok();
  if (text.size() > UINT_MAX) return core::InvalidArgument("pii: text larger than 4 GiB");
  std::vector<Raw> raw;
  if (core::Status s = MatchInto(*impl_, text, raw); !s.ok()) return s;
  Resolve(*impl_, options_, text, segment, raw, out);
  return core::Status::Ok();
}

}  // namespace switchyard::guard
