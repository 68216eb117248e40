#include "providers/openai_provider.h"

#include <cstdint>
#include <optional>
#include <utility>

#include <simdjson.h>

#include "api/openai_parse.h"
#include "api/sse.h"
#include "core/find_literal.h"
#include "providers/internal.h"

namespace switchyard::providers {
namespace {

bool Contains(std::string_view hay, std::string_view needle) {
  return core::FindLiteral(hay, needle) != std::string_view::npos;
}

// What a chunk's JSON text says before deciding whether to parse it: a
// "usage" key whose value is not null, a "finish_reason" whose value is a
// string. The keys are searched with their quotes (core::FindLiteral: 16
// positions per step). Inside a JSON string a quote is escaped, so `"usage"`
// cannot come from a value; a false hit would only cost a parse.
struct ChunkKeys {
  bool usage = false;
  bool finish = false;
};

std::string_view AfterColon(std::string_view rest) {
  size_t i = 0;
  while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
  if (i == rest.size() || rest[i] != ':') return {};
  ++i;
  while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
  return rest.substr(i);
}

constexpr std::string_view kUsageKey = R"("usage")";
constexpr std::string_view kFinishKey = R"("finish_reason")";
constexpr std::string_view kModelKey = R"("model")";

ChunkKeys ScanChunkKeys(std::string_view data) {
  // One pass for both keys; every occurrence is looked at, in order, until
  // each key has one with a value that counts.
  ChunkKeys k;
  for (core::EitherMatch m = core::FindEitherLiteral(data, kUsageKey, kFinishKey);
       m.pos != std::string_view::npos;
       m = core::FindEitherLiteral(data, kUsageKey, kFinishKey, m.pos + 1)) {
    if (!m.second) {
      const std::string_view v = AfterColon(data.substr(m.pos + kUsageKey.size()));
      if (!v.empty() && !v.starts_with("null")) k.usage = true;
    } else if (AfterColon(data.substr(m.pos + kFinishKey.size())).starts_with('"')) {
      k.finish = true;
    }
    if (k.usage && k.finish) break;
  }
  return k;
}

// The top-level "model" of a chunk without parsing it, when that is certain:
// the first "model" key comes before any '{' or '[' but the opening one (so
// it is a key of the top-level object; a quoted "model" that is a value is
// not followed by ':'), and its value is a string without escapes. Anything
// else gives "" and the caller parses the chunk. (The first chunk of every
// stream is read only for this.)
std::string_view TopLevelModel(std::string_view data) {
  if (data.empty() || data.front() != '{') return {};
  const size_t at = core::FindLiteral(data, kModelKey, 1);
  if (at == std::string_view::npos) return {};
  // (Plain loops: string_view::find_first_of calls memchr once per byte.)
  for (size_t i = 1; i < at; ++i) {
    if (data[i] == '{' || data[i] == '[') return {};
  }
  std::string_view v = AfterColon(data.substr(at + kModelKey.size()));
  if (!v.starts_with('"')) return {};
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '\\') return {};
    if (v[i] == '"') return v.substr(1, i - 1);
  }
  return {};
}

// The concatenated data: lines of one event.
std::string_view EventData(std::string_view event, std::string& scratch) {
  scratch.clear();
  size_t lines = 0;
  std::string_view first;
  while (!event.empty()) {
    size_t nl = event.find('\n');
    std::string_view line = event.substr(0, nl);
    event.remove_prefix(nl == std::string_view::npos ? event.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.starts_with("data:")) continue;
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (lines++ == 0) {
      first = line;
    } else {
      if (lines == 2) scratch.assign(first);
      scratch.push_back('\n');
      scratch.append(line);
    }
  }
  return lines > 1 ? std::string_view(scratch) : first;
}

}  // namespace

