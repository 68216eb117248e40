#include "gateway/policies.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <simdjson.h>

#include "api/openai_write.h"
#include "core/json_writer.h"
#include "routing/online.h"

namespace switchyard::gateway {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kCostHeader = "x-switchyard-cost-usd";

std::string FormatUsd(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10f", usd);
  std::string s(buf);
  while (s.size() > 3 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::string FormatScore(double score) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", score);
  return buf;
}

const Target* FindTarget(const std::vector<Target>& targets, std::string_view label) {
  for (const Target& t : targets) {
    if (t.label == label) return &t;
  }
  return nullptr;
}

}  // namespace

bool StrongOverSlo(const RoutePolicy& policy, const LatencyTracker& latency) {
  if (policy.latency_slo_ms <= 0) return false;
  const std::optional<double> p95 = latency.P95(policy.strong_provider);
  return p95 && *p95 > policy.latency_slo_ms;
}

// ------------------------------------------------------------ LatencyTracker

LatencyTracker::LatencyTracker(const core::Clock& clock, const std::vector<std::string>& providers,
                               Options options)
    : clock_(clock), options_(options) {
  for (const std::string& p : providers) series_.emplace(p, std::make_unique<Series>());
}

void LatencyTracker::Record(std::string_view provider, double ms) {
  auto it = series_.find(provider);
  if (it == series_.end()) return;
  Series& s = *it->second;
  std::lock_guard lock(s.mu);
  s.samples.emplace_back(clock_.Now(), ms);
  while (s.samples.size() > options_.capacity) s.samples.pop_front();
}

std::optional<double> LatencyTracker::P95(std::string_view provider) const {
  auto it = series_.find(provider);
  if (it == series_.end()) return std::nullopt;
  const Series& s = *it->second;
  const SteadyClock::time_point since = clock_.Now() - options_.window;
  std::vector<double> recent;
  {
    std::lock_guard lock(s.mu);
    for (const auto& [when, ms] : s.samples) {
      if (when >= since) recent.push_back(ms);
    }
  }
  if (recent.empty() || recent.size() < options_.min_samples) return std::nullopt;
  // Nearest rank: the ceil(0.95 n)-th smallest.
  const size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(recent.size())));
  const size_t index = std::max<size_t>(rank, 1) - 1;
  std::nth_element(recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(index),
                   recent.end());
  return recent[index];
}

// --------------------------------------------------------------- PolicyTable

core::Result<std::unique_ptr<PolicyTable>> PolicyTable::Create(const config::Config& config,
                                                               const core::Clock& clock,
                                                               LatencyTracker::Options latency) {
  auto table = std::unique_ptr<PolicyTable>(new PolicyTable());
  std::vector<std::string> tracked;
  for (const config::RouteConfig& route : config.routes) {
    if (route.policy != "router" && route.policy != "cascade") continue;
    const std::string where = "route \"" + route.name + "\": ";
    RoutePolicy p;
    p.route = route.name;
    p.kind = route.policy == "cascade" ? RoutePolicy::Kind::kCascade : RoutePolicy::Kind::kRouter;
    p.weak = route.weak;
    p.strong = route.strong;
    p.strong_provider = route.strong.substr(0, route.strong.find('/'));
    p.latency_slo_ms = route.latency_slo_ms;
    p.shadow_sample = route.shadow_sample;
    auto model = routing::RouterModel::Load(route.model);
    if (!model.ok()) return core::InvalidArgument(where + model.status().message());
    const routing::RouterKind want = p.kind == RoutePolicy::Kind::kCascade
                                         ? routing::RouterKind::kCascade
                                         : routing::RouterKind::kPrompt;
    if (model->kind() != want) {
      return core::InvalidArgument(where + "policy \"" + route.policy + "\" needs a " +
                                   std::string(routing::RouterKindName(want)) + " model; " +
                                   route.model + " is a " +
                                   std::string(routing::RouterKindName(model->kind())) + " model");
    }
    if (route.threshold) {
      p.threshold = *route.threshold;
    } else {
      routing::ThresholdTarget target;
      target.target_pgr = route.target_pgr;
      target.max_strong_share = route.max_strong_share;
      auto choice = routing::ThresholdFromHoldout(*model, route.holdout, target);
      if (!choice.ok()) return core::InvalidArgument(where + choice.status().message());
      p.threshold = choice->threshold;
      char note[256];
      std::snprintf(note, sizeof(note), "%s %g on %s: %.1f%% strong, PGR %.3f there",
                    route.target_pgr ? "target_pgr" : "max_strong_share",
                    route.target_pgr ? *route.target_pgr : *route.max_strong_share,
                    route.holdout.c_str(), 100 * choice->strong_share, choice->pgr);
      p.threshold_note = note;
    }
    if (p.threshold_note.empty()) p.threshold_note = "fixed";
    p.model = std::make_shared<const routing::RouterModel>(std::move(*model));
    if (p.latency_slo_ms > 0) tracked.push_back(p.strong_provider);
    table->policies_.push_back(std::move(p));
  }
  table->latency_ = std::make_unique<LatencyTracker>(clock, tracked, latency);
  return table;
}

