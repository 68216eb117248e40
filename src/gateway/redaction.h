// The `redact` PII policy on the request path: what an external (not owned)
// provider receives, and how its answer gets the originals back.
//
//   auto r = RedactRequest(body, chat, findings, scanner, parser);
//   ...external target: ctx.raw_body = r->body, ctx.request = &r->chat...
//   non-streamed answer:  body = RestoreJsonBody(body, r->map)
//   streamed answer:      RestoringSink sink(inner, r->map, id, created);
//                         provider writes through it; co_await sink.Flush()
//                         before the stream ends
//
// RedactRequest replaces each finding of the message texts and tool-call
// arguments by its placeholder (guard/redact.h: <EMAIL_1>, the same value the
// same placeholder within the request), then rewrites EVERY string of the JSON
// body (keys too) so that no original survives anywhere — not in the `user`
// field, a name, a raw content part or a tool definition — and re-parses the
// result, so pass-through providers (which splice the model name into the
// raw body) and translating ones (which build from the ChatRequest) send the
// same redacted request. `findings_after` is a scan of the redacted texts:
// what actually leaves (normally nothing).
//
// SseRestorer restores OpenAI-format chat.completion.chunk events: the
// streamed fields (choices[i].delta.content, reasoning_content, refusal and
// tool_calls[j].function.arguments) go through a guard::StreamRestorer each,
// so a placeholder split across deltas ("<EMA" + "IL_1>") or across network
// chunks comes back whole; a held-back partial placeholder is released with
// the choice's finish_reason chunk, before "data: [DONE]", or at Finish(),
// in a chunk of its own when the finishing event does not carry that field.
// Other strings of an event are restored in place. Events that are not JSON
// pass unchanged.
//
// Ownership: RedactedRequest owns its body, request and map; SseRestorer and
// RestoringSink reference the map (which must outlive them) and, for the
// sink, the inner sink. Threading: per request, one loop; nothing is shared.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/openai_parse.h"
#include "core/chat.h"
#include "core/status.h"
#include "guard/pii.h"
#include "guard/redact.h"
#include "providers/provider.h"

namespace switchyard::gateway {

// The texts a request carries to the provider: message contents and tool-call
// arguments in order, then the `user` field (the segments of
// PiiScanner::ScanTexts).
std::vector<std::string_view> RequestTexts(const core::ChatRequest& chat);

struct RedactedRequest {
  std::string body;        // the OpenAI JSON an external target gets
  core::ChatRequest chat;  // parsed from `body` (model span points into it)
  guard::RedactionMap map;
  std::vector<guard::Finding> findings_after;  // in RequestTexts(chat)
};

// Builds the redacted request from the client's `body`, its parse `chat` and
// the `findings` of RequestTexts(chat). Errors: InvalidArgument from the JSON
// rewrite or the re-parse, Internal from the scanner (the caller then keeps
// the request on owned targets).
core::Result<std::unique_ptr<RedactedRequest>> RedactRequest(
    std::string_view body, const core::ChatRequest& chat, std::span<const guard::Finding> findings,
    const guard::PiiScanner& scanner, api::ChatRequestParser& parser);

// A non-streamed chat.completion with every issued placeholder restored in
// every string. A body that is not JSON is returned unchanged (it keeps the
// placeholders: nothing is restored rather than something mangled).
std::string RestoreJsonBody(std::string_view body, const guard::RedactionMap& map);

// The streamed counterpart (pure; see the file comment).
class SseRestorer {
 public:
  // `id` and `created` go into the chunks this restorer writes itself (the
  // model comes from the events seen).
  SseRestorer(const guard::RedactionMap& map, std::string id, int64_t created)
      : map_(map), id_(std::move(id)), created_(created) {}
  // Appends to `out` the restored form of every complete event in `bytes`
  // (partial events wait for the rest).
  void Feed(std::string_view bytes, std::string& out);
  // The rest: a trailing partial event and every held-back placeholder prefix.
  void Finish(std::string& out);

 private:
  void HandleEvent(std::string_view event, std::string& out);
  // Writes a chunk carrying `text` in the streamed field at `path`.
  void WriteChunk(const std::string& path, std::string_view text, std::string& out) const;
  void FlushChoice(std::string_view prefix, const std::set<std::string>& skip, std::string& out);

  const guard::RedactionMap& map_;
  std::string id_;
  int64_t created_ = 0;
  std::string model_;
  std::string pending_;
  std::map<std::string, guard::StreamRestorer, std::less<>> restorers_;  // by field path
};

// A StreamSink that restores what a provider streams before it reaches
// `inner` (the client). Flush() writes what is still held back; call it once
// after the provider finished and before the stream is ended.
class RestoringSink final : public providers::StreamSink {
 public:
  RestoringSink(providers::StreamSink& inner, const guard::RedactionMap& map, std::string id,
                int64_t created)
      : inner_(inner), restorer_(map, std::move(id), created) {}
  http::awaitable<bool> BeginStream() override { return inner_.BeginStream(); }
  http::awaitable<bool> Write(std::string_view sse_bytes, http::StreamFlush flush) override;
  bool started() const override { return inner_.started(); }
  http::awaitable<bool> Flush();

 private:
  providers::StreamSink& inner_;
  SseRestorer restorer_;
  std::string out_;
};

// `s` with its message passed through guard::MaskUpstreamText (upstream error
// texts may echo the request or a key); code, details and retry hints kept.
core::Status MaskStatus(const core::Status& s, const guard::PiiScanner* scanner);

}  // namespace switchyard::gateway