bool ParseOpenAiUsage(std::string_view json, core::Usage& usage, std::string* model,
                      std::string* finish_reason, simdjson::dom::parser* shared) {
  // An event without data (an SSE comment such as ": keep-alive") has nothing
  // to parse; simdjson must not be handed its null pointer.
  if (json.empty()) return false;
  std::optional<simdjson::dom::parser> local;
  simdjson::dom::parser& parser = shared != nullptr ? *shared : local.emplace();
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return false;
  if (model != nullptr) {
    std::string_view m;
    if (!doc["model"].get(m)) model->assign(m);
  }
  if (finish_reason != nullptr) {
    std::string_view fr;
    if (!doc.at_pointer("/choices/0/finish_reason").get(fr)) finish_reason->assign(fr);
  }
  simdjson::dom::object u;
  if (doc["usage"].get(u)) return false;
  int64_t v = 0;
  if (!u["prompt_tokens"].get(v)) usage.prompt_tokens = v;
  if (!u["completion_tokens"].get(v)) usage.completion_tokens = v;
  if (!u.at_pointer("/prompt_tokens_details/cached_tokens").get(v)) usage.cached_prompt_tokens = v;
  if (!u.at_pointer("/completion_tokens_details/reasoning_tokens").get(v)) {
    usage.reasoning_tokens = v;
  }
  usage.present = true;
  return true;
}

namespace {

namespace od = simdjson::ondemand;

// Keys are compared as sent (field.key() == "...", as simdjson's find_field
// does), not unescaped first: no provider escapes the letters of "usage", and
// unescaping every key cost ~15% of an answer's read (bench/relay_bench.cc).

// choices[0]: finish_reason and message.content (or delta.content) as views
// into the parser's string buffer, valid until the next document.
bool ReadFirstChoice(od::value choices, std::string_view& finish_reason,
                     std::string_view& content) {
  od::array arr;
  if (choices.get_array().get(arr)) return false;
  for (auto element : arr) {  // the first element only
    od::object choice;
    if (element.get_object().get(choice)) return false;
    for (auto field_result : choice) {
      od::field field;
      if (std::move(field_result).get(field)) return false;
      const od::raw_json_string key = field.key();
      od::value& v = field.value();
      if (key == "finish_reason") {
        bool is_null = false;
        if (v.is_null().get(is_null)) return false;
        if (!is_null && v.get_string().get(finish_reason)) finish_reason = {};
      } else if (key == "message" || key == "delta") {
        od::object msg;
        if (v.get_object().get(msg)) continue;
        for (auto m_result : msg) {
          od::field m;
          if (std::move(m_result).get(m)) return false;
          if (m.key() != "content") continue;
          if (m.value().get_string().get(content)) content = {};
        }
      }
    }
    break;
  }
  return true;
}

bool ReadUsage(od::value v, core::Usage& usage) {
  od::object u;
  if (v.get_object().get(u)) return false;  // null or not an object: no usage
  usage = core::Usage{};
  for (auto field_result : u) {
    od::field field;
    if (std::move(field_result).get(field)) return false;
    const od::raw_json_string key = field.key();
    od::value& x = field.value();
    int64_t n = 0;
    if (key == "prompt_tokens") {
      if (!x.get_int64().get(n)) usage.prompt_tokens = n;
    } else if (key == "completion_tokens") {
      if (!x.get_int64().get(n)) usage.completion_tokens = n;
    } else if (key == "prompt_tokens_details" || key == "completion_tokens_details") {
      const bool prompt = key == "prompt_tokens_details";
      od::object d;
      if (x.get_object().get(d)) continue;
      for (auto g_result : d) {
        od::field g;
        if (std::move(g_result).get(g)) return false;
        if (g.key() != (prompt ? "cached_tokens" : "reasoning_tokens")) continue;
        if (!g.value().get_int64().get(n))
          (prompt ? usage.cached_prompt_tokens : usage.reasoning_tokens) = n;
      }
    }
  }
  usage.present = true;
  return true;
}

}  // namespace

struct AnswerReader::Impl {
  od::parser parser;
  std::string copy;    // ReadCopy's padded buffer, kept between reads
  OpenAiAnswer event;  // ReadEvent's answer
};

AnswerReader::AnswerReader() : impl_(std::make_unique<Impl>()) {}
AnswerReader::~AnswerReader() = default;

