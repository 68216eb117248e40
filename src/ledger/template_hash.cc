#include "ledger/template_hash.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace switchyard::ledger {
namespace {

constexpr size_t kFrameWindow = 80;
constexpr size_t kMinHexDigits = 8;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAlnum(char c) {
  return IsDigit(c) || IsAlpha(c);
}
bool IsHexLetter(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsWordChar(char c) {
  return IsAlnum(c) || c == '_' || c == '-';
}
bool IsEmailLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) {
  return IsAlnum(c) || c == '.' || c == '-';
}
bool IsUrlEnd(char c) {
  return IsSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == ')' || c == ']' ||
         c == '}' || c == '`';
}
bool IsTrailingPunct(char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?';
}

bool StartsWithNoCase(std::string_view s, size_t pos, std::string_view prefix) {
  if (s.size() - pos < prefix.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k) {
    char c = s[pos + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[k]) return false;
  }
  return true;
}

// Length of the URL starting at `pos`, or 0.
size_t MatchUrl(std::string_view s, size_t pos) {
  size_t scheme = 0;
  if (StartsWithNoCase(s, pos, "https://")) {
    scheme = 8;
  } else if (StartsWithNoCase(s, pos, "http://")) {
    scheme = 7;
  } else {
    return 0;
  }
  size_t end = pos + scheme;
  while (end < s.size() && !IsUrlEnd(s[end])) ++end;
  while (end > pos + scheme && IsTrailingPunct(s[end - 1])) --end;
  return end > pos + scheme ? end - pos : 0;
}

// Length of the e-mail address starting at `pos`, or 0: local@domain.tld with
// a tld of at least two letters.
size_t MatchEmail(std::string_view s, size_t pos) {
  size_t i = pos;
  while (i < s.size() && IsEmailLocalChar(s[i])) ++i;
  if (i == pos || i >= s.size() || s[i] != '@') return 0;
  const size_t domain_start = ++i;
  while (i < s.size() && IsDomainChar(s[i])) ++i;
  size_t end = i;
  while (end > domain_start && (s[end - 1] == '.' || s[end - 1] == '-')) --end;
  const std::string_view domain = s.substr(domain_start, end - domain_start);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return 0;
  const std::string_view tld = domain.substr(dot + 1);
  if (tld.size() < 2) return 0;
  for (char c : tld) {
    if (!IsAlpha(c)) return 0;
  }
  return end - pos;
}

// Feeds `piece`s to a byte sink, collapsing whitespace runs and dropping
// leading whitespace. The sink is a string (MaskVariableParts) or a running
// FNV-1a state (PromptTemplateHash, which so needs no intermediate strings).
template <typename Sink>
class Collapsed {
 public:
  explicit Collapsed(Sink& out) : out_(out) {}
  void Space() { pending_space_ = any_; }
  void Append(std::string_view piece) {
    if (pending_space_) out_.Put(' ');
    pending_space_ = false;
    any_ = true;
    out_.Put(piece);
  }
  void Append(char c) { Append(std::string_view(&c, 1)); }

