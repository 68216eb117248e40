#include "providers/replay_provider.h"

#include <simdjson.h>

#include "api/openai_write.h"
#include "core/ascii.h"
#include "core/csv.h"

namespace switchyard::providers {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

core::Result<std::unique_ptr<ReplayProvider>> ReplayProvider::Create(
    const config::ProviderConfig& cfg) {
  std::unique_ptr<ReplayProvider> p(new ReplayProvider(cfg));
  const std::string where = "provider '" + cfg.name + "': trace " + cfg.trace;
  if (EndsWith(cfg.trace, ".jsonl") || EndsWith(cfg.trace, ".ndjson")) {
    auto text = core::ReadTextFile(cfg.trace);
    if (!text.ok()) return core::InvalidArgument(where + ": " + text.status().message());
    simdjson::dom::parser parser;
    size_t line_no = 0;
    std::string_view rest = *text;
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      std::string_view line = core::TrimAsciiSpace(rest.substr(0, nl));
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      ++line_no;
      if (line.empty()) continue;
      simdjson::dom::element doc;
      if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
        return core::InvalidArgument(where + ":" + std::to_string(line_no) +
                                     ": not a JSON object (" + simdjson::error_message(err) + ")");
      }
      std::string_view in;
      std::string_view out;
      if (doc[cfg.trace_input].get(in) || doc[cfg.trace_output].get(out)) {
        return core::InvalidArgument(where + ":" + std::to_string(line_no) +
                                     ": expected string fields \"" + cfg.trace_input + "\" and \"" +
                                     cfg.trace_output + "\"");
      }
      p->answers_[std::string(core::TrimAsciiSpace(in))] = std::string(out);
    }
  } else {
    auto table = core::ReadCsvFile(cfg.trace);
    if (!table.ok()) return core::InvalidArgument(where + ": " + table.status().message());
    auto in_col = table->RequireColumn(cfg.trace_input);
    if (!in_col.ok()) return core::InvalidArgument(where + ": " + in_col.status().message());
    auto out_col = table->RequireColumn(cfg.trace_output);
    if (!out_col.ok()) return core::InvalidArgument(where + ": " + out_col.status().message());
    for (const auto& row : table->rows) {
      p->answers_[std::string(core::TrimAsciiSpace(row[*in_col]))] = row[*out_col];
    }
  }
  if (p->answers_.empty()) return core::InvalidArgument(where + ": no recorded answers");
  return p;
}

const std::string* ReplayProvider::Find(std::string_view input) const {
  auto it = answers_.find(std::string(core::TrimAsciiSpace(input)));
  return it == answers_.end() ? nullptr : &it->second;
}

http::awaitable<core::Result<ChatResult>> ReplayProvider::Chat(const CallContext& ctx,
                                                               StreamSink& sink) {
  const core::ChatRequest& req = *ctx.request;
  const std::string_view input = req.LastUserText();
  const std::string* answer = Find(input);
  if (answer == nullptr) {
    std::string shown(input.substr(0, 80));
    if (input.size() > 80) shown += "...";
    core::Status s = core::NotFound("provider '" + cfg_.name + "': input not in the replay trace " +
                                    cfg_.trace + ": \"" + shown + "\"");
    s.set_error_code("replay_miss");
    co_return s;
  }
  if (cfg_.latency_ms > 0) {
    // The analyzer does not model the coroutine frame asio's this_coro::executor reads.
    // NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage): false positive, see above
    http::asio::steady_timer timer(co_await http::asio::this_coro::executor,
                                   std::chrono::milliseconds(cfg_.latency_ms));
    size_t handle = http::CancelToken::kNone;
    if (ctx.cancel != nullptr) handle = ctx.cancel->Register([&timer] { timer.cancel(); });
    boost::system::error_code ec;
    co_await timer.async_wait(http::Redirect(ec));
    if (ctx.cancel != nullptr) {
      ctx.cancel->Unregister(handle);
      if (ctx.cancel->cancelled()) co_return core::Cancelled("client went away");
    }
  }
  ChatResult result;
  result.model = std::string(ctx.upstream_model);
  result.finish_reason = "stop";
  result.completion_text = *answer;  // no usage: the gateway counts tokens
  if (!req.stream) {
    core::ChatResponse resp;
    resp.id = std::string(ctx.request_id);
    resp.model = result.model;
    resp.created = ctx.created;
    resp.content = *answer;
    resp.finish_reason = "stop";
    result.body = api::WriteChatCompletion(resp);
    co_return result;
  }
  if (!co_await sink.BeginStream()) co_return core::Cancelled("client went away");
  std::string out;
  api::AppendChunkRole(out, ctx.request_id, result.model, ctx.created);
  api::AppendChunkContent(out, ctx.request_id, result.model, ctx.created, *answer);
  api::AppendChunkFinish(out, ctx.request_id, result.model, ctx.created, "stop");
  api::AppendDone(out);
  if (!co_await sink.Write(out, http::StreamFlush::kWithNext)) {
    co_return core::Cancelled("client went away");
  }
  result.streamed = true;
  co_return result;
}

}  // namespace switchyard::providers
