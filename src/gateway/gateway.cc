#include "gateway/gateway.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>

#include <simdjson.h>

#include "api/errors.h"
#include "core/json_writer.h"
#include "gateway/policies.h"
#include "gateway/redaction.h"
#include "guard/hardening.h"
#include "providers/openai_provider.h"

namespace switchyard::gateway {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view kJson = "application/json";

double MsSince(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

std::string FormatUsd(double usd) {
  char buf[64];
  // As printf("%.10f"), without the locale and format-string machinery.
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), usd, std::chars_format::fixed, 10);
  std::string s(buf, ec == std::errc() ? end : buf);
  // Trim trailing zeros but keep one digit after the point.
  while (s.size() > 3 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

constexpr std::string_view kCostHeader = "x-switchyard-cost-usd";

// One side of a shadow outcome row: the weak target's answer or the strong one's.
void SetShadowAnswer(routing::PairedOutcome& row, bool weak, std::string_view target,
                     std::string content, std::string finish) {
  (weak ? row.weak_target : row.strong_target) = std::string(target);
  (weak ? row.weak_response : row.strong_response) = std::move(content);
  (weak ? row.weak_finish : row.strong_finish) = std::move(finish);
}

std::string_view PathOf(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string ErrorCodeFor(const core::Status& s) {
  if (!s.error_code().empty()) return s.error_code();
  switch (s.code()) {
    case core::StatusCode::kInvalidArgument:
      return "invalid_request";
    case core::StatusCode::kNotFound:
      return "not_found";
    case core::StatusCode::kResourceExhausted:
      return "rate_limited";
    case core::StatusCode::kUnavailable:
      return "upstream_error";
    case core::StatusCode::kDeadlineExceeded:
      return "upstream_timeout";
    case core::StatusCode::kCancelled:
      return "client_closed";
    default:
      return "internal_error";
  }
}

// Compares without an early exit, so timing does not reveal the prefix.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

// "chatcmpl-sy" + 8 base62 digits of the start time in ms (most significant
// first, so ids sort by time) + 12 random base62 digits. Time-ordered ids
// keep the ledger's unique index append-only: a batch of records dirties a
// few pages at the right edge of the b-tree instead of one page per record.
std::string NewRequestId(int64_t unix_ms, std::mt19937_64& rng) {
  static constexpr char kAlnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr std::string_view kPrefix = "chatcmpl-sy";
  std::string id(kPrefix.size() + 20, '0');
  std::copy(kPrefix.begin(), kPrefix.end(), id.begin());
  auto t = static_cast<uint64_t>(std::max<int64_t>(0, unix_ms));
  for (size_t i = kPrefix.size() + 8; i-- > kPrefix.size(); t /= 62) id[i] = kAlnum[t % 62];
  uint64_t r1 = rng(), r2 = rng();
  for (size_t i = kPrefix.size() + 8; i < kPrefix.size() + 14; ++i, r1 /= 62)
    id[i] = kAlnum[r1 % 62];
  for (size_t i = kPrefix.size() + 14; i < id.size(); ++i, r2 /= 62) id[i] = kAlnum[r2 % 62];
  return id;
}

}  // namespace

struct Gateway::LoopState {
  LoopState(http::asio::io_context& c, http::asio::ssl::context& tls, uint64_t seed)
      : ctx(c), client(c, tls), rng(seed) {}
  http::asio::io_context& ctx;
  http::UpstreamClient client;
  api::ChatRequestParser parser;
  simdjson::dom::parser answers;          // reused to read upstream answers (usage)
  providers::AnswerReader answer_reader;  // whole OpenAI answers, on demand
  std::mt19937_64 rng;
  // Metric series of answered requests (status 200) per route and provider,
  // looked up once per loop instead of under the families' mutex per request.
  // Keys are routes that resolved, so the map is bounded by the config.
  struct AnsweredSeries {
    observe::Counter* requests;
    observe::Histogram* latency;
    observe::Histogram* first_byte;
  };
  std::unordered_map<std::string, AnsweredSeries> answered;
  std::string series_key;  // scratch for lookups
  // The attempts{provider, "ok"} series per provider, looked up once per loop.
  std::unordered_map<std::string, observe::Counter*> attempts_ok;
  // Egress audit: hashes the bodies sent to providers that are not owned.
  guard::Sha256Hasher sha256;
};

struct Gateway::Metrics {
  explicit Metrics(observe::Registry& r)
      : requests(r.AddCounter("switchyard_requests_total",
                              "Chat requests answered, by route, provider and HTTP status",
                              {"route", "provider", "status"})),
        errors(r.AddCounter("switchyard_request_errors_total",
                            "Chat requests that ended in an error, by route, provider and status",
                            {"route", "provider", "status"})),
        latency(r.AddHistogram("switchyard_request_duration_seconds",
                               "Time from request head to the end of the response",
                               {"route", "provider"})),
        first_byte(r.AddHistogram("switchyard_first_byte_seconds",
                                  "Time from request head to the first response byte",
                                  {"route", "provider"})),
        attempts(r.AddCounter("switchyard_upstream_attempts_total",
                              "Upstream attempts, by provider and outcome",
                              {"provider", "outcome"})),
        http_requests(r.AddCounter("switchyard_http_requests_total",
                                   "HTTP requests by path and status", {"path", "status"})) {}
  observe::CounterFamily& requests;
  observe::CounterFamily& errors;
  observe::HistogramFamily& latency;
  observe::HistogramFamily& first_byte;
  observe::CounterFamily& attempts;
  observe::CounterFamily& http_requests;
};

// Streams go straight to the client; the head carries the decision headers of
// the target that is answering.
class WriterSink final : public providers::StreamSink {
 public:
  static constexpr size_t kMaxCapture = 1 << 20;
  explicit WriterSink(http::ResponseWriter& w) : w_(w) {}
  http::ResponseHeaders headers;
  http::awaitable<bool> BeginStream() override {
    co_return co_await w_.BeginStream(200, "text/event-stream", headers);
  }
  // Task requests (the teacher's label) and shadow-sampled requests (the
  // answer kept) keep a copy of the streamed bytes, up to kMaxCapture.
  std::string* capture = nullptr;
  http::awaitable<bool> Write(std::string_view bytes, http::StreamFlush flush) override {
    if (capture != nullptr && capture->size() < kMaxCapture) capture->append(bytes);
    co_return co_await w_.WriteChunk(bytes, flush);
  }
  bool started() const override { return w_.started(); }

 private:
  http::ResponseWriter& w_;
};

Gateway::Gateway(std::shared_ptr<const config::Config> config, observe::Registry& metrics,
                 const core::Clock& clock, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)), registry_(metrics), clock_(clock), log_(std::move(log)) {}

Gateway::~Gateway() = default;

core::Result<std::unique_ptr<Gateway>> Gateway::Create(
    const std::shared_ptr<const config::Config>& config, http::EventLoops& loops,
    http::asio::ssl::context& tls, observe::Registry& metrics, const core::Clock& clock,
    std::shared_ptr<spdlog::logger> log, GatewayOptions options) {
  std::unique_ptr<Gateway> gw(new Gateway(config, metrics, clock, std::move(log)));
  for (const auto& pc : config->providers) {
    auto provider = providers::MakeProvider(pc);
    if (!provider.ok()) return provider.take_status();
    ProviderSlot slot;
    slot.provider = std::move(*provider);
    slot.breaker = std::make_unique<providers::CircuitBreaker>(
        pc.breaker_failures, std::chrono::milliseconds(pc.breaker_cooldown_ms), clock);
    gw->slots_.push_back(std::move(slot));
  }
  gw->resolver_ = std::make_unique<Resolver>(*config, gw->slots_);
  LatencyTracker::Options latency;
  latency.window = std::chrono::milliseconds(options.latency_window_ms);
  latency.min_samples = options.latency_min_samples;
  auto policies = PolicyTable::Create(*config, clock, latency);
  if (!policies.ok()) return policies.take_status();
  gw->policies_ = std::move(*policies);
  for (const RoutePolicy& p : gw->policies_->policies()) {
    gw->log_->info("route {}: {} {} -> {}, threshold {} ({})", p.route,
                   p.kind == RoutePolicy::Kind::kCascade ? "cascade" : "router", p.weak, p.strong,
                   p.threshold, p.threshold_note);
  }
  uint64_t seed = options.seed;
  if (seed == 0)
    seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  for (size_t i = 0; i < loops.size(); ++i) {
    gw->loops_.push_back(std::make_unique<LoopState>(loops.context(i), tls, seed + i * 7919));
  }
  gw->metrics_ = std::make_unique<Metrics>(metrics);
  Gateway* raw = gw.get();
  metrics.AddCallbackGaugeFamily(
      "switchyard_circuit_state",
      "Circuit breaker state per provider (0 closed, 1 open, 2 half-open)", {"provider"}, [raw] {
        observe::Registry::LabelledValues out;
        for (const auto& slot : raw->slots_) {
          out.push_back({{slot.provider->config().name},
                         static_cast<double>(static_cast<int>(slot.breaker->state()))});
        }
        return out;
      });

  std::string& mj = gw->models_json_;
  core::JsonWriter w(mj);
  w.BeginObject().Field("object", "list").Key("data").BeginArray();
  for (const auto& m : gw->resolver_->Models()) {
    w.BeginObject()
        .Field("id", m.id)
        .Field("object", "model")
        .Field("created", int64_t{0})
        .Field("owned_by", m.owned_by)
        .EndObject();
  }
  w.EndArray().EndObject();
  return gw;
}

http::ErrorBody Gateway::ServerErrorBody(int status, std::string_view message) const {
  return {std::string(kJson), api::OpenAiErrorBody(status, message)};
}

http::awaitable<void> Gateway::SendError(http::ResponseWriter& w, const core::Status& s,
                                         const http::ResponseHeaders& extra) {
  const int status = api::HttpStatusFor(s.code());
  http::ResponseHeaders headers = extra;
  if (s.retry_after() && status == 429) {
    const auto secs = (s.retry_after()->count() + 999) / 1000;
    headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, secs)));
  }
  co_await w.Send(status, kJson, api::OpenAiErrorBody(s), headers);
}

