// Route policies on the request path: `policy = "router"` and `policy =
// "cascade"` routes ([[routes]] in docs/CONFIG.md).
//
//   router   scores the request (prompt features) with a prompt router model;
//            score >= threshold sends it to the strong target, else the weak
//            one. The other target stays behind it as a failure fallback.
//   cascade  calls the weak target first — always non-streamed, with token
//            logprobs requested from owned OpenAI-kind backends — scores its
//            answer with a cascade model and escalates to the strong target
//            when score >= threshold. A streamed request receives only the
//            answer finally accepted (the weak one re-sent as SSE, or the
//            strong one streamed through).
//   latency_slo_ms  while the strong target's provider has a recent p95 above
//            it, the policy keeps requests on the weak target (router: weak
//            instead of strong; cascade: the weak answer is accepted) and says
//            why: x-switchyard-route-reason: latency_slo.
//
// Every decision sets x-switchyard-escalated, x-switchyard-confidence (the
// score, when there is one) and, when the choice was forced,
// x-switchyard-route-reason (latency_slo | local_only | weak_failed |
// weak_unavailable | score_error); the Outcome gets escalated, confidence,
// route_reason, stages_tried and answered_by.
//
// Ownership and threading: a PolicyTable owns its models (immutable, shared
// by every loop) and a LatencyTracker (thread-safe, one mutex per tracked
// provider). ApplyPolicy runs on the request's event loop.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "config/config.h"
#include "core/chat.h"
#include "core/clock.h"
#include "core/status.h"
#include "gateway/accounting.h"
#include "gateway/gateway.h"
#include "gateway/resolver.h"
#include "http/client.h"
#include "http/server.h"
#include "routing/model.h"

namespace simdjson::dom {
class parser;
}

namespace switchyard::gateway {

// Recent call latencies per provider, for latency_slo_ms. Samples older than
// `window` are forgotten, so a provider the policy avoids is tried again once
// its slow samples have aged out.
class LatencyTracker {
 public:
  struct Options {
    std::chrono::milliseconds window{60'000};
    size_t capacity = 256;   // newest samples kept per provider
    size_t min_samples = 3;  // fewer in the window: no p95 (no preference)
  };
  // Tracks only `providers` (Record() for others is a no-op).
  LatencyTracker(const core::Clock& clock, const std::vector<std::string>& providers,
                 Options options);
  void Record(std::string_view provider, double ms);
  // The 95th percentile (nearest rank) of the samples in the window; nullopt
  // when untracked or with fewer than min_samples.
  std::optional<double> P95(std::string_view provider) const;

 private:
  struct Series {
    mutable std::mutex mu;
    std::deque<std::pair<std::chrono::steady_clock::time_point, double>> samples;
  };
  const core::Clock& clock_;
  Options options_;
  std::map<std::string, std::unique_ptr<Series>, std::less<>> series_;
};

struct RoutePolicy {
  enum class Kind { kRouter, kCascade };
  std::string route;
  Kind kind = Kind::kRouter;
  std::string weak;  // "provider/model" labels
  std::string strong;
  std::string strong_provider;
  std::shared_ptr<const routing::RouterModel> model;
  double threshold = 0;
  std::string threshold_note;  // where the threshold came from, for the startup log
  int latency_slo_ms = 0;      // 0 = off
  double shadow_sample = 0;    // share of requests given a shadow call (gateway/shadow.h)
};

// The route sets latency_slo_ms and its strong provider's recent p95 is
// above it.
bool StrongOverSlo(const RoutePolicy& policy, const LatencyTracker& latency);

class PolicyTable {
 public:
  // Loads every router/cascade route's model and sets its threshold (fixed, or
  // from target_pgr / max_strong_share on its holdout file). Errors
  // (kInvalidArgument), one line, e.g.:
  //   "route \"r\": m.model: cannot read file (No such file or directory)"
  //   "route \"r\": policy \"cascade\" needs a cascade model; m.model is a prompt model"
  //   "route \"r\": held.csv: missing column 'weak_correct'"
  static core::Result<std::unique_ptr<PolicyTable>> Create(
      const config::Config& config, const core::Clock& clock,
      LatencyTracker::Options latency = LatencyTracker::Options());

  const RoutePolicy* Find(std::string_view route) const;
  LatencyTracker& latency() { return *latency_; }
  const std::vector<RoutePolicy>& policies() const { return policies_; }

