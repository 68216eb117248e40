// The "openai" kind: any OpenAI-compatible base URL (OpenAI, vLLM, llama.cpp
// server, Ollama, hosted open-model APIs). The client's body is forwarded as
// sent, with only "model" rewritten (and, for streams, a request for the
// usage chunk); answers are relayed as they arrive.
#pragma once

#include <memory>
#include <string>

#include "core/chat.h"
#include "http/url.h"
#include "providers/provider.h"

namespace switchyard::providers {

class AnswerReader;

// What a whole (non-streamed) chat.completion says about itself. (AnswerReader::
// Read clears each field rather than assigning a new answer: a field added here
// must be cleared there too.)
struct OpenAiAnswer {
  core::Usage usage;  // usage.present: the answer had a "usage" object
  std::string model;
  std::string finish_reason;  // choices[0].finish_reason
  std::string content;        // choices[0].message.content, read only without usage
};

// Splits an upstream SSE byte stream into events and forwards each event's
// original bytes, except the usage-only chunk when the client did not ask for
// it. Extracts usage and the finish reason on the way. Pure (no I/O).
class OpenAiStreamRelay {
 public:
  // The few events that are parsed (the first, the one with the finish reason,
  // the usage chunk) are read with `reader` (optional, on demand: ~1.5k
  // instructions for a chunk where a DOM parse costs ~4k), falling back to a
  // DOM parse with `parser` (optional; without one the relay makes its own on
  // first use) for what the reader cannot read. Both must outlive the relay.
  explicit OpenAiStreamRelay(bool strip_usage_chunk, simdjson::dom::parser* parser = nullptr,
                             AnswerReader* reader = nullptr);
  ~OpenAiStreamRelay();

  // Appends to `out` every event completed by `bytes` (growing `out` once, to
  // the most it can take: what is held plus `bytes`).
  void Feed(std::string_view bytes, std::string& out);
  // Flushes an unterminated trailing event, if any.
  void Finish(std::string& out);

  const core::Usage& usage() const { return usage_; }
  const std::string& finish_reason() const { return finish_reason_; }
  const std::string& model() const { return model_; }
  bool saw_done() const { return saw_done_; }
  size_t events() const { return events_; }
  // The concatenated delta content of every chunk (parsed on demand; meant
  // for the rare stream that reports no usage).
  std::string CompletionText() const;

 private:
  void HandleEvent(std::string_view event, std::string& out);

  bool strip_usage_;
  std::string pending_;
  core::Usage usage_;
  std::string finish_reason_;
  std::string model_;
  bool saw_done_ = false;
  size_t events_ = 0;
  std::string data_lines_;  // each event's data, one per line, until usage is seen
  simdjson::dom::parser* parser_;
  std::unique_ptr<simdjson::dom::parser> own_parser_;
  AnswerReader* reader_;
};

// Reads an answer in one on-demand pass (simdjson ondemand): it visits the
// keys it needs and skips the rest, where a DOM parse builds a tape of the
// whole answer first (~8k instructions for a 1 KB answer, most of what reading
// an answer cost). Same results as ParseOpenAiUsage + ParseOpenAiContent for a
// valid answer whose keys are spelled without escapes: keys are compared as
// sent (simdjson's find_field rule), so "us\u0061ge" is not "usage" here, and
// an invalid escape inside a key is not noticed (no provider writes either).
// Ownership: owns its parser (buffers reused between answers).
// Threading: one per event loop. Errors: Read() returns false when `body` is
// not a JSON object it could read to the end; the caller then uses the DOM path.
class AnswerReader {
 public:
  AnswerReader();
  ~AnswerReader();
  AnswerReader(const AnswerReader&) = delete;
  AnswerReader& operator=(const AnswerReader&) = delete;

  // `body` gets simdjson's padding as spare capacity (it may be reallocated;
  // its contents are unchanged). `out` is assigned in full.
  bool Read(std::string& body, OpenAiAnswer& out);
  // The same for text that cannot be padded in place (an SSE event's data):
  // copied into a buffer the reader keeps. Reads a chat.completion.chunk
  // too (choices[0].delta.content as `content`).
  bool ReadCopy(std::string_view json, OpenAiAnswer& out);
  // ReadCopy into an answer the reader keeps (its strings' buffers reused from
  // one call to the next, across streams): null when it cannot read `json`.
  // Valid until the next call.
  const OpenAiAnswer* ReadEvent(std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads usage from a chat.completion (or chunk) JSON object's "usage" field.
// Returns false when there is none.
// `parser` may be null (a temporary one is used).
bool ParseOpenAiUsage(std::string_view json, core::Usage& usage, std::string* model,
                      std::string* finish_reason, simdjson::dom::parser* parser = nullptr);
// choices[0].message.content (or .delta.content for chunks), "" when absent.
std::string ParseOpenAiContent(std::string_view json, simdjson::dom::parser* parser = nullptr);

class OpenAiProvider final : public Provider {
 public:
  OpenAiProvider(config::ProviderConfig cfg, http::Url url);
  const config::ProviderConfig& config() const override { return cfg_; }
  http::awaitable<core::Result<ChatResult>> Chat(const CallContext& ctx, StreamSink& sink) override;

 private:
  config::ProviderConfig cfg_;
  http::Url url_;
  std::string chat_target_;
  http::HeaderList headers_;
};

}  // namespace switchyard::providers