http::awaitable<void> Gateway::Handle(http::ServerRequest& req, http::ResponseWriter& w) {
  LoopState& loop = *loops_[req.loop];
  const std::string_view path = PathOf(req.target);
  const bool get = req.method == http::bhttp::verb::get || req.method == http::bhttp::verb::head;
  const bool post = req.method == http::bhttp::verb::post;
  // Known path, wrong method: 405 with Allow.
  auto method_error = [&](std::string_view allow) {
    return core::Status(core::StatusCode::kMethodNotAllowed,
                        "method " + std::string(req.method_text) + " is not allowed on " +
                            std::string(path) + " (allowed: " + std::string(allow) + ")");
  };
  http::ResponseHeaders allow_header;
  std::optional<core::Status> error;

  if (admin_ && path.starts_with("/admin/")) {
    if (guard_.keys != nullptr) {
      const std::string_view auth = req.Header("authorization");
      const bool ok = !guard_.admin_key.empty() && auth.starts_with("Bearer ") &&
                      ConstantTimeEquals(auth.substr(7), guard_.admin_key);
      if (!ok) {
        core::Status denied(core::StatusCode::kUnauthenticated,
                            auth.empty() ? "missing admin key" : "invalid admin key");
        denied.set_error_code("invalid_api_key");
        co_await SendError(w, denied);
        co_return;
      }
    }
    co_await admin_(req, w);
    co_return;
  }
  if (path == "/v1/chat/completions" || path == "/chat/completions") {
    if (post) {
      co_await HandleChat(req, w, loop);
      co_return;
    }
    error = method_error("POST");
    allow_header.emplace_back("Allow", "POST");
  } else if (!get && (path == "/healthz" || path == "/health" || path == "/v1/models" ||
                      path == "/models" || path == "/metrics")) {
    error = method_error("GET");
    allow_header.emplace_back("Allow", "GET");
  } else if (path == "/healthz" || path == "/health") {
    if (server_ != nullptr && server_->draining()) {
      co_await w.Send(503, kJson, R"({"status":"draining"})");
    } else {
      co_await w.Send(200, kJson, R"({"status":"ok"})");
    }
    co_return;
  } else if (path == "/v1/models" || path == "/models") {
    co_await w.Send(200, kJson, models_json_);
    co_return;
  } else if (path == "/metrics") {
    co_await w.Send(200, observe::kPrometheusContentType, registry_.RenderPrometheus());
    co_return;
  }
  if (error) {
    co_await SendError(w, *error, allow_header);
    co_return;
  }
  core::Status nf = core::NotFound("unknown path " + std::string(path) +
                                   " (endpoints: POST /v1/chat/completions, GET /v1/models, "
                                   "GET /healthz, GET /metrics)");
  nf.set_error_code("unknown_url");
  co_await SendError(w, nf);
}