bool AnswerReader::Read(std::string& body, OpenAiAnswer& out) {
  // Cleared, not replaced: the strings keep their buffers for the next read.
  out.usage = core::Usage{};
  out.model.clear();
  out.finish_reason.clear();
  out.content.clear();
  if (body.empty()) return false;
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  od::document doc;
  if (impl_->parser.iterate(body.data(), body.size(), body.capacity()).get(doc)) return false;
  od::object obj;
  if (doc.get_object().get(obj)) return false;
  std::string_view model, finish_reason, content;
  core::Usage usage;
  bool has_usage = false;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field)) return false;
    const od::raw_json_string key = field.key();
    od::value& v = field.value();
    if (key == "model") {
      if (v.get_string().get(model)) model = {};
    } else if (key == "choices") {
      if (!ReadFirstChoice(v, finish_reason, content)) return false;
    } else if (key == "usage") {
      has_usage = ReadUsage(v, usage);
    }
  }
  // Content after the object (current_location succeeds): let the DOM parse judge.
  if (const char* loc = nullptr; !doc.current_location().get(loc)) return false;
  out.model.assign(model);
  out.finish_reason.assign(finish_reason);
  if (has_usage) {
    out.usage = usage;
  } else {
    out.content.assign(content);
  }
  return true;
}

bool AnswerReader::ReadCopy(std::string_view json, OpenAiAnswer& out) {
  impl_->copy.assign(json);
  return Read(impl_->copy, out);
}

const OpenAiAnswer* AnswerReader::ReadEvent(std::string_view json) {
  return ReadCopy(json, impl_->event) ? &impl_->event : nullptr;
}

std::string ParseOpenAiContent(std::string_view json, simdjson::dom::parser* shared) {
  if (json.empty()) return {};
  std::optional<simdjson::dom::parser> local;
  simdjson::dom::parser& parser = shared != nullptr ? *shared : local.emplace();
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return {};
  std::string_view content;
  if (!doc.at_pointer("/choices/0/message/content").get(content)) return std::string(content);
  if (!doc.at_pointer("/choices/0/delta/content").get(content)) return std::string(content);
  return {};
}

std::string OpenAiStreamRelay::CompletionText() const {
  std::string text;
  std::string_view rest = data_lines_;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    text += ParseOpenAiContent(rest.substr(0, nl), parser_);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  return text;
}

OpenAiStreamRelay::OpenAiStreamRelay(bool strip_usage_chunk, simdjson::dom::parser* parser,
                                     AnswerReader* reader)
    : strip_usage_(strip_usage_chunk), parser_(parser), reader_(reader) {
  if (parser_ == nullptr) {
    own_parser_ = std::make_unique<simdjson::dom::parser>();
    parser_ = own_parser_.get();
  }
}

OpenAiStreamRelay::~OpenAiStreamRelay() = default;

void OpenAiStreamRelay::Feed(std::string_view bytes, std::string& out) {
  // Events go out as they came or not at all: at most the held bytes and these.
  out.reserve(out.size() + pending_.size() + bytes.size());
  if (pending_.empty()) {
    // Fast path: forward every complete event straight from `bytes`.
    for (;;) {
      const size_t end = api::SseEventEnd(bytes);
      if (end == std::string_view::npos) break;
      HandleEvent(bytes.substr(0, end), out);
      bytes.remove_prefix(end);
    }
    pending_.assign(bytes);
    return;
  }
  // A partial event is waiting: look for its end across the boundary.
  const size_t old = pending_.size();
  pending_.append(bytes);
  const size_t search_from = old > 2 ? old - 2 : 0;
  size_t end = api::SseEventEnd(std::string_view(pending_).substr(search_from));
  if (end == std::string_view::npos) return;
  end += search_from;
  std::string rest = pending_.substr(end);
  pending_.resize(end);
  HandleEvent(pending_, out);
  pending_.clear();
  Feed(rest, out);
}

void OpenAiStreamRelay::Finish(std::string& out) {
  if (pending_.empty()) return;
  std::string last = std::move(pending_);
  pending_.clear();
  HandleEvent(last, out);
}