 private:
  std::vector<RoutePolicy> policies_;
  std::unique_ptr<LatencyTracker> latency_;
};

// Token logprobs of a non-streamed OpenAI answer:
// choices[0].logprobs.content[].logprob. No logprobs (absent or null) is an
// empty list. Errors (kInvalidArgument): "answer is not JSON",
// "choices[0].logprobs is not an object", "choices[0].logprobs.content is not
// an array", "choices[0].logprobs.content[<i>].logprob is not a number".
core::Result<std::vector<double>> ParseAnswerLogprobs(std::string_view body,
                                                      simdjson::dom::parser* parser = nullptr);

// The weak call of a cascade: the client's body with "stream":false (no
// stream_options) and, when `logprobs`, "logprobs":true,"top_logprobs":1.
// `request` is the parsed request to match (model span, stream flags).
struct WeakRequest {
  std::string body;
  core::ChatRequest request;
  bool client_logprobs = false;  // the client asked for logprobs itself
};
// Errors: InvalidArgument "request body is not a JSON object".
core::Result<WeakRequest> MakeWeakRequest(std::string_view raw_body,
                                          const core::ChatRequest& request, bool logprobs);

// A non-streamed chat.completion read back into a ChatResponse (content, tool
// calls, finish reason, usage). Errors: InvalidArgument "answer is not a chat
// completion".
core::Result<core::ChatResponse> ParseCompletion(std::string_view body,
                                                 simdjson::dom::parser* parser = nullptr);
// The answer as chat.completion.chunk SSE frames ending with [DONE]; a usage
// chunk when `include_usage`.
std::string CompletionAsSse(const core::ChatResponse& response, bool include_usage);

// A sink for calls that must not stream (a cascade's weak call, shadow calls).
class NoStreamSink final : public providers::StreamSink {
 public:
  http::awaitable<bool> BeginStream() override { co_return false; }
  http::awaitable<bool> Write(std::string_view, http::StreamFlush) override { co_return false; }
  bool started() const override { return false; }
};

// The weak answer a cascade read (kept for shadow outcomes).
struct WeakAnswer {
  std::string label;  // the weak target
  std::string content;
  std::string finish_reason;
  std::vector<double> logprobs;
  bool text = false;  // a text answer (not empty, no tool calls)
};

// What the request path hands a policy.
struct PolicyCall {
  const core::ChatRequest* chat = nullptr;
  std::string_view raw_body;
  std::string_view subject;  // x-switchyard-subject header ("" = none)
  http::UpstreamClient* client = nullptr;
  http::CancelToken* cancel = nullptr;
  std::string_view request_id;
  int64_t created = 0;
  simdjson::dom::parser* json = nullptr;
  providers::AnswerReader* answers = nullptr;  // the loop's, for the weak call's answer
  const Accounting* accounting = nullptr;
  spdlog::logger* log = nullptr;
  // Holds the accepted cascade answer sent to the client (Outcome's
  // response_body points into it); must outlive the outcome's recording.
  std::string* answer_body = nullptr;
  // Counts the weak call in the upstream-attempt metric (provider, outcome:
  // ok | error | cancelled); may be empty.
  std::function<void(std::string_view provider, std::string_view outcome)> count_attempt;
  // Called with the target and the exact body sent when the cascade's weak
  // call goes to a provider that is not owned (the gateway's egress audit);
  // may be empty.
  std::function<void(const Target& target, std::string_view body)> on_external_call;
  // Non-null: a cascade stores its weak answer here once it has read one,
  // whether it accepts it or escalates.
  std::optional<WeakAnswer>* weak_answer = nullptr;
};

enum class PolicyStep {
  kContinue,   // plan.targets now holds the targets to try, in order
  kAnswered,   // the accepted cascade answer was sent (w.failed() says if it got through)
  kCancelled,  // the client went away during the weak call
};

// Applies `policy` to a request whose plan is `plan` (its targets possibly
// already reduced by local_only). Fills the decision fields of `outcome` and
// the decision headers in `headers`.
http::awaitable<PolicyStep> ApplyPolicy(const RoutePolicy& policy, PolicyTable& table, Plan& plan,
                                        const PolicyCall& call, Outcome& outcome,
                                        http::ResponseHeaders& headers, http::ResponseWriter& w);

}  // namespace switchyard::gateway
