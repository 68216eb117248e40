#include "learn/text.h"

#include "core/utf8.h"

namespace switchyard::learn {
namespace {

bool IsSeparator(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

// Replaces every occurrence of `from` with `to` (same or greater length) in place.
void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s->find(from, pos)) != std::string::npos) {
    s->replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

void NormalizeTextInto(std::string_view text, std::string* out) {
  out->clear();
  bool pending_space = false;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsSeparator(c)) {
      pending_space = !out->empty();
      continue;
    }
    if (pending_space) {
      out->push_back(' ');
      pending_space = false;
    }
    out->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
  }
  if (out->find("__label__") != std::string::npos) ReplaceAll(out, "__label__", "_label_");
  if (out->find("</s>") != std::string::npos) ReplaceAll(out, "</s>", "< /s>");
  if (out->size() > kMaxNormalizedBytes) {
    out->resize(core::CutUtf8(*out, kMaxNormalizedBytes).size());
    while (!out->empty() && out->back() == ' ') out->pop_back();
  }
}

std::string NormalizeText(std::string_view text) {
  std::string out;
  NormalizeTextInto(text, &out);
  return out;
}

}  // namespace switchyard::learn
