#include "learn/labels.h"

#include "core/json_writer.h"
#include "core/utf8.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

namespace switchyard::learn {
namespace {

constexpr size_t kQuoteLimit = 80;

// `s` in double quotes, cut to kQuoteLimit bytes (at a UTF-8 boundary, "..."
// appended), with quotes, backslashes and control characters escaped so the
// message stays on one line.
std::string Quote(std::string_view s) {
  bool cut = false;
  if (s.size() > kQuoteLimit) {
    s = core::CutUtf8(s, kQuoteLimit);
    cut = true;
  }
  std::string out;
  core::AppendJsonString(out, s);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

bool IsTrimByte(unsigned char c) {
  return c <= 0x20 || c == 0x7f || (c < 0x80 && std::ispunct(c) != 0);
}

// Typographic quotes and guillemets, which models like to wrap answers in.
constexpr std::string_view kTrimSequences[] = {
    "\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x98", "\xE2\x80\x99", "\xC2\xAB", "\xC2\xBB",
};

// Trims whitespace, ASCII punctuation and typographic quotes at both ends and
// lower-cases ASCII letters.
std::string Canonical(std::string_view s) {
  bool changed = true;
  while (changed && !s.empty()) {
    changed = false;
    if (IsTrimByte(static_cast<unsigned char>(s.front()))) {
      s.remove_prefix(1);
      changed = true;
      continue;
    }
    if (IsTrimByte(static_cast<unsigned char>(s.back()))) {
      s.remove_suffix(1);
      changed = true;
      continue;
    }
    for (std::string_view q : kTrimSequences) {
      if (s.substr(0, q.size()) == q) {
        s.remove_prefix(q.size());
        changed = true;
      } else if (s.size() >= q.size() && s.substr(s.size() - q.size()) == q) {
        s.remove_suffix(q.size());
        changed = true;
      }
    }
  }
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Removes a surrounding Markdown code fence (```json ... ```), if any.
std::string_view StripCodeFence(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= 0x20) s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= 0x20) s.remove_suffix(1);
  if (s.size() < 6 || s.substr(0, 3) != "```" || s.substr(s.size() - 3) != "```") return s;
  s.remove_suffix(3);
  const size_t newline = s.find('\n');
  return newline == std::string_view::npos ? std::string_view() : s.substr(newline + 1);
}

}  // namespace

std::string_view LabelModeName(LabelMode mode) {
  switch (mode) {
    case LabelMode::kExact:
      return "exact";
    case LabelMode::kCaseInsensitive:
      return "case_insensitive";
    case LabelMode::kJsonField:
      return "json";
    case LabelMode::kRegex:
      return "regex";
  }
  return "case_insensitive";
}

core::Result<LabelMode> ParseLabelMode(std::string_view name) {
  for (LabelMode m :
       {LabelMode::kExact, LabelMode::kCaseInsensitive, LabelMode::kJsonField, LabelMode::kRegex}) {
    if (LabelModeName(m) == name) return m;
  }
  return core::InvalidArgument("unknown label mode '" + std::string(name) +
                               "' (expected exact, case_insensitive, json or regex)");
}

core::Result<LabelParser> LabelParser::Create(std::vector<std::string> labels,
                                              LabelParserOptions options) {
  if (labels.empty()) return core::InvalidArgument("a task needs at least one label");
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    if (l.empty() || std::any_of(l.begin(), l.end(), [](char c) {
          return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
        })) {
      return core::InvalidArgument("label " + Quote(l) + " is empty or contains whitespace");
    }
    for (size_t j = 0; j < i; ++j) {
      if (Canonical(labels[j]) == Canonical(l)) {
        return core::InvalidArgument("labels " + Quote(labels[j]) + " and " + Quote(l) +
                                     " are the same once case and punctuation are ignored");
      }
    }
  }
  LabelParser p;
  if (options.mode == LabelMode::kJsonField && options.json_field.empty()) {
    return core::InvalidArgument("label mode json needs a field name");
  }
  if (options.mode == LabelMode::kRegex) {
    if (options.pattern.empty()) return core::InvalidArgument("label mode regex needs a pattern");
    try {
      p.regex_ = std::make_shared<const std::regex>(options.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return core::InvalidArgument("label regex '" + options.pattern +
                                   "' does not compile: " + e.what());
    }
  }
  p.labels_ = std::move(labels);
  p.options_ = std::move(options);
  return p;
}

std::string LabelParser::NotALabel() const {
  std::string out = "not one of the labels: ";
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (i > 0) out += ", ";
    out += labels_[i];
  }
  return out;
}

