// Local token counting for OpenAI models: byte-level BPE over the o200k_base and
// cl100k_base vocabularies, used when an upstream reports no usage (the ledger then marks
// the record as estimated).
//
// Encode() matches tiktoken's encode_ordinary(): text is split with the encoding's
// published pre-tokenisation regex (PCRE2, UTF + UCP, JIT), then each piece is
// byte-pair merged by rank. Special-token text such as "<|endoftext|>" is ordinary text.
// Input need not be valid UTF-8: a byte that is not part of a valid UTF-8 character
// becomes its own piece (one token per such byte) instead of failing.
//
// Fidelity: ids equal tiktoken's (and gpt-tokenizer's: tests/tokenize compares them)
// except on rare characters where the regex engines' Unicode data differ: PCRE2 10.42
// has Unicode 14 (characters assigned later are neither letters nor digits here) and
// treats U+180E MONGOLIAN VOWEL SEPARATOR as whitespace. (gpt-tokenizer itself departs
// from tiktoken on U+FEFF, U+0085 and U+017F after an apostrophe; we follow tiktoken.)
//
// Ownership and threading: Load() builds each encoding once per process (from rank data
// embedded in the binary) and hands out shared, immutable instances; every const method
// may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.h"
#include "core/status.h"
#include "tokenize/internal/rank_table.h"

namespace switchyard::tokenize {

enum class Encoding { kO200kBase, kCl100kBase };

// "o200k_base" or "cl100k_base".
std::string_view EncodingName(Encoding e);

class Tokenizer {
 public:
  // The tokenizer for `e`; the first call per encoding parses its ranks (tens of ms),
  // later calls return the same instance. Errors: kInternal if the embedded ranks are
  // corrupt or the split pattern does not compile (both are build defects).
  static core::Result<std::shared_ptr<const Tokenizer>> Load(Encoding e);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  Encoding encoding() const { return encoding_; }
  // Number of ordinary (non-special) tokens.
  size_t vocabulary_size() const { return table_.size(); }

  // Token ids of `text` as ordinary text (special tokens not recognised).
  std::vector<uint32_t> Encode(std::string_view text) const;
  // Encode(text).size(), without keeping the ids.
  size_t Count(std::string_view text) const;
  // The bytes of `tokens` concatenated. Errors: kInvalidArgument naming the first id
  // that is not an ordinary token of this encoding.
  core::Result<std::string> Decode(std::span<const uint32_t> tokens) const;

 private:
  struct Regex;
  Tokenizer(Encoding e, internal::RankTable table, std::unique_ptr<Regex> regex);
  static core::Result<std::shared_ptr<const Tokenizer>> Build(Encoding e);
  // Calls `sink(piece)` for each pre-tokenised piece of `text`, in order.
  template <typename Sink>
  void Split(std::string_view text, Sink&& sink) const;

  Encoding encoding_;
  internal::RankTable table_;
  std::unique_ptr<Regex> regex_;
};

// The encoding OpenAI uses for `model`: gpt-4 and gpt-3.5 (and their variants, except
// gpt-4o / gpt-4.1 / gpt-4.5) and the text-embedding-ada-002 / text-embedding-3 models
// use cl100k_base; gpt-4o*, gpt-4.1*, o1*, o3*, o4*, gpt-5* and anything unknown use
// o200k_base. A "provider/" prefix and a fine-tune "ft:" prefix are ignored; case too.
Encoding EncodingForModel(std::string_view model);

// Estimated prompt tokens of a chat request the way OpenAI counts them: for each message
// 3 tokens plus the tokens of its role, content and name (+1 when it has a name), plus 3
// priming tokens for the reply. Beyond that recipe (approximations): an assistant
// message's tool calls add the tokens of their names and arguments, a tool message the
// tokens of its tool_call_id, and a request with tools the tokens of the raw tools JSON.
// Images and other non-text parts count 0.
int64_t CountChatPromptTokens(const Tokenizer& tokenizer, const core::ChatRequest& request);

// Estimated completion tokens of an answer: its content plus each tool call's name and
// arguments.
int64_t CountCompletionTokens(const Tokenizer& tokenizer, const core::ChatResponse& response);

}  // namespace switchyard::tokenize