 private:
  Sink& out_;
  bool pending_space_ = false;
  bool any_ = false;
};

struct StringSink {
  std::string& out;
  void Put(char c) { out.push_back(c); }
  void Put(std::string_view piece) { out.append(piece); }
};

struct FnvSink {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Put(char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  void Put(std::string_view piece) {
    for (char c : piece) Put(c);
  }
};

template <typename Sink>
void MaskInto(std::string_view s, Sink& sink) {
  Collapsed<Sink> w(sink);
  // Most prompts hold no URL or e-mail address: skip the per-word matching.
  const bool may_url = s.find("://") != std::string_view::npos;
  const bool may_email = s.find('@') != std::string_view::npos;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const bool word_start = i == 0 || !IsWordChar(s[i - 1]);
    if (IsSpace(c)) {
      w.Space();
      ++i;
      continue;
    }
    if (c == '"') {
      const size_t close = s.find('"', i + 1);
      if (close != std::string_view::npos) {
        w.Append("<str>");
        i = close + 1;
        continue;
      }
      w.Append(c);
      ++i;
      continue;
    }
    if (word_start && may_url) {
      if (const size_t n = MatchUrl(s, i); n > 0) {
        w.Append("<url>");
        i += n;
        continue;
      }
    }
    if (word_start && may_email) {
      if (i == 0 || !IsEmailLocalChar(s[i - 1])) {
        if (const size_t n = MatchEmail(s, i); n > 0) {
          w.Append("<email>");
          i += n;
          continue;
        }
      }
    }
    if (IsWordChar(c)) {
      // One pass over the word decides what it is (IsHexLike() and whether it
      // holds a digit, without reading it three times).
      size_t end = i;
      size_t hex_digits = 0;
      bool digit = false, hex_letter = false, only_hex = true;
      for (; end < s.size() && IsWordChar(s[end]); ++end) {
        const char wc = s[end];
        if (IsDigit(wc)) {
          digit = true;
          ++hex_digits;
        } else if (IsHexLetter(wc)) {
          hex_letter = true;
          ++hex_digits;
        } else if (wc != '-') {
          only_hex = false;
        }
      }
      const std::string_view word = s.substr(i, end - i);
      if (only_hex && hex_letter && hex_digits >= kMinHexDigits) {
        w.Append("<hex>");
      } else if (!digit) {
        w.Append(word);
      } else {
        for (size_t k = 0; k < word.size(); ++k) {
          if (IsDigit(word[k])) {
            if (k == 0 || !IsDigit(word[k - 1])) w.Append('0');
          } else {
            w.Append(word[k]);
          }
        }
      }
      i = end;
      continue;
    }
    w.Append(c);
    ++i;
  }
}

}  // namespace

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string MaskVariableParts(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  StringSink sink{out};
  MaskInto(s, sink);
  return out;
}

std::string_view MessageFrame(std::string_view text) {
  // Only the window is read: a long message costs no more than a short one.
  const size_t window = std::min(text.size(), kFrameWindow);
  if (window == 0) return {};
  const void* newline = std::memchr(text.data(), '\n', window);
  const void* colon = std::memchr(text.data(), ':', window);
  if (newline == nullptr && colon == nullptr) return {};
  const char* end = static_cast<const char*>(newline == nullptr ? colon
                                             : colon == nullptr ? newline
                                                                : std::min(newline, colon));
  return text.substr(0, static_cast<size_t>(end - text.data()));
}