void OpenAiStreamRelay::HandleEvent(std::string_view event, std::string& out) {
  ++events_;
  std::string scratch;
  const std::string_view data = EventData(event, scratch);
  if (data == "[DONE]") {
    saw_done_ = true;
    out.append(event);
    return;
  }
  const ChunkKeys keys = ScanChunkKeys(data);
  if (model_.empty() && !keys.usage && !keys.finish) model_ = TopLevelModel(data);
  if (keys.usage || keys.finish || model_.empty()) {
    core::Usage u;
    std::string fr;
    bool got_usage = false;
    if (const OpenAiAnswer* answer = reader_ != nullptr ? reader_->ReadEvent(data) : nullptr) {
      if (model_.empty()) model_ = answer->model;
      fr = answer->finish_reason;
      got_usage = answer->usage.present;
      u = answer->usage;
    } else {
      got_usage = ParseOpenAiUsage(data, u, model_.empty() ? &model_ : nullptr, &fr, parser_);
    }
    if (!fr.empty()) finish_reason_ = fr;
    if (got_usage) {
      usage_ = u;
      data_lines_.clear();
      data_lines_.shrink_to_fit();
      // The usage-only chunk has an empty choices array.
      const bool usage_only = Contains(data, "\"choices\":[]") || Contains(data, "\"choices\": []");
      if (strip_usage_ && usage_only) return;
    }
  }
  if (!usage_.present && data.find('\n') == std::string_view::npos) {
    if (data_lines_.capacity() < 4096) data_lines_.reserve(4096);  // one allocation per stream
    data_lines_.append(data);
    data_lines_.push_back('\n');
  }
  out.append(event);
}

// ---------------------------------------------------------------- provider

OpenAiProvider::OpenAiProvider(config::ProviderConfig cfg, http::Url url)
    : cfg_(std::move(cfg)), url_(std::move(url)) {
  chat_target_ = url_.path + "/chat/completions";
  if (!cfg_.api_key.empty()) headers_.emplace_back("Authorization", "Bearer " + cfg_.api_key);
  for (const auto& [k, v] : cfg_.headers) headers_.emplace_back(k, v);
}

http::awaitable<core::Result<ChatResult>> OpenAiProvider::Chat(const CallContext& ctx,
                                                               StreamSink& sink) {
  const core::ChatRequest& req = *ctx.request;
  // For streams, always ask for the usage chunk (costs are computed from it);
  // it is stripped again when the client did not ask for it.
  const std::string body =
      api::RewriteForUpstream(ctx.raw_body, req, ctx.upstream_model, req.stream);
  auto resp = co_await SendToUpstream(cfg_, url_, chat_target_, headers_, body, ctx);
  if (!resp.ok()) co_return resp.take_status();

  ChatResult result;
  const bool is_sse = resp->Header("content-type").starts_with("text/event-stream");
  if (!req.stream || !is_sse) {
    auto all = co_await resp->ReadAll(kMaxUpstreamBody, simdjson::SIMDJSON_PADDING);
    if (!all.ok()) co_return NameProvider(cfg_.name, all.status());
    OpenAiAnswer answer;
    if (ctx.answers != nullptr && ctx.answers->Read(*all, answer)) {
      result.usage = answer.usage;
      result.model = std::move(answer.model);
      result.finish_reason = std::move(answer.finish_reason);
      result.completion_text = std::move(answer.content);
    } else if (!ParseOpenAiUsage(*all, result.usage, &result.model, &result.finish_reason,
                                 ctx.json)) {
      result.completion_text = ParseOpenAiContent(*all, ctx.json);
    }
    result.body = std::move(*all);
    co_return result;
  }

  if (!co_await sink.BeginStream()) co_return core::Cancelled("client went away");
  OpenAiStreamRelay relay(/*strip_usage_chunk=*/!req.include_usage, ctx.json, ctx.answers);
  std::string out;
  for (;;) {
    auto piece = co_await resp->ReadSome();
    if (!piece.ok()) co_return NameProvider(cfg_.name, piece.status());
    if (piece->empty()) break;
    out.clear();
    relay.Feed(*piece, out);
    // Once the upstream is done, what is left goes out with the end of the
    // stream in one write (the client gets no fewer bytes, only fewer sends).
    const auto flush = resp->done() ? http::StreamFlush::kWithNext : http::StreamFlush::kNow;
    if (!out.empty() && !co_await sink.Write(out, flush)) {
      co_return core::Cancelled("client went away");
    }
  }
  out.clear();
  relay.Finish(out);
  if (!out.empty() && !co_await sink.Write(out, http::StreamFlush::kWithNext)) {
    co_return core::Cancelled("client went away");
  }
  result.streamed = true;
  result.usage = relay.usage();
  result.finish_reason = relay.finish_reason();
  result.model = relay.model();
  if (!result.usage.present) result.completion_text = relay.CompletionText();
  co_return result;
}

}  // namespace switchyard::providers