std::chrono::milliseconds Gateway::Backoff(LoopState& loop, const config::ProviderConfig& cfg,
                                           int retry) const {
  const double base = cfg.retry_base_ms * std::pow(2.0, retry);
  const double capped = std::min<double>(base, cfg.retry_max_ms);
  // Jitter: uniformly between half and all of the capped delay.
  const double j = std::uniform_real_distribution<double>(0.5, 1.0)(loop.rng);
  return std::chrono::milliseconds(static_cast<int64_t>(capped * j));
}

core::Result<std::optional<guard::Reservation>> Gateway::ReserveLimits(
    const guard::TenantInfo& tenant, const core::ChatRequest& chat, size_t body_bytes,
    const Target* first, double local_cost_usd) const {
  if (guard_.limits == nullptr || guard_.keys == nullptr)
    return std::optional<guard::Reservation>();
  core::Usage estimate;
  if (accounting_ != nullptr && first != nullptr) {
    accounting_->EstimateUsage(chat, first->model, "", estimate);
  }
  if (estimate.prompt_tokens == 0) estimate.prompt_tokens = static_cast<int64_t>(body_bytes / 4);
  double est_usd = 0;
  if (first != nullptr) {
    estimate.completion_tokens = chat.max_tokens.value_or(guard_.default_max_tokens);
    bool priced = false;
    if (accounting_ != nullptr) {
      est_usd = accounting_->CostUsd(first->provider->config(), first->model, estimate, &priced);
    }
  } else {
    est_usd = local_cost_usd;
  }
  auto reserved = guard_.limits->Reserve(
      tenant.tenant, tenant.limits, estimate.prompt_tokens + estimate.completion_tokens, est_usd);
  if (!reserved.ok()) return reserved.take_status();
  return std::optional<guard::Reservation>(std::move(*reserved));
}

http::awaitable<bool> Gateway::Sleep(LoopState& loop, std::chrono::milliseconds d,
                                     http::CancelToken& cancel) {
  http::asio::steady_timer timer(loop.ctx, d);
  const size_t handle = cancel.Register([&timer] { timer.cancel(); });
  boost::system::error_code ec;
  co_await timer.async_wait(http::Redirect(ec));
  cancel.Unregister(handle);
  co_return !cancel.cancelled();
}