namespace {

bool WholeText(std::string_view role) {
  return role == "system" || role == "developer";
}

// The part of `m` that PromptTemplateHash() reads.
std::string_view HashedText(const core::Message& m) {
  return WholeText(m.role) ? std::string_view(m.content) : MessageFrame(m.content);
}

// FNV-1a 64 over what PromptTemplateHash() reads of `request`: for each
// message role ':' masked-frame '\n', fed as they are produced.
uint64_t TemplateHashValue(const core::ChatRequest& request) {
  FnvSink h;
  for (const auto& m : request.messages) {
    h.Put(m.role);
    h.Put(':');
    MaskInto(HashedText(m), h);
    h.Put('\n');
  }
  return h.h;
}

// `v` as 16 lowercase hex chars.
std::array<char, 16> HexOf(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 16> out;
  for (int k = 15; k >= 0; --k) {
    out[static_cast<size_t>(k)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

// The cache key: the pieces (role, hashed text of each message), each
// prefixed with its length, so that different messages never give the same key.
using PieceLength = uint32_t;

void AppendPiece(std::string& key, std::string_view piece) {
  const auto n = static_cast<PieceLength>(piece.size());
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
  key.append(piece);
}

// Whether `key` at `pos` holds `piece`; advances `pos` past it if so.
bool MatchPiece(std::string_view key, size_t& pos, std::string_view piece) {
  PieceLength n = 0;
  if (key.size() - pos < sizeof n) return false;
  std::memcpy(&n, key.data() + pos, sizeof n);
  pos += sizeof n;
  if (n != piece.size() || key.size() - pos < n) return false;
  if (n > 0 && std::memcmp(key.data() + pos, piece.data(), n) != 0) return false;
  pos += n;
  return true;
}

// The fingerprint: a fast 64-bit hash of the pieces read in place, eight
// bytes at a time (it picks the slot and rejects most misses before the texts
// are compared; it is never stored, so it may change freely).
constexpr uint64_t kFingerprintMul = 0x9e3779b97f4a7c15ULL;

uint64_t MixWord(uint64_t h, uint64_t w) {
  return (std::rotl(h, 23) ^ w) * kFingerprintMul;
}

uint64_t Mix(uint64_t h, std::string_view piece) {
  const char* p = piece.data();
  const size_t n = piece.size();
  h = MixWord(h, n);
  uint64_t w = 0;
  if (n < sizeof w) {
    if (n >= 4) {  // two 4-byte loads, overlapping when n < 8
      uint32_t lo = 0, hi = 0;
      std::memcpy(&lo, p, sizeof lo);
      std::memcpy(&hi, p + n - sizeof hi, sizeof hi);
      w = (uint64_t{hi} << 32) | lo;
    } else if (n > 0) {
      w = (uint64_t{static_cast<unsigned char>(p[0])} << 16) |
          (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
          static_cast<unsigned char>(p[n - 1]);
    }
    return MixWord(h, w);
  }
  size_t i = 0;
  for (; i + sizeof w <= n; i += sizeof w) {
    std::memcpy(&w, p + i, sizeof w);
    h = MixWord(h, w);
  }
  if (i < n) {  // the last 8 bytes, overlapping the previous word
    std::memcpy(&w, p + n - sizeof w, sizeof w);
    h = MixWord(h, w);
  }
  return h;
}

// A role's share of the fingerprint: its size, first and last byte (enough to
// tell the known roles apart; the comparison reads the whole role).
uint64_t RoleWord(std::string_view role) {
  if (role.empty()) return 0;
  return (uint64_t{static_cast<unsigned char>(role.front())} << 40) |
         (uint64_t{static_cast<unsigned char>(role.back())} << 32) | role.size();
}

// Spreads the fingerprint's high bits into the low bits that pick the slot.
uint64_t Avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

}  // namespace

std::string TemplateHashCache::Hash(const core::ChatRequest& request) {
  // One pass over the texts in place: their fingerprint and the key's size.
  // The first kInlineTexts hashed texts are kept for the comparison below.
  constexpr size_t kInlineTexts = 8;
  std::array<std::string_view, kInlineTexts> texts;
  const size_t count = request.messages.size();
  uint64_t fingerprint = 0;
  size_t key_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    const core::Message& m = request.messages[i];
    const std::string_view text = HashedText(m);
    if (i < kInlineTexts) texts[i] = text;
    fingerprint = Mix(MixWord(fingerprint, RoleWord(m.role)), text);
    key_bytes += 2 * sizeof(PieceLength) + m.role.size() + text.size();
  }
  if (key_bytes > kMaxKeyBytes) return PromptTemplateHash(request);
  auto text_of = [&](size_t i) {
    return i < kInlineTexts ? texts[i] : HashedText(request.messages[i]);
  };
  Slot& slot = slots_[Avalanche(fingerprint) % kSlots];
  {
    std::lock_guard lk(slot.mu);
    if (slot.full && slot.fingerprint == fingerprint && slot.key.size() == key_bytes) {
      // Compare piece by piece with the remembered key (no key is built).
      size_t pos = 0;
      bool same = true;
      for (size_t i = 0; i < count && same; ++i) {
        same = MatchPiece(slot.key, pos, request.messages[i].role) &&
               MatchPiece(slot.key, pos, text_of(i));
      }
      if (same) return std::string(slot.hash.data(), slot.hash.size());
    }
  }
  const std::array<char, 16> hash = HexOf(TemplateHashValue(request));
  std::string key;
  key.reserve(key_bytes);
  for (size_t i = 0; i < count; ++i) {
    AppendPiece(key, request.messages[i].role);
    AppendPiece(key, text_of(i));
  }
  std::lock_guard lk(slot.mu);
  slot.fingerprint = fingerprint;
  slot.key = std::move(key);
  slot.hash = hash;
  slot.full = true;
  return std::string(hash.data(), hash.size());
}

std::string PromptTemplateHash(const core::ChatRequest& request) {
  const std::array<char, 16> hex = HexOf(TemplateHashValue(request));
  return std::string(hex.data(), hex.size());
}

}  // namespace switchyard::ledger
