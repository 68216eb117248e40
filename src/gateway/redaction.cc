#include "gateway/redaction.h"

#include <charconv>

#include "api/sse.h"
#include "core/json_writer.h"
#include "guard/hardening.h"

namespace switchyard::gateway {
namespace {

// Reads "<digits>" at the front of `s`, consuming it.
bool TakeIndex(std::string_view& s, size_t& index) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), index);
  if (ec != std::errc() || p == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return true;
}

// The streamed fields of a chunk: "/choices/<i>/delta/<field>" or
// "/choices/<i>/delta/tool_calls/<j>/function/arguments". Sets `choice_prefix`
// to "/choices/<i>/".
bool IsStreamedPath(std::string_view path, std::string_view& choice_prefix) {
  constexpr std::string_view kChoices = "/choices/";
  if (!path.starts_with(kChoices)) return false;
  std::string_view rest = path.substr(kChoices.size());
  size_t index = 0;
  if (!TakeIndex(rest, index)) return false;
  choice_prefix = path.substr(0, path.size() - rest.size() + 1);
  if (rest == "/delta/content" || rest == "/delta/reasoning_content" || rest == "/delta/refusal") {
    return true;
  }
  constexpr std::string_view kTools = "/delta/tool_calls/";
  if (!rest.starts_with(kTools)) return false;
  rest.remove_prefix(kTools.size());
  size_t call = 0;
  return TakeIndex(rest, call) && rest == "/function/arguments";
}

}  // namespace

std::vector<std::string_view> RequestTexts(const core::ChatRequest& chat) {
  std::vector<std::string_view> texts;
  texts.reserve(chat.messages.size() + 1);
  for (const core::Message& m : chat.messages) {
    if (!m.content.empty()) texts.push_back(m.content);
    for (const core::ToolCall& call : m.tool_calls) {
      if (!call.arguments.empty()) texts.push_back(call.arguments);
    }
  }
  if (!chat.user.empty()) texts.push_back(chat.user);
  return texts;
}

core::Result<std::unique_ptr<RedactedRequest>> RedactRequest(
    std::string_view body, const core::ChatRequest& chat, std::span<const guard::Finding> findings,
    const guard::PiiScanner& scanner, api::ChatRequestParser& parser) {
  auto out = std::make_unique<RedactedRequest>();
  // Issues the placeholders in message order (and reserves the client's own
  // placeholder-shaped literals); the redacted texts themselves come from the
  // body rewrite below, which replaces the same values everywhere.
  const std::vector<std::string_view> texts = RequestTexts(chat);
  guard::RedactTexts(texts, findings, out->map);
  const guard::RedactionMap& map = out->map;
  auto rewritten = guard::RewriteJsonStrings(
      body, [&map](std::string_view, std::string_view value, bool) -> std::optional<std::string> {
        std::string redacted = guard::RedactKnown(value, map);
        if (redacted == value) return std::nullopt;
        return redacted;
      });
  if (!rewritten.ok()) return rewritten.take_status();
  out->body = std::move(*rewritten);
  auto parsed = parser.Parse(out->body);
  if (!parsed.ok()) return parsed.take_status();
  out->chat = std::move(*parsed);
  auto after = scanner.ScanTexts(RequestTexts(out->chat));
  if (!after.ok()) return after.take_status();
  out->findings_after = std::move(*after);
  return out;
}

std::string RestoreJsonBody(std::string_view body, const guard::RedactionMap& map) {
  if (map.empty()) return std::string(body);
  auto restored = guard::RewriteJsonStrings(
      body, [&map](std::string_view, std::string_view value, bool) -> std::optional<std::string> {
        if (value.find('<') == std::string_view::npos) return std::nullopt;
        std::string r = guard::Restore(value, map);
        if (r == value) return std::nullopt;
        return r;
      });
  return restored.ok() ? std::move(*restored) : std::string(body);
}

void SseRestorer::Feed(std::string_view bytes, std::string& out) {
  pending_.append(bytes);
  size_t consumed = 0;
  for (;;) {
    const size_t end = api::SseEventEnd(std::string_view(pending_).substr(consumed));
    if (end == std::string_view::npos) break;
    HandleEvent(std::string_view(pending_).substr(consumed, end), out);
    consumed += end;
  }
  pending_.erase(0, consumed);
}

void SseRestorer::Finish(std::string& out) {
  if (!pending_.empty()) {
    std::string last = std::move(pending_);
    pending_.clear();
    HandleEvent(last, out);
  }
  FlushChoice("", {}, out);
}