const RoutePolicy* PolicyTable::Find(std::string_view route) const {
  for (const RoutePolicy& p : policies_) {
    if (p.route == route) return &p;
  }
  return nullptr;
}

// ------------------------------------------------------------------ JSON

core::Result<std::vector<double>> ParseAnswerLogprobs(std::string_view body,
                                                      simdjson::dom::parser* shared) {
  std::optional<simdjson::dom::parser> local;
  simdjson::dom::parser& parser = shared != nullptr ? *shared : local.emplace();
  simdjson::dom::element doc;
  if (body.empty() || parser.parse(body.data(), body.size()).get(doc)) {
    return core::InvalidArgument("answer is not JSON");
  }
  std::vector<double> out;
  simdjson::dom::element logprobs;
  if (doc.at_pointer("/choices/0/logprobs").get(logprobs) || logprobs.is_null()) return out;
  if (!logprobs.is_object()) return core::InvalidArgument("choices[0].logprobs is not an object");
  simdjson::dom::element content;
  if (logprobs["content"].get(content) || content.is_null()) return out;
  simdjson::dom::array tokens;
  if (content.get(tokens)) {
    return core::InvalidArgument("choices[0].logprobs.content is not an array");
  }
  size_t i = 0;
  for (simdjson::dom::element token : tokens) {
    double lp = 0;
    simdjson::dom::element value;
    const bool number = !token["logprob"].get(value) &&
                        (value.is_double() || value.is_int64() || value.is_uint64());
    if (!number || value.get(lp) || !std::isfinite(lp)) {
      return core::InvalidArgument("choices[0].logprobs.content[" + std::to_string(i) +
                                   "].logprob is not a number");
    }
    out.push_back(lp);
    ++i;
  }
  return out;
}

core::Result<WeakRequest> MakeWeakRequest(std::string_view raw_body,
                                          const core::ChatRequest& request, bool logprobs) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (raw_body.empty() || parser.parse(raw_body.data(), raw_body.size()).get(object)) {
    return core::InvalidArgument("request body is not a JSON object");
  }
  WeakRequest out;
  out.request = request;
  std::string& body = out.body;
  body = "{\"model\":";
  out.request.model_value_offset = body.size();
  core::AppendJsonString(body, request.model);
  out.request.model_value_length = body.size() - out.request.model_value_offset;
  for (auto [key, value] : object) {
    if (key == "model" || key == "stream" || key == "stream_options") continue;
    if (key == "logprobs") {
      bool wanted = false;
      out.client_logprobs = !value.get(wanted) && wanted;
    }
    if (logprobs && (key == "logprobs" || key == "top_logprobs")) continue;
    body += ',';
    core::AppendJsonString(body, key);
    body += ':';
    body += simdjson::minify(value);
  }
  body += ",\"stream\":false";
  if (logprobs) body += ",\"logprobs\":true,\"top_logprobs\":1";
  body += '}';
  out.request.stream = false;
  out.request.include_usage = false;
  out.request.has_stream_options = false;
  return out;
}