http::awaitable<void> Gateway::HandleChat(http::ServerRequest& req, http::ResponseWriter& w,
                                          LoopState& loop) {
  const auto start = req.received;
  Outcome outcome;
  outcome.start_unix_ms = clock_.UnixMillis();
  outcome.id = NewRequestId(outcome.start_unix_ms, loop.rng);
  http::ResponseHeaders headers;  // (the decision headers fit in place)
  headers.emplace_back("x-switchyard-request-id", outcome.id);
  std::optional<guard::Reservation> reservation;  // settled in finish()

  auto finish = [&](int status, const core::Status& err) {
    const auto end = Clock::now();
    outcome.status = status;
    outcome.total_ms = MsSince(start, end);
    if (w.started()) outcome.first_byte_ms = MsSince(start, w.first_byte_time());
    if (!err.ok()) outcome.error_code = ErrorCodeFor(err);
    if (reservation) {
      if (status == 200 && !outcome.provider.empty()) {
        guard_.limits->Commit(*reservation,
                              outcome.usage.prompt_tokens + outcome.usage.completion_tokens,
                              outcome.cost_usd);
      } else {
        guard_.limits->Refund(*reservation);
      }
      reservation.reset();
    }
    const std::string& route = outcome.route.empty() ? outcome.answered_by : outcome.route;
    const std::string_view provider =
        outcome.provider.empty() ? std::string_view("none") : std::string_view(outcome.provider);
    if (status == 200) {
      loop.series_key.assign(route).push_back('\x1f');
      loop.series_key.append(provider);
      auto it = loop.answered.find(loop.series_key);
      if (it == loop.answered.end()) {
        LoopState::AnsweredSeries series{&metrics_->requests.WithLabels({route, provider, "200"}),
                                         &metrics_->latency.WithLabels({route, provider}),
                                         &metrics_->first_byte.WithLabels({route, provider})};
        it = loop.answered.emplace(loop.series_key, series).first;
      }
      it->second.requests->Inc();
      it->second.latency->Observe(outcome.total_ms / 1000.0);
      if (outcome.first_byte_ms > 0) it->second.first_byte->Observe(outcome.first_byte_ms / 1000.0);
    } else {
      const std::string status_text = std::to_string(status);
      metrics_->requests.WithLabels({route, provider, status_text}).Inc();
      if (status >= 400) metrics_->errors.WithLabels({route, provider, status_text}).Inc();
      metrics_->latency.WithLabels({route, provider}).Observe(outcome.total_ms / 1000.0);
      if (outcome.first_byte_ms > 0) {
        metrics_->first_byte.WithLabels({route, provider}).Observe(outcome.first_byte_ms / 1000.0);
      }
    }
    // The recorder may move the outcome's strings away: nothing reads them after.
    if (recorder_) recorder_(outcome);
  };

  // Guard: the key comes first; nothing else is looked at without one.
  guard::TenantInfo tenant;
  if (guard_.keys != nullptr) {
    auto authed = guard_.keys->Authenticate(req.Header("authorization"));
    if (!authed.ok()) {
      outcome.route = "unauthenticated";
      headers.emplace_back(kCostHeader, "0.0");
      co_await SendError(w, authed.status(), headers);
      finish(api::HttpStatusFor(authed.status().code()), authed.status());
      co_return;
    }
    tenant = std::move(*authed);
    outcome.tenant = tenant.tenant;
  }

  // Front door: bound the parser's work and refuse bytes that are not text
  // before anything else reads the body.
  core::Status front = guard::CheckJsonDepth(req.body);
  if (front.ok()) front = guard::ValidateUtf8(req.body);
  auto parsed = front.ok() ? loop.parser.Parse(req.body) : core::Result<core::ChatRequest>(front);
  if (!parsed.ok()) {
    outcome.route = "invalid";
    headers.emplace_back(kCostHeader, "0.0");
    co_await SendError(w, parsed.status(), headers);
    finish(api::HttpStatusFor(parsed.status().code()), parsed.status());
    co_return;
  }
  core::ChatRequest& chat = *parsed;
  outcome.request = &chat;
  outcome.request_body = req.body;
  outcome.stream = chat.stream;

  // Guard: PII in the message texts, and the policy for this tenant and task.
  std::vector<guard::Finding> findings;
  guard::PolicyAction policy = guard::PolicyAction::kAllow;
  if (guard_.scanner != nullptr) {
    const std::vector<std::string_view> texts = RequestTexts(chat);
    auto scanned = guard_.scanner->ScanTexts(texts);
    core::Status err = scanned.ok() ? core::Status::Ok() : scanned.status();
    if (scanned.ok()) {
      findings = std::move(*scanned);
      outcome.pii_findings = guard::FindingsSummaryJson(findings);
      const auto task_name = RequestedTask(chat.model, req.Header("x-switchyard-task"));
      policy = guard_.policies.Resolve(tenant.tenant, task_name ? *task_name : "");
      if (policy == guard::PolicyAction::kBlock) {
        auto decided = guard::Decide(policy, findings, false);
        if (!decided.ok()) err = decided.status();
      }
    }
    if (!err.ok()) {
      outcome.route = "refused";
      headers.emplace_back(kCostHeader, "0.0");
      co_await SendError(w, err, headers);
      finish(api::HttpStatusFor(err.code()), err);
      co_return;
    }
  }
  // local_only: only owned targets. redact: external targets get placeholders
  // (gateway/redaction.h); if the request cannot be redacted it stays owned-only.
  bool owned_only = !findings.empty() && policy == guard::PolicyAction::kLocalOnly;
  std::unique_ptr<RedactedRequest> redacted;
  if (!findings.empty() && policy == guard::PolicyAction::kRedact) {
    auto r = RedactRequest(req.body, chat, findings, *guard_.scanner, loop.parser);
    if (r.ok() && (*r)->findings_after.empty()) {
      redacted = std::move(*r);
    } else {
      // (e.g. a value split across two content parts: found in the joined
      // text, so not replaced in either part)
      owned_only = true;
      log_->warn("request {}: cannot redact ({}); owned targets only", outcome.id,
                 r.ok() ? "findings left after redaction"
                        : guard::MaskUpstreamText(r.status().message(), guard_.scanner));
    }
  }

  // Task requests (gateway/tasks.h): the student answers here when it is
  // confident enough; otherwise the task's teacher is the target.
  const TaskRuntime::Task* task = nullptr;
  TaskDecision decision;
  std::string task_input;
  if (auto name = RequestedTask(chat.model, req.Header("x-switchyard-task"))) {
    outcome.route = "task:" + std::string(*name);
    auto found = tasks_ != nullptr
                     ? tasks_->Find(*name)
                     : core::Result<const TaskRuntime::Task*>(TaskNotFound(*config_, *name));
    core::Result<std::string> input = found.ok() ? tasks_->StudentInput(**found, chat)
                                                 : core::Result<std::string>(found.status());
    if (!input.ok()) {
      headers.emplace_back(kCostHeader, "0.0");
      co_await SendError(w, input.status(), headers);
      finish(api::HttpStatusFor(input.status().code()), input.status());
      co_return;
    }
    task = *found;
    outcome.task = task->cfg.name;
    task_input = std::move(*input);
    decision =
        tasks_->Decide(*task, task_input, std::uniform_real_distribution<double>(0, 1)(loop.rng));
    if (decision.student != nullptr) {
      outcome.confidence = decision.confidence;
      char conf[32];
      std::snprintf(conf, sizeof(conf), "%.4f", decision.confidence);
      headers.emplace_back("x-switchyard-confidence", conf);
    }
    if (decision.local()) {
      // Limits count every request, whoever answers it.
      auto reserved =
          ReserveLimits(tenant, chat, req.body.size(), nullptr, tasks_->student_cost_usd(*task));
      if (!reserved.ok()) {
        headers.emplace_back(kCostHeader, "0.0");
        co_await SendError(w, reserved.status(), headers);
        finish(429, reserved.status());
        co_return;
      }
      reservation = std::move(*reserved);
      const StudentReply reply =
          BuildStudentReply(decision, outcome.id, outcome.start_unix_ms / 1000, chat.stream);
      outcome.answered_by = reply.model;
      outcome.provider = "student";
      outcome.model = reply.model;
      outcome.cost_usd = tasks_->student_cost_usd(*task);
      outcome.priced = true;
      headers.emplace_back("x-switchyard-route", reply.model);
      headers.emplace_back("x-switchyard-escalated", "false");
      headers.emplace_back(kCostHeader, FormatUsd(outcome.cost_usd));
      if (chat.stream) {
        if (co_await w.BeginStream(200, "text/event-stream", headers)) {
          if (co_await w.WriteChunk(reply.body, http::StreamFlush::kWithNext))
            co_await w.EndStream();
        }
      } else {
        co_await w.Send(200, kJson, reply.body, headers);
        outcome.response_body = reply.body;
      }
      tasks_->CountAnswer(*task, true);
      finish(w.failed() ? 499 : 200,
             w.failed() ? core::Cancelled("client went away") : core::Status::Ok());
      co_return;
    }
    outcome.escalated = true;
    headers.emplace_back("x-switchyard-escalated", "true");
  }

  auto plan = resolver_->Resolve(task != nullptr ? std::string_view(task->cfg.teacher)
                                                 : std::string_view(chat.model));
  if (!plan.ok()) {
    if (task == nullptr) outcome.route = "unknown";
    headers.emplace_back(kCostHeader, "0.0");
    co_await SendError(w, plan.status(), headers);
    finish(404, plan.status());
    co_return;
  }
  if (task == nullptr) outcome.route = plan->route;
  if (owned_only) {
    std::erase_if(plan->targets, [](const Target& t) { return !t.provider->config().owned; });
    auto decided = guard::Decide(guard::PolicyAction::kLocalOnly, findings, !plan->targets.empty());
    if (!decided.ok()) {
      headers.emplace_back(kCostHeader, "0.0");
      co_await SendError(w, decided.status(), headers);
      finish(api::HttpStatusFor(decided.status().code()), decided.status());
      co_return;
    }
  }
  // Limits: reserve the estimate before any upstream call; finish() settles it.
  if (!plan->targets.empty()) {
    auto reserved = ReserveLimits(tenant, chat, req.body.size(), &plan->targets.front());
    if (!reserved.ok()) {
      headers.emplace_back(kCostHeader, "0.0");
      co_await SendError(w, reserved.status(), headers);
      finish(429, reserved.status());
      co_return;
    }
    reservation = std::move(*reserved);
  }

  http::CancelToken& cancel = w.cancel_token();
  WriterSink sink(w);
  std::string streamed;  // task and shadow-sampled requests: the answer's SSE bytes
  if (task != nullptr && chat.stream) sink.capture = &streamed;
  core::Status last_error = core::Unavailable("route \"" + plan->route + "\" has no targets");
  const int64_t created = outcome.start_unix_ms / 1000;

  // Egress audit: one record per call to a provider that is not owned, with
  // the hash of the exact body sent.
  auto audit_egress = [&](const Target& target, std::string_view body, bool sent_redacted) {
    if (guard_.audit == nullptr) return;
    guard::AuditRecord record;
    record.request_id = outcome.id;
    record.tenant = tenant.tenant;
    record.task = outcome.task;
    record.policy = std::string(guard::PolicyActionName(policy));
    record.findings_before = guard::CountByName(findings);
    record.findings_after = sent_redacted ? guard::CountByName(redacted->findings_after)
                                          : record.findings_before;  // sent unchanged
    RecordEgress(loop, std::move(record), target, body, outcome.id);
  };

  // Router and cascade routes (gateway/policies.h) pick the targets here; an
  // accepted cascade answer is sent from here. A cascade whose weak target is
  // not owned is skipped for a request being redacted (its weak call would
  // carry the original text): the plan's targets serve it, redacted.
  std::string policy_answer;
  const RoutePolicy* rp = task == nullptr ? policies_->Find(plan->route) : nullptr;
  if (rp != nullptr && redacted != nullptr && rp->kind == RoutePolicy::Kind::kCascade) {
    const auto weak = std::find_if(plan->targets.begin(), plan->targets.end(),
                                   [&](const Target& t) { return t.label == rp->weak; });
    if (weak != plan->targets.end() && !weak->provider->config().owned) {
      outcome.route_reason = "redact";
      headers.emplace_back("x-switchyard-route-reason", "redact");
      rp = nullptr;
    }
  }
  // Shadow outcomes (gateway/shadow.h): sampled before any call, so a streamed
  // answer is captured; the policy may drop targets from the plan, so both are
  // copied here. Requests with PII findings are never sampled.
  bool shadow = false;
  std::optional<Target> shadow_weak;
  std::optional<Target> shadow_strong;
  std::optional<WeakAnswer> weak_answer;
  if (rp != nullptr && shadow_ != nullptr && rp->shadow_sample > 0 && findings.empty() &&
      redacted == nullptr && !owned_only) {
    shadow = std::uniform_real_distribution<double>(0, 1)(loop.rng) < rp->shadow_sample;
  }
  if (shadow) {
    for (const Target& t : plan->targets) {
      if (t.label == rp->weak) shadow_weak = t;
      if (t.label == rp->strong) shadow_strong = t;
    }
    if (chat.stream) sink.capture = &streamed;
  }
  // The shadow row of this request, with the prompt and the answer it got.
  auto shadow_row = [&](std::string_view answered_by, std::string content, std::string finish) {
    routing::PairedOutcome row;
    row.route = rp->route;
    row.request_id = outcome.id;
    row.prompt = std::string(chat.LastUserText());
    row.subject = std::string(req.Header("x-switchyard-subject"));
    SetShadowAnswer(row, answered_by == rp->weak, answered_by, std::move(content),
                    std::move(finish));
    return row;
  };
  if (rp != nullptr) {
    PolicyCall call;
    call.chat = &chat;
    call.raw_body = req.body;
    call.subject = req.Header("x-switchyard-subject");
    call.client = &loop.client;
    call.cancel = &cancel;
    call.request_id = outcome.id;
    call.created = created;
    call.json = &loop.answers;
    call.answers = &loop.answer_reader;
    call.accounting = accounting_;
    call.log = log_.get();
    call.answer_body = &policy_answer;
    call.count_attempt = [this](std::string_view provider, std::string_view what) {
      metrics_->attempts.WithLabels({provider, what}).Inc();
    };
    call.on_external_call = [&](const Target& target, std::string_view body) {
      audit_egress(target, body, false);
    };
    if (shadow) call.weak_answer = &weak_answer;
    const PolicyStep step = co_await ApplyPolicy(*rp, *policies_, *plan, call, outcome, headers, w);
    if (shadow && step == PolicyStep::kAnswered && !w.failed()) {
      // The cascade accepted its weak answer: the strong target's answer is
      // asked for (when it may be called: StartShadow).
      if (weak_answer && weak_answer->text) {
        routing::PairedOutcome row = shadow_row(weak_answer->label, std::move(weak_answer->content),
                                                std::move(weak_answer->finish_reason));
        row.weak_logprobs = std::move(weak_answer->logprobs);
        StartShadow(loop, *rp, outcome, std::move(row), shadow_strong ? &*shadow_strong : nullptr,
                    chat, req.body, tenant.tenant, guard::PolicyActionName(policy));
      } else {
        shadow_->Count(rp->route, "not_text");
      }
    }
    if (step != PolicyStep::kContinue) {
      const bool ok = step == PolicyStep::kAnswered && !w.failed();
      finish(ok ? 200 : 499, ok ? core::Status::Ok() : core::Cancelled("client went away"));
      co_return;
    }
  }

  for (const Target& target : plan->targets) {
    if (!target.breaker->Allow()) {
      last_error = core::Unavailable("provider '" + target.provider->config().name +
                                     "': circuit open after repeated failures");
      metrics_->attempts.WithLabels({target.provider->config().name, "circuit_open"}).Inc();
      continue;
    }
    const auto& pcfg = target.provider->config();
    for (int retry = 0;; ++retry) {
      ++outcome.attempts;
      outcome.stages_tried.push_back(target.label);
      sink.headers.assign(headers.begin(), headers.end());
      sink.headers.emplace_back("x-switchyard-route", target.label);
      sink.headers.emplace_back("x-switchyard-attempts", std::to_string(outcome.attempts));
      if (chat.stream) {
        // The cost is known only at the end of a stream: it comes as a trailer.
        sink.headers.emplace_back("Trailer", std::string(kCostHeader));
      }

      // redact: an external target gets the redacted request, its answer is
      // restored on the way back; owned targets get the original.
      const bool send_redacted = redacted != nullptr && !pcfg.owned;
      std::optional<RestoringSink> restoring;
      if (send_redacted) restoring.emplace(sink, redacted->map, outcome.id, created);
      providers::CallContext ctx;
      ctx.request = send_redacted ? &redacted->chat : &chat;
      ctx.raw_body = send_redacted ? std::string_view(redacted->body) : std::string_view(req.body);
      ctx.upstream_model = target.model;
      ctx.client = &loop.client;
      ctx.cancel = &cancel;
      ctx.request_id = outcome.id;
      ctx.created = created;
      ctx.json = &loop.answers;
      ctx.answers = &loop.answer_reader;
      auto on_send = [&audit_egress, &target, send_redacted](std::string_view body) {
        audit_egress(target, body, send_redacted);
      };
      if (!pcfg.owned && guard_.audit != nullptr) ctx.on_send = providers::SendHook(on_send);
      providers::StreamSink& call_sink = restoring ? static_cast<providers::StreamSink&>(*restoring)
                                                   : static_cast<providers::StreamSink&>(sink);
      const Clock::time_point attempt_start = Clock::now();
      auto result = co_await target.provider->Chat(ctx, call_sink);
      if (result.ok() && send_redacted) {
        if (result->streamed) {
          co_await restoring->Flush();
        } else {
          result->body = RestoreJsonBody(result->body, redacted->map);
        }
        result->completion_text = guard::Restore(result->completion_text, redacted->map);
      }

      if (result.ok()) {
        target.breaker->RecordSuccess();
        policies_->latency().Record(pcfg.name, MsSince(attempt_start, Clock::now()));
        auto ok = loop.attempts_ok.find(pcfg.name);
        if (ok == loop.attempts_ok.end()) {
          ok =
              loop.attempts_ok.emplace(pcfg.name, &metrics_->attempts.WithLabels({pcfg.name, "ok"}))
                  .first;
        }
        ok->second->Inc();
        outcome.answered_by = target.label;
        outcome.provider = pcfg.name;
        outcome.model = result->model.empty() ? target.model : result->model;
        outcome.usage = result->usage;
        if (!outcome.usage.present && accounting_ != nullptr) {
          accounting_->EstimateUsage(chat, outcome.model, result->completion_text, outcome.usage);
        }
        if (accounting_ != nullptr) {
          outcome.cost_usd +=  // += : a cascade's weak call is already in it
              accounting_->CostUsd(pcfg, outcome.model, outcome.usage, &outcome.priced);
        }
        if (result->streamed) {
          // (GCC 12 miscompiles braced initialisers inside co_await.)
          http::ResponseHeaders trailers;
          trailers.emplace_back(kCostHeader, FormatUsd(outcome.cost_usd));
          co_await w.EndStream(trailers);
        } else {
          sink.headers.emplace_back(kCostHeader, FormatUsd(outcome.cost_usd));
          co_await w.Send(200, kJson, result->body, sink.headers);
          outcome.response_body = result->body;
        }
        if (shadow && !w.failed()) {
          // The other target's answer completes the row: the cascade's weak
          // answer when it escalated, else a shadow call.
          core::ChatResponse answer;
          const bool cut = result->streamed && streamed.size() >= WriterSink::kMaxCapture;
          if (result->streamed) {
            answer.content = StreamedContent(streamed);
            answer.finish_reason = result->finish_reason;
          } else if (auto parsed_answer = ParseCompletion(result->body, &loop.answers);
                     parsed_answer.ok()) {
            answer = std::move(*parsed_answer);
          }
          // A router's or cascade's plan holds only its weak and strong targets.
          const bool weak_side = target.label == rp->weak;
          if (cut) {
            shadow_->Count(rp->route, "too_long");  // the capture stopped: no whole answer
          } else if (answer.content.empty() || !answer.tool_calls.empty() ||
                     (!weak_side && weak_answer && !weak_answer->text)) {
            shadow_->Count(rp->route, "not_text");
          } else {
            routing::PairedOutcome row = shadow_row(target.label, std::move(answer.content),
                                                    std::move(answer.finish_reason));
            const Target* missing = nullptr;
            if (!weak_side && weak_answer) {
              SetShadowAnswer(row, true, weak_answer->label, std::move(weak_answer->content),
                              std::move(weak_answer->finish_reason));
              row.weak_logprobs = std::move(weak_answer->logprobs);
            } else if (weak_side) {
              missing = shadow_strong ? &*shadow_strong : nullptr;
            } else {
              missing = shadow_weak ? &*shadow_weak : nullptr;
            }
            StartShadow(loop, *rp, outcome, std::move(row), missing, chat, req.body, tenant.tenant,
                        guard::PolicyActionName(policy));
          }
        }
        if (task != nullptr) {
          const std::string text = !result->completion_text.empty() ? result->completion_text
                                   : result->streamed               ? StreamedContent(streamed)
                                                      : CompletionContent(result->body);
          tasks_->OnTeacherAnswer(*task, decision, std::move(task_input), text, outcome.id);
          tasks_->CountAnswer(*task, false);
        }
        finish(w.failed() ? 499 : 200,
               w.failed() ? core::Cancelled("client went away") : core::Status::Ok());
        co_return;
      }

      // Upstream error texts may echo the request or a key: masked.
      const core::Status err = MaskStatus(result.status(), guard_.scanner);
      last_error = err;
      if (err.code() == core::StatusCode::kCancelled || cancel.cancelled()) {
        target.breaker->RecordAbandoned();
        metrics_->attempts.WithLabels({pcfg.name, "cancelled"}).Inc();
        outcome.provider = pcfg.name;
        finish(499, core::Cancelled("client went away"));
        co_return;
      }
      // Upstream health: 4xx answers say nothing bad about the upstream.
      if (err.code() == core::StatusCode::kInvalidArgument) {
        target.breaker->RecordSuccess();
      } else {
        target.breaker->RecordFailure();
      }
      metrics_->attempts.WithLabels({pcfg.name, "error"}).Inc();
      // The record names the last attempt's provider and model even when
      // every attempt fails.
      outcome.provider = pcfg.name;
      outcome.model = target.model;
      log_->warn("request {} attempt {} on {} failed: {}", outcome.id, outcome.attempts,
                 target.label, err.message());

      if (sink.started()) {
        // Bytes already reached the client: no retry, no fallback. End the
        // stream with an error event so the client knows it was cut short.
        std::string frame = "data: ";
        frame += api::OpenAiErrorBody(err);
        frame += "\n\n";
        co_await w.WriteChunk(frame, http::StreamFlush::kWithNext);
        co_await w.EndStream();
        outcome.provider = pcfg.name;
        outcome.answered_by = target.label;
        finish(api::HttpStatusFor(err.code()), err);
        co_return;
      }
      if (!providers::IsRetryable(err) || retry >= pcfg.max_retries) break;
      std::chrono::milliseconds delay = Backoff(loop, pcfg, retry);
      if (err.retry_after()) {
        if (err.retry_after()->count() > pcfg.max_retry_after_ms) break;  // fall back instead
        delay = *err.retry_after();
      }
      if (!co_await Sleep(loop, delay, cancel)) {
        finish(499, core::Cancelled("client went away"));
        co_return;
      }
      if (!target.breaker->Allow()) break;
    }
  }

  headers.emplace_back("x-switchyard-attempts", std::to_string(outcome.attempts));
  headers.emplace_back(kCostHeader, "0.0");
  if (!outcome.stages_tried.empty()) {
    headers.emplace_back("x-switchyard-route", outcome.stages_tried.back());
  }
  co_await SendError(w, last_error, headers);
  finish(api::HttpStatusFor(last_error.code()), last_error);
}