void SseRestorer::WriteChunk(const std::string& path, std::string_view text,
                             std::string& out) const {
  std::string_view choice_prefix;
  if (!IsStreamedPath(path, choice_prefix)) return;
  // "/choices/<i>/delta/<rest>"
  std::string_view rest = std::string_view(path).substr(choice_prefix.size());
  std::string_view index_text = choice_prefix.substr(9, choice_prefix.size() - 10);
  std::string delta;
  rest.remove_prefix(6);  // "delta/"
  if (rest.starts_with("tool_calls/")) {
    rest.remove_prefix(11);
    const std::string_view call = rest.substr(0, rest.find('/'));
    delta = "{\"tool_calls\":[{\"index\":" + std::string(call) + ",\"function\":{\"arguments\":";
    core::AppendJsonString(delta, text);
    delta += "}}]}";
  } else {
    delta = "{";
    core::AppendJsonString(delta, rest);
    delta += ":";
    core::AppendJsonString(delta, text);
    delta += "}";
  }
  out += "data: {\"id\":";
  core::AppendJsonString(out, id_);
  out += ",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(created_) +
         ",\"model\":";
  core::AppendJsonString(out, model_);
  out += ",\"choices\":[{\"index\":" + std::string(index_text) + ",\"delta\":" + delta +
         ",\"finish_reason\":null}]}\n\n";
}

void SseRestorer::FlushChoice(std::string_view prefix, const std::set<std::string>& skip,
                              std::string& out) {
  for (auto& [path, restorer] : restorers_) {
    if (!path.starts_with(prefix) || skip.count(path) != 0 || restorer.held() == 0) continue;
    const std::string text = restorer.Finish();
    WriteChunk(path, text, out);
  }
}

void SseRestorer::HandleEvent(std::string_view event, std::string& out) {
  // The data of a one-data-line event; anything else passes unchanged.
  size_t data_start = std::string_view::npos;
  size_t data_end = 0;
  int data_lines = 0;
  for (size_t line = 0; line < event.size();) {
    size_t nl = event.find('\n', line);
    if (nl == std::string_view::npos) nl = event.size();
    std::string_view text = event.substr(line, nl - line);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.starts_with("data:")) {
      ++data_lines;
      data_start = line + 5;
      if (data_start < event.size() && event[data_start] == ' ') ++data_start;
      data_end = line + text.size();
    }
    line = nl + 1;
  }
  if (data_lines != 1) {
    out.append(event);
    return;
  }
  const std::string_view data = event.substr(data_start, data_end - data_start);
  if (data == "[DONE]") {
    FlushChoice("", {}, out);
    out.append(event);
    return;
  }
  if (data.empty() || data.front() != '{') {
    out.append(event);
    return;
  }
  // Which choices finish with this event (their held-back text goes out now).
  std::set<std::string> finishing;
  if (data.find("\"finish_reason\"") != std::string_view::npos) {
    auto scanned =
        guard::RewriteJsonStrings(data, [&](std::string_view path, std::string_view, bool is_key) {
          constexpr std::string_view kSuffix = "/finish_reason";
          if (!is_key && path.starts_with("/choices/") && path.ends_with(kSuffix)) {
            finishing.emplace(path.substr(0, path.size() - kSuffix.size() + 1));
          }
          return std::optional<std::string>();
        });
    if (!scanned.ok()) finishing.clear();
  }
  std::set<std::string> visited;
  auto rewritten =
      guard::RewriteJsonStrings(data,
                                [&](std::string_view path, std::string_view value,
                                    bool is_key) -> std::optional<std::string> {
                                  if (is_key) return std::nullopt;
                                  if (path == "/model") model_.assign(value);
                                  std::string_view choice_prefix;
                                  if (IsStreamedPath(path, choice_prefix)) {
                                    auto it = restorers_.find(path);
                                    if (it == restorers_.end()) {
                                      it = restorers_.try_emplace(std::string(path), map_).first;
                                    }
                                    std::string r = it->second.Push(value);
                                    if (finishing.count(std::string(choice_prefix)) != 0) {
                                      r += it->second.Finish();
                                      visited.emplace(path);
                                    }
                                    if (r == value) return std::nullopt;
                                    return r;
                                  }
                                  if (value.find('<') == std::string_view::npos)
                                    return std::nullopt;
                                  std::string r = guard::Restore(value, map_);
                                  if (r == value) return std::nullopt;
                                  return r;
                                });
  if (!rewritten.ok()) {
    out.append(event);
    return;
  }
  for (const std::string& prefix : finishing) FlushChoice(prefix, visited, out);
  out.append(event.substr(0, data_start));
  out.append(*rewritten);
  out.append(event.substr(data_end));
}

http::awaitable<bool> RestoringSink::Write(std::string_view sse_bytes, http::StreamFlush flush) {
  out_.clear();
  restorer_.Feed(sse_bytes, out_);
  if (out_.empty()) co_return true;
  co_return co_await inner_.Write(out_, flush);
}

http::awaitable<bool> RestoringSink::Flush() {
  out_.clear();
  restorer_.Finish(out_);
  if (out_.empty()) co_return true;
  co_return co_await inner_.Write(out_, http::StreamFlush::kWithNext);
}

core::Status MaskStatus(const core::Status& s, const guard::PiiScanner* scanner) {
  std::string masked = guard::MaskUpstreamText(s.message(), scanner);
  if (masked == s.message()) return s;
  core::Status out(s.code(), std::move(masked));
  out.set_upstream_status(s.upstream_status());
  out.set_error_code(s.error_code());
  out.set_param(s.param());
  if (s.retry_after()) out.set_retry_after(*s.retry_after());
  return out;
}

}  // namespace switchyard::gateway
