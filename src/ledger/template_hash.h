// Prompt-template hash: groups requests "of one kind" without storing prompts.
//
// Heuristic (deliberately simple, stable across releases — changing it splits
// every existing group):
//   * The model is ignored: the same prompt sent to two models is one template.
//   * Each message contributes `role ':' frame '\n'`, in order, where frame is
//       - system / developer messages: the whole text, masked;
//       - every other role (user, assistant, tool): only the message's "frame":
//         the text before the first '\n' or ':' — whichever comes first — if it
//         occurs within the first 80 bytes ("Classify this ticket: ..." ->
//         "Classify this ticket"); otherwise nothing (free-form chat text carries
//         no template). The frame is masked too.
//   * Masking (MaskVariableParts) replaces, left to right:
//       "double-quoted strings" -> <str>     http(s)://urls -> <url>
//       e-mail addresses        -> <email>   hex/uuid-like words -> <hex>
//       every run of digits     -> 0
//     A hex/uuid-like word is a maximal run of [0-9A-Za-z_-] made only of hex
//     digits and '-', holding at least 8 hex digits and at least one letter
//     a-f (pure numbers are numbers: "20240501" -> "0"). Whitespace runs collapse
//     to one space and the text is trimmed.
//   * The hash is FNV-1a 64 over those bytes, as 16 lowercase hex chars.
// All functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/chat.h"

namespace switchyard::ledger {

// FNV-1a 64-bit over `data`.
uint64_t Fnv1a64(std::string_view data);

// Masks the variable parts of `text` as described above.
std::string MaskVariableParts(std::string_view text);

// The frame of a user/assistant/tool message as described above ("" if none).
std::string_view MessageFrame(std::string_view text);

// The 16-hex-char template hash of `request`.
std::string PromptTemplateHash(const core::ChatRequest& request);

// Remembers the template hashes of recently seen prompts: a request whose
// roles and hashed texts (system/developer messages whole, the other
// messages' frames) equal a remembered one gets its hash without masking
// again. Returns exactly PromptTemplateHash(request). Fixed size (kSlots
// entries, direct-mapped by a fast hash of those texts; texts longer than
// kMaxKeyBytes in total are not remembered). A hit reads the texts in place:
// it hashes them, then compares them piece by piece with the remembered ones,
// with no allocation but the returned string. Thread-safe: every slot has its
// own mutex, so event loops rarely wait on each other. No errors.
class TemplateHashCache {
 public:
  static constexpr size_t kSlots = 64;
  static constexpr size_t kMaxKeyBytes = 4096;

  std::string Hash(const core::ChatRequest& request);

 private:
  struct Slot {
    std::mutex mu;
    uint64_t fingerprint = 0;     // fast hash of the texts the hash was computed from
    std::string key;              // those texts, length-prefixed (see AppendPiece)
    bool full = false;            // false while the slot is empty
    std::array<char, 16> hash{};  // PromptTemplateHash() of those texts
  };
  std::array<Slot, kSlots> slots_;
};

}  // namespace switchyard::ledger
