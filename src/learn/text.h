// Text normalisation shared by the student (training and prediction) and by
// label deduplication: two inputs are "the same" exactly when their normal
// forms are equal.
//
// The normal form: ASCII letters lower-cased (other bytes, e.g. UTF-8, kept);
// every run of whitespace or control characters (including newlines and NUL,
// which fastText treats as separators or line ends) becomes one space; leading
// and trailing spaces dropped; fastText's reserved tokens neutralised (the
// label prefix "__label__" becomes "_label_", the end-of-sentence token
// "</s>" becomes "< /s>"); cut to at most kMaxNormalizedBytes at a UTF-8
// character boundary so a huge input cannot make a decision slow.
// Punctuation stays attached to words: splitting it off measured slightly
// worse on headlines.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace switchyard::learn {

inline constexpr size_t kMaxNormalizedBytes = 4096;

// Writes the normal form of `text` into `*out` (replacing its content; reuses
// its capacity, so a caller-owned buffer avoids allocation).
void NormalizeTextInto(std::string_view text, std::string* out);

std::string NormalizeText(std::string_view text);

}  // namespace switchyard::learn