// ------------------------------------------------------------ shadow outcomes

struct Gateway::ShadowJob {
  routing::PairedOutcome row;
  Target target;            // the call to make
  bool fills_weak = false;  // its answer is the weak side of the row
  bool logprobs = false;    // token logprobs were asked for
  WeakRequest request;      // the body sent (non-streamed) and its parse
  std::string tenant;       // for the egress audit
  std::string policy;
  std::shared_ptr<ShadowFlight> flight;
};

void Gateway::RecordEgress(LoopState& loop, guard::AuditRecord record, const Target& target,
                           std::string_view body, std::string_view request_id) {
  record.ts_ms = clock_.UnixMillis();
  record.provider = target.provider->config().name;
  record.model = target.model;
  record.payload_sha256 = loop.sha256.Hex(body);
  record.payload_bytes = static_cast<int64_t>(body.size());
  if (auto s = guard_.audit->Record(std::move(record)); !s.ok()) {
    log_->warn("request {}: egress audit: {}", request_id, s.message());
  }
}

void Gateway::KeepShadowRow(routing::PairedOutcome row) {
  // An answer the store would cut may have lost its final line: not judged.
  if (row.weak_response.size() > routing::kMaxOutcomeTextBytes ||
      row.strong_response.size() > routing::kMaxOutcomeTextBytes) {
    shadow_->Count(row.route, "too_long");
    return;
  }
  if (guard_.scanner != nullptr) {
    const std::vector<std::string_view> texts = {row.weak_response, row.strong_response,
                                                 row.subject};
    auto found = guard_.scanner->ScanTexts(texts);
    if (!found.ok() || !found->empty()) {
      shadow_->Count(row.route, "pii");
      return;
    }
  }
  shadow_->Add(std::move(row));
}