core::Result<std::string> LabelParser::Match(std::string_view candidate) const {
  const std::string c = Canonical(candidate);
  if (c.empty()) return core::InvalidArgument("");
  for (const auto& l : labels_) {
    if (Canonical(l) == c) return l;
  }
  return core::InvalidArgument("");
}

core::Result<std::string> LabelParser::Parse(std::string_view reply) const {
  const bool blank = std::all_of(reply.begin(), reply.end(),
                                 [](char c) { return static_cast<unsigned char>(c) <= 0x20; });
  if (blank) return core::InvalidArgument("teacher reply is empty");

  switch (options_.mode) {
    case LabelMode::kExact: {
      for (const auto& l : labels_) {
        if (l == reply) return l;
      }
      return core::InvalidArgument("teacher reply " + Quote(reply) + " is " + NotALabel());
    }
    case LabelMode::kCaseInsensitive: {
      auto m = Match(reply);
      if (m.ok()) return m;
      return core::InvalidArgument("teacher reply " + Quote(reply) + " is " + NotALabel());
    }
    case LabelMode::kJsonField: {
      const std::string_view body = StripCodeFence(reply);
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      simdjson::dom::object obj;
      if (parser.parse(simdjson::padded_string(body)).get(doc) != simdjson::SUCCESS ||
          doc.get_object().get(obj) != simdjson::SUCCESS) {
        return core::InvalidArgument("teacher reply is not a JSON object: " + Quote(reply));
      }
      simdjson::dom::element field;
      std::string value;
      std::string_view sv;
      int64_t iv = 0;
      bool bv = false;
      if (obj[options_.json_field].get(field) != simdjson::SUCCESS) {
        return core::InvalidArgument("teacher reply has no string field " +
                                     Quote(options_.json_field) + ": " + Quote(reply));
      }
      if (field.get_string().get(sv) == simdjson::SUCCESS) {
        value = std::string(sv);
      } else if (field.get_int64().get(iv) == simdjson::SUCCESS) {
        value = std::to_string(iv);
      } else if (field.get_bool().get(bv) == simdjson::SUCCESS) {
        value = bv ? "true" : "false";
      } else {
        return core::InvalidArgument("teacher reply has no string field " +
                                     Quote(options_.json_field) + ": " + Quote(reply));
      }
      auto m = Match(value);
      if (m.ok()) return m;
      return core::InvalidArgument("teacher reply field " + Quote(options_.json_field) + " is " +
                                   Quote(value) + ", " + NotALabel());
    }
    case LabelMode::kRegex: {
      std::match_results<std::string_view::const_iterator> match;
      bool found = false;
      try {
        found = std::regex_search(reply.begin(), reply.end(), match, *regex_);
      } catch (const std::regex_error& e) {
        return core::InvalidArgument(std::string("teacher reply could not be matched: ") +
                                     e.what());
      }
      if (!found) {
        return core::InvalidArgument("teacher reply does not match the label pattern '" +
                                     options_.pattern + "': " + Quote(reply));
      }
      const size_t group = regex_->mark_count() >= 1 ? 1 : 0;
      const std::string value = match[group].str();
      auto m = Match(value);
      if (m.ok()) return m;
      return core::InvalidArgument("teacher reply matched the label pattern as " + Quote(value) +
                                   ", " + NotALabel());
    }
  }
  return core::Internal("unknown label mode");
}

}  // namespace switchyard::learn