core::Result<core::ChatResponse> ParseCompletion(std::string_view body,
                                                 simdjson::dom::parser* shared) {
  std::optional<simdjson::dom::parser> local;
  simdjson::dom::parser& parser = shared != nullptr ? *shared : local.emplace();
  simdjson::dom::element doc;
  simdjson::dom::element message;
  if (body.empty() || parser.parse(body.data(), body.size()).get(doc) ||
      doc.at_pointer("/choices/0/message").get(message) || !message.is_object()) {
    return core::InvalidArgument("answer is not a chat completion");
  }
  core::ChatResponse r;
  std::string_view s;
  if (!doc["id"].get(s)) r.id = std::string(s);
  if (!doc["model"].get(s)) r.model = std::string(s);
  int64_t created = 0;
  if (!doc["created"].get(created)) r.created = created;
  if (!message["content"].get(s)) {
    r.content = std::string(s);
  } else {
    r.content_is_null = true;
  }
  if (!doc.at_pointer("/choices/0/finish_reason").get(s)) r.finish_reason = std::string(s);
  simdjson::dom::array calls;
  if (!message["tool_calls"].get(calls)) {
    for (simdjson::dom::element call : calls) {
      core::ToolCall tc;
      if (!call["id"].get(s)) tc.id = std::string(s);
      if (!call.at_pointer("/function/name").get(s)) tc.name = std::string(s);
      if (!call.at_pointer("/function/arguments").get(s)) tc.arguments = std::string(s);
      r.tool_calls.push_back(std::move(tc));
    }
  }
  simdjson::dom::object usage;
  if (!doc["usage"].get(usage)) {
    int64_t v = 0;
    if (!usage["prompt_tokens"].get(v)) r.usage.prompt_tokens = v;
    if (!usage["completion_tokens"].get(v)) r.usage.completion_tokens = v;
    if (!usage.at_pointer("/prompt_tokens_details/cached_tokens").get(v)) {
      r.usage.cached_prompt_tokens = v;
    }
    r.usage.present = true;
  }
  return r;
}

std::string CompletionAsSse(const core::ChatResponse& r, bool include_usage) {
  std::string out;
  api::AppendChunkRole(out, r.id, r.model, r.created);
  if (!r.content.empty()) api::AppendChunkContent(out, r.id, r.model, r.created, r.content);
  for (size_t i = 0; i < r.tool_calls.size(); ++i) {
    const core::ToolCall& tc = r.tool_calls[i];
    api::AppendChunkToolCall(out, r.id, r.model, r.created, static_cast<int>(i),
                             tc.id.empty() ? "call_" + std::to_string(i) : tc.id, tc.name,
                             tc.arguments);
  }
  api::AppendChunkFinish(out, r.id, r.model, r.created,
                         r.finish_reason.empty() ? "stop" : r.finish_reason);
  if (include_usage && (r.usage.present || r.usage.estimated)) {
    api::AppendChunkUsage(out, r.id, r.model, r.created, r.usage);
  }
  api::AppendDone(out);
  return out;
}

// ------------------------------------------------------------- the policies