void Gateway::StartShadow(LoopState& loop, const RoutePolicy& rp, const Outcome& outcome,
                          routing::PairedOutcome row, const Target* missing,
                          const core::ChatRequest& chat, std::string_view raw_body,
                          std::string_view tenant, std::string_view policy) {
  const bool complete = !row.weak_target.empty() && !row.strong_target.empty();
  if (complete) {
    KeepShadowRow(std::move(row));
    return;
  }
  // Client traffic comes first: no shadow call to a target that failed on
  // this request's path, whose circuit is not closed, or that the latency SLO
  // is steering requests away from.
  if (missing == nullptr ||
      (missing->label == rp.strong && StrongOverSlo(rp, policies_->latency())) ||
      std::find(outcome.stages_tried.begin(), outcome.stages_tried.end(), missing->label) !=
          outcome.stages_tried.end() ||
      missing->breaker->state() != providers::CircuitBreaker::State::kClosed) {
    shadow_->Count(row.route, "unavailable");
    return;
  }
  auto job = std::make_unique<ShadowJob>();
  job->fills_weak = row.weak_target.empty();
  const auto& pcfg = missing->provider->config();
  // Logprobs only where every row of the route has them: a cascade's weak
  // answers always come with them, a router's weak answers to clients never.
  const bool logprobs = job->fills_weak && rp.kind == RoutePolicy::Kind::kCascade && pcfg.owned &&
                        pcfg.kind == "openai";
  job->logprobs = logprobs;
  auto request = MakeWeakRequest(raw_body, chat, logprobs);
  if (!request.ok()) {
    shadow_->Count(row.route, "failed");
    return;
  }
  job->flight = std::make_shared<ShadowFlight>(loop.ctx.get_executor());
  if (!shadow_->TryBegin(row.route, job->flight)) return;
  job->row = std::move(row);
  job->target = *missing;
  job->request = std::move(*request);
  job->tenant = std::string(tenant);
  job->policy = std::string(policy);
  http::asio::co_spawn(loop.ctx, ShadowCall(loop, std::move(job)), http::asio::detached);
}

