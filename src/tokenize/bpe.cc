#include "tokenize/bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "tokenize/internal/byte_pair_merge.h"
#include "tokenize/internal/embedded_ranks.h"

namespace switchyard::tokenize {
namespace {

// Pre-tokenisation patterns exactly as tiktoken publishes them
// (tiktoken_ext/openai_public.py). `$` means end of text (PCRE2_DOLLAR_ENDONLY), as in
// the Rust regex crate tiktoken uses.
constexpr const char* kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)"
    R"(|\p{N}{1,3})"
    R"(| ?[^\s\p{L}\p{N}]+[\r\n/]*)"
    R"(|\s*[\r\n]+)"
    R"(|\s+(?!\S))"
    R"(|\s+)";
constexpr const char* kCl100kPattern =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+)"
    R"(|\s++$|\s*[\r\n]|\s+(?!\S)|\s)";

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

// Length of the UTF-8 character starting at `pos`, or 1 if it is not a valid one.
size_t CharLength(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t length = lead < 0x80    ? 1
                        : lead >= 0xf0 ? 4
                        : lead >= 0xe0 ? 3
                        : lead >= 0xc0 ? 2
                                       : 1;
  if (pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xc0) != 0x80) return 1;
  }
  return length;
}

}  // namespace

struct Tokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

std::string_view EncodingName(Encoding e) {
  return e == Encoding::kO200kBase ? "o200k_base" : "cl100k_base";
}

Tokenizer::Tokenizer(Encoding e, internal::RankTable table, std::unique_ptr<Regex> regex)
    : encoding_(e), table_(std::move(table)), regex_(std::move(regex)) {}

Tokenizer::~Tokenizer() = default;

core::Result<std::shared_ptr<const Tokenizer>> Tokenizer::Load(Encoding e) {
  // Built on first use (thread-safe static initialisation), immutable afterwards.
  if (e == Encoding::kO200kBase) {
    static const core::Result<std::shared_ptr<const Tokenizer>> kO200k = Build(e);
    return kO200k;
  }
  static const core::Result<std::shared_ptr<const Tokenizer>> kCl100k = Build(e);
  return kCl100k;
}

core::Result<std::shared_ptr<const Tokenizer>> Tokenizer::Build(Encoding e) {
  const std::string_view blob =
      e == Encoding::kO200kBase ? internal::EmbeddedO200kRanks() : internal::EmbeddedCl100kRanks();
  auto table = internal::RankTable::Parse(blob);
  if (!table.ok()) {
    return core::Internal(std::string(EncodingName(e)) + ": " + table.status().message());
  }

  const char* pattern = e == Encoding::kO200kBase ? kO200kPattern : kCl100kPattern;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  auto regex = std::make_unique<Regex>();
  regex->code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                    PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                    &error_code, &error_offset, nullptr);
  if (regex->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return core::Internal(std::string(EncodingName(e)) + ": split pattern does not compile at " +
                          std::to_string(error_offset) + ": " +
                          reinterpret_cast<const char*>(message));
  }
  // JIT is an optimisation: where it is unavailable pcre2_match interprets the pattern.
  (void)pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);
  return std::shared_ptr<const Tokenizer>(
      new Tokenizer(e, std::move(table).value(), std::move(regex)));
}

template <typename Sink>
void Tokenizer::Split(std::string_view text, Sink&& sink) const {
  const auto emit_bytes = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) sink(text.substr(i, 1));
  };
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> match_data(
      pcre2_match_data_create_from_pattern(regex_->code, nullptr));
  if (match_data == nullptr) {  // out of memory: degrade to one piece per byte
    emit_bytes(0, text.size());
    return;
  }
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data.get());
  size_t pos = 0;
  while (pos < text.size()) {
    const int rc =
        pcre2_match(regex_->code, subject, text.size(), pos, 0, match_data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {  // only invalid UTF-8 is left
      emit_bytes(pos, text.size());
      return;
    }
    if (rc < 0 || ovector[1] <= ovector[0]) {
      // A resource limit (or an impossible empty match): take one character alone and
      // go on, so a pathological input degrades gracefully instead of failing.
      const size_t length = CharLength(text, pos);
      sink(text.substr(pos, length));
      pos += length;
      continue;
    }
    // Every valid character matches some alternative, so anything skipped is a byte
    // that is not valid UTF-8 (PCRE2_MATCH_INVALID_UTF skips those): one piece each.
    emit_bytes(pos, ovector[0]);
    sink(text.substr(ovector[0], ovector[1] - ovector[0]));
    pos = ovector[1];
  }
}