namespace {

void SetDecision(Outcome& outcome, http::ResponseHeaders& headers, bool escalated,
                 std::optional<double> score, std::string reason) {
  outcome.escalated = escalated;
  outcome.confidence = score;
  outcome.route_reason = std::move(reason);
  headers.emplace_back("x-switchyard-escalated", escalated ? "true" : "false");
  if (score) headers.emplace_back("x-switchyard-confidence", FormatScore(*score));
  if (!outcome.route_reason.empty()) {
    headers.emplace_back("x-switchyard-route-reason", outcome.route_reason);
  }
}

routing::RouterInput InputFor(const PolicyCall& call) {
  routing::RouterInput in;
  in.prompt = call.chat->LastUserText();
  if (!call.subject.empty()) in.subject = call.subject;
  return in;
}

PolicyStep ApplyRouter(const RoutePolicy& policy, const LatencyTracker& latency, Plan& plan,
                       const PolicyCall& call, Outcome& outcome, http::ResponseHeaders& headers) {
  const Target* weak = FindTarget(plan.targets, policy.weak);
  const Target* strong = FindTarget(plan.targets, policy.strong);
  std::string reason;
  std::optional<double> score;
  auto scored = policy.model->Score(InputFor(call));
  if (scored.ok()) {
    score = *scored;
  } else {
    reason = "score_error";
    if (call.log != nullptr) {
      call.log->warn("request {}: route {}: {}", call.request_id, policy.route,
                     scored.status().message());
    }
  }
  bool use_strong = !score || *score >= policy.threshold;
  if (strong == nullptr) {
    if (use_strong) reason = "local_only";
    use_strong = false;
  } else if (weak == nullptr) {
    if (!use_strong) reason = "weak_unavailable";
    use_strong = true;
  } else if (use_strong && StrongOverSlo(policy, latency)) {
    use_strong = false;
    reason = "latency_slo";
  }
  std::vector<Target> targets;
  const Target* first = use_strong ? strong : weak;
  const Target* second = use_strong ? weak : strong;
  if (first != nullptr) targets.push_back(*first);
  if (second != nullptr) targets.push_back(*second);  // failure fallback
  plan.targets = std::move(targets);
  SetDecision(outcome, headers, use_strong, score, std::move(reason));
  return PolicyStep::kContinue;
}

http::awaitable<PolicyStep> ApplyCascade(const RoutePolicy& policy, PolicyTable& table, Plan& plan,
                                         const PolicyCall& call, Outcome& outcome,
                                         http::ResponseHeaders& headers, http::ResponseWriter& w) {
  const Target* weak = FindTarget(plan.targets, policy.weak);
  const Target* strong = FindTarget(plan.targets, policy.strong);
  auto escalate = [&](std::optional<double> score, std::string reason) {
    std::vector<Target> targets;
    if (strong != nullptr) targets.push_back(*strong);
    plan.targets = std::move(targets);
    SetDecision(outcome, headers, true, score, std::move(reason));
  };
  if (weak == nullptr || !weak->breaker->Allow()) {
    if (strong == nullptr) co_return PolicyStep::kContinue;  // nothing left: the plan says why
    escalate(std::nullopt, "weak_unavailable");
    co_return PolicyStep::kContinue;
  }
  const auto& pcfg = weak->provider->config();
  const bool want_logprobs = pcfg.owned && pcfg.kind == "openai";
  auto weak_request = MakeWeakRequest(call.raw_body, *call.chat, want_logprobs);
  if (!weak_request.ok()) {
    escalate(std::nullopt, "weak_failed");
    co_return PolicyStep::kContinue;
  }

  providers::CallContext ctx;
  ctx.request = &weak_request->request;
  ctx.raw_body = weak_request->body;
  ctx.upstream_model = weak->model;
  ctx.client = call.client;
  ctx.cancel = call.cancel;
  ctx.request_id = call.request_id;
  ctx.created = call.created;
  ctx.json = call.json;
  ctx.answers = call.answers;
  ++outcome.attempts;
  outcome.stages_tried.push_back(weak->label);
  auto on_send = [&call, weak](std::string_view body) { call.on_external_call(*weak, body); };
  if (!pcfg.owned && call.on_external_call) ctx.on_send = providers::SendHook(on_send);
  NoStreamSink sink;
  const auto started = SteadyClock::now();
  auto result = co_await weak->provider->Chat(ctx, sink);
  auto count = [&call, &pcfg](std::string_view what) {
    if (call.count_attempt) call.count_attempt(pcfg.name, what);
  };
  if (!result.ok()) {
    const core::Status& err = result.status();
    if (err.code() == core::StatusCode::kCancelled || call.cancel->cancelled()) {
      count("cancelled");
      weak->breaker->RecordAbandoned();
      outcome.provider = pcfg.name;
      co_return PolicyStep::kCancelled;
    }
    count("error");
    if (err.code() == core::StatusCode::kInvalidArgument) {
      weak->breaker->RecordSuccess();
    } else {
      weak->breaker->RecordFailure();
    }
    if (call.log != nullptr) {
      call.log->warn("request {}: cascade {}: weak {} failed: {}", call.request_id, policy.route,
                     weak->label, err.message());
    }
    if (strong == nullptr) {
      plan.targets = {*weak};  // nothing to escalate to: the weak target again
      SetDecision(outcome, headers, false, std::nullopt, "local_only");
      co_return PolicyStep::kContinue;
    }
    escalate(std::nullopt, "weak_failed");
    co_return PolicyStep::kContinue;
  }
  count("ok");
  weak->breaker->RecordSuccess();
  table.latency().Record(
      pcfg.name, std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count());

  // Score the weak answer (its text and, when returned, its token logprobs).
  core::ChatResponse answer;
  std::vector<double> logprobs;
  std::optional<double> score;
  std::string reason;
  auto parsed = ParseCompletion(result->body, call.json);
  if (parsed.ok()) answer = std::move(*parsed);
  auto lp = ParseAnswerLogprobs(result->body, call.json);
  if (lp.ok()) {
    logprobs = std::move(*lp);
  } else if (call.log != nullptr) {
    call.log->warn("request {}: cascade {}: logprobs ignored: {}", call.request_id, policy.route,
                   lp.status().message());
  }
  if (parsed.ok() && call.weak_answer != nullptr) {
    WeakAnswer& kept = call.weak_answer->emplace();
    kept.label = weak->label;
    kept.content = answer.content;
    kept.finish_reason = answer.finish_reason;
    kept.logprobs = logprobs;
    kept.text = answer.tool_calls.empty() && !answer.content.empty();
  }
  if (parsed.ok()) {
    routing::RouterInput in = InputFor(call);
    in.weak_response = answer.content;
    in.weak_logprobs = logprobs;
    auto scored = policy.model->Score(in);
    if (scored.ok()) score = *scored;
  }
  if (!score) reason = "score_error";
  bool escalated = !score || *score >= policy.threshold;

  core::Usage usage = result->usage;
  const std::string model = result->model.empty() ? weak->model : result->model;
  double cost = 0;
  bool priced = false;
  if (call.accounting != nullptr) {
    if (!usage.present) {
      call.accounting->EstimateUsage(*call.chat, model,
                                     result->completion_text.empty()
                                         ? std::string_view(answer.content)
                                         : result->completion_text,
                                     usage);
    }
    cost = call.accounting->CostUsd(pcfg, model, usage, &priced);
  }
  outcome.cost_usd = cost;
  outcome.priced = priced;
  outcome.provider = pcfg.name;
  outcome.model = model;
  if (escalated && strong != nullptr && StrongOverSlo(policy, table.latency())) {
    escalated = false;
    reason = "latency_slo";
  } else if (escalated && strong == nullptr) {
    escalated = false;
    reason = "local_only";
  }
  if (escalated) {
    escalate(score, std::move(reason));
    co_return PolicyStep::kContinue;
  }

  // Accepted: the weak answer goes to the client.
  SetDecision(outcome, headers, false, score, std::move(reason));
  outcome.answered_by = weak->label;
  outcome.usage = usage;
  headers.emplace_back("x-switchyard-route", weak->label);
  headers.emplace_back("x-switchyard-attempts", std::to_string(outcome.attempts));
  headers.emplace_back(kCostHeader, FormatUsd(cost));
  if (call.chat->stream) {
    if (!parsed.ok()) answer.content = result->completion_text;
    if (answer.model.empty()) answer.model = model;
    if (answer.id.empty()) answer.id = std::string(call.request_id);
    if (!answer.usage.present) answer.usage = usage;
    const std::string sse = CompletionAsSse(answer, call.chat->include_usage);
    if (co_await w.BeginStream(200, "text/event-stream", headers)) {
      if (co_await w.WriteChunk(sse, http::StreamFlush::kWithNext)) co_await w.EndStream();
    }
  } else if (want_logprobs && !weak_request->client_logprobs && parsed.ok()) {
    // The logprobs were asked for the score, not by the client: not passed on.
    *call.answer_body = api::WriteChatCompletion(answer);
    co_await w.Send(200, kJson, *call.answer_body, headers);
    outcome.response_body = *call.answer_body;
  } else {
    *call.answer_body = std::move(result->body);
    co_await w.Send(200, kJson, *call.answer_body, headers);
    outcome.response_body = *call.answer_body;
  }
  co_return PolicyStep::kAnswered;
}

}  // namespace

http::awaitable<PolicyStep> ApplyPolicy(const RoutePolicy& policy, PolicyTable& table, Plan& plan,
                                        const PolicyCall& call, Outcome& outcome,
                                        http::ResponseHeaders& headers, http::ResponseWriter& w) {
  if (policy.kind == RoutePolicy::Kind::kRouter) {
    co_return ApplyRouter(policy, table.latency(), plan, call, outcome, headers);
  }
  co_return co_await ApplyCascade(policy, table, plan, call, outcome, headers, w);
}

}  // namespace switchyard::gateway