http::awaitable<void> Gateway::ShadowCall(LoopState& loop, std::unique_ptr<ShadowJob> job) {
  ShadowRecorder& shadow = *shadow_;
  struct Ender {
    ShadowRecorder& shadow;
    std::shared_ptr<ShadowFlight> flight;
    ~Ender() { shadow.End(flight); }
  } ender{shadow, job->flight};
  routing::PairedOutcome& row = job->row;
  const Target& target = job->target;
  const auto& pcfg = target.provider->config();
  providers::CallContext ctx;
  ctx.request = &job->request.request;
  ctx.raw_body = job->request.body;
  ctx.upstream_model = target.model;
  ctx.client = &loop.client;
  ctx.cancel = &job->flight->cancel;
  ctx.request_id = row.request_id;
  ctx.created = clock_.UnixMillis() / 1000;
  ctx.json = &loop.answers;
  ctx.answers = &loop.answer_reader;
  auto on_send = [this, &loop, &job](std::string_view body) {
    guard::AuditRecord record;  // a sampled request has no PII findings
    record.request_id = job->row.request_id;
    record.tenant = job->tenant;
    record.policy = job->policy;
    RecordEgress(loop, std::move(record), job->target, body, job->row.request_id);
  };
  if (!pcfg.owned && guard_.audit != nullptr) ctx.on_send = providers::SendHook(on_send);
  // The call leaves the circuit breaker and the latency tracker alone: they
  // steer client traffic, and a shadow call never takes a half-open probe.
  NoStreamSink sink;
  auto result = co_await target.provider->Chat(ctx, sink);
  if (!result.ok()) {
    const core::Status err = MaskStatus(result.status(), guard_.scanner);
    if (err.code() == core::StatusCode::kCancelled || job->flight->cancel.cancelled()) {
      metrics_->attempts.WithLabels({pcfg.name, "cancelled"}).Inc();
      shadow.Count(row.route, "cancelled");
      co_return;
    }
    metrics_->attempts.WithLabels({pcfg.name, "error"}).Inc();
    shadow.Count(row.route, "failed");
    log_->warn("request {}: shadow call to {} failed: {}", row.request_id, target.label,
               err.message());
    co_return;
  }
  metrics_->attempts.WithLabels({pcfg.name, "ok"}).Inc();
  auto answer = ParseCompletion(result->body, &loop.answers);
  double cost = 0;
  if (accounting_ != nullptr) {
    const std::string model = result->model.empty() ? target.model : result->model;
    core::Usage usage = result->usage;
    if (!usage.present) {
      accounting_->EstimateUsage(job->request.request, model,
                                 answer.ok() ? std::string_view(answer->content)
                                             : std::string_view(result->completion_text),
                                 usage);
    }
    bool priced = false;
    cost = accounting_->CostUsd(pcfg, model, usage, &priced);
  }
  shadow.AddCost(row.route, cost);  // spent whether or not the answer is kept
  if (!answer.ok() || answer->content.empty() || !answer->tool_calls.empty()) {
    shadow.Count(row.route, "not_text");
    co_return;
  }
  row.shadow_target = target.label;
  row.shadow_cost_usd = cost;
  SetShadowAnswer(row, job->fills_weak, target.label, std::move(answer->content),
                  std::move(answer->finish_reason));
  if (job->logprobs) {
    if (auto lp = ParseAnswerLogprobs(result->body, &loop.answers); lp.ok()) {
      row.weak_logprobs = std::move(*lp);
    }
  }
  KeepShadowRow(std::move(row));
}

}  // namespace switchyard::gateway