std::vector<uint32_t> Tokenizer::Encode(std::string_view text) const {
  std::vector<uint32_t> tokens;
  tokens.reserve(text.size() / 3 + 1);
  internal::MergeScratch scratch;
  Split(text, [&](std::string_view piece) {
    internal::BytePairEncode(table_, piece, &scratch, &tokens);
  });
  return tokens;
}

size_t Tokenizer::Count(std::string_view text) const {
  size_t count = 0;
  std::vector<uint32_t> tokens;
  internal::MergeScratch scratch;
  Split(text, [&](std::string_view piece) {
    tokens.clear();
    internal::BytePairEncode(table_, piece, &scratch, &tokens);
    count += tokens.size();
  });
  return count;
}

core::Result<std::string> Tokenizer::Decode(std::span<const uint32_t> tokens) const {
  std::string text;
  for (const uint32_t token : tokens) {
    if (token >= table_.size()) {
      return core::InvalidArgument("token id " + std::to_string(token) +
                                   " is not an ordinary token of " +
                                   std::string(EncodingName(encoding_)));
    }
    text.append(table_.Token(token));
  }
  return text;
}

Encoding EncodingForModel(std::string_view model) {
  std::string name(model);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view m = name;
  if (m.starts_with("ft:")) m.remove_prefix(3);
  if (const size_t slash = m.rfind('/'); slash != std::string_view::npos) {
    m.remove_prefix(slash + 1);
  }
  for (const std::string_view o200k : {"gpt-4o", "gpt-4.1", "gpt-4.5", "chatgpt-4o"}) {
    if (m.starts_with(o200k)) return Encoding::kO200kBase;
  }
  for (const std::string_view cl100k :
       {"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-ada-002", "text-embedding-3"}) {
    if (m.starts_with(cl100k)) return Encoding::kCl100kBase;
  }
  return Encoding::kO200kBase;  // gpt-5*, o1*, o3*, o4*, gpt-oss* and anything unknown
}

int64_t CountChatPromptTokens(const Tokenizer& tokenizer, const core::ChatRequest& request) {
  constexpr int64_t kTokensPerMessage = 3;  // <|start|>{role}<|message|>...<|end|>
  constexpr int64_t kTokensPerName = 1;
  constexpr int64_t kReplyPriming = 3;  // <|start|>assistant<|message|>
  const auto count = [&](std::string_view s) { return static_cast<int64_t>(tokenizer.Count(s)); };
  int64_t total = kReplyPriming;
  for (const core::Message& message : request.messages) {
    total += kTokensPerMessage + count(message.role) + count(message.content);
    if (!message.name.empty()) total += kTokensPerName + count(message.name);
    for (const core::ToolCall& call : message.tool_calls) {
      total += count(call.name) + count(call.arguments);
    }
    total += count(message.tool_call_id);
  }
  total += count(request.tools_json);
  return total;
}

int64_t CountCompletionTokens(const Tokenizer& tokenizer, const core::ChatResponse& response) {
  int64_t total = static_cast<int64_t>(tokenizer.Count(response.content));
  for (const core::ToolCall& call : response.tool_calls) {
    total += static_cast<int64_t>(tokenizer.Count(call.name) + tokenizer.Count(call.arguments));
  }
  return total;
}

}  // namespace switchyard::tokenize
