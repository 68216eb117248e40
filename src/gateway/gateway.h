// Gateway: the request pipeline behind the HTTP server.
//
//   parse (OpenAI schema) → resolve model to a plan → for each target:
//   breaker check → attempt (retries with backoff while nothing reached the
//   client) → respond (JSON or SSE, decision headers) → metrics and record.
//
// Threading: Handle() runs on the event loop of its connection and only
// touches that loop's LoopState; shared parts (resolver, breakers, metrics)
// are immutable or thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "api/openai_parse.h"
#include "config/config.h"
#include "core/clock.h"
#include "gateway/accounting.h"
#include "gateway/resolver.h"
#include "gateway/shadow.h"
#include "gateway/tasks.h"
#include "guard/audit.h"
#include "guard/keys.h"
#include "guard/limits.h"
#include "guard/pii.h"
#include "guard/policy.h"
#include "http/client.h"
#include "http/event_loops.h"
#include "http/server.h"
#include "observe/metrics.h"

namespace switchyard::gateway {

// What happened to one request, handed to the recorder (the ledger) when the
// response is complete. Plain data.
struct Outcome {
  std::string id;
  int64_t start_unix_ms = 0;
  std::string route;                      // what the client asked for (model field)
  std::vector<std::string> stages_tried;  // target labels, in order, with repeats for retries
  std::string answered_by;                // target label that answered ("" if none)
  std::string provider;
  std::string model;
  bool stream = false;
  int attempts = 0;
  core::Usage usage;
  double cost_usd = 0;
  bool priced = false;  // a price was known for the model that answered
  int status = 0;
  std::string error_code;  // "" when ok; else e.g. "upstream_error", "model_not_found"
  double first_byte_ms = 0;
  double total_ms = 0;
  const core::ChatRequest* request = nullptr;  // valid only during the callback
  std::string_view request_body;               // valid only during the callback
  std::string_view response_body;              // non-streamed answers; valid during callback
  // Task requests (gateway/tasks.h): the task, whether the teacher answered,
  // and the student's calibrated confidence when the task has a student.
  std::string task;
  bool escalated = false;
  std::optional<double> confidence;
  // Guard: the authenticated tenant ("" with auth off) and the PII findings
  // summary ({"email":1}; "" when nothing was scanned).
  std::string tenant;
  std::string pii_findings;
  // Router and cascade routes (gateway/policies.h): why the policy's choice
  // was forced ("" when the score decided; else latency_slo, local_only,
  // weak_failed, weak_unavailable or score_error).
  std::string route_reason;
};
// Called once per request, as its last step: the recorder may move the
// outcome's strings away (the gateway does not read them afterwards).
using OutcomeRecorder = std::function<void(Outcome&)>;

// The guard on the request path (src/guard), set by the composition root.
// Every member is optional; the pointees must outlive the gateway and are
// thread-safe (see their headers).
struct GuardHooks {
  // Non-null: chat requests need "Authorization: Bearer KEY" (401 otherwise)
  // and /admin/* needs "Bearer <admin_key>" (401 otherwise; always 401 when
  // admin_key is empty).
  const guard::KeyStore* keys = nullptr;
  std::string admin_key;
  // Per-tenant rpm/tpm/budget (needs keys): 429 with Retry-After when over.
  // Every chat request counts, student-answered task requests included.
  guard::LimitStore* limits = nullptr;
  int64_t default_max_tokens = 1024;  // token estimate when a request sets no max_tokens
  // Non-null: message texts are scanned and `policies` applied per tenant/task.
  // redact: external targets get placeholders, answers are restored
  // (gateway/redaction.h); owned targets get the original.
  const guard::PiiScanner* scanner = nullptr;
  guard::PolicyTable policies;
  // Non-null: one egress record per call to an external (not owned) provider.
  guard::AuditStore* audit = nullptr;
};

struct GatewayOptions {
  uint64_t seed = 0;  // 0: seeded from std::random_device (jitter, ids)
  // latency_slo_ms routes: the strong provider's p95 is taken over calls of
  // the last `latency_window_ms`, once there are `latency_min_samples`.
  int latency_window_ms = 60'000;
  size_t latency_min_samples = 3;
};

class PolicyTable;  // gateway/policies.h
struct RoutePolicy;

class Gateway {
 public:
  // Builds providers from the config. Errors: InvalidArgument for a provider
  // that cannot be built.
  static core::Result<std::unique_ptr<Gateway>> Create(
      const std::shared_ptr<const config::Config>& config, http::EventLoops& loops,
      http::asio::ssl::context& tls, observe::Registry& metrics, const core::Clock& clock,
      std::shared_ptr<spdlog::logger> log, GatewayOptions options = {});
  ~Gateway();

  // The HTTP handler.
  http::awaitable<void> Handle(http::ServerRequest& req, http::ResponseWriter& w);
  // Bodies of errors the server produces itself.
  http::ErrorBody ServerErrorBody(int status, std::string_view message) const;

  void set_recorder(OutcomeRecorder r) { recorder_ = std::move(r); }
  // Prices answers and estimates missing usage; without it costs are 0.
  void set_accounting(const Accounting* a) { accounting_ = a; }
  // Serves every path under /admin/ (the composition root's admin API).
  void set_admin_handler(http::Handler h) { admin_ = std::move(h); }
  // Lets /healthz answer 503 while draining.
  void set_server(const http::Server* server) { server_ = server; }
  // Students on the request path (requests to "task:NAME"); without it every
  // task request is 404 task_not_found.
  void set_tasks(TaskRuntime* tasks) { tasks_ = tasks; }
  // Authentication, limits, PII policy and egress audit (see GuardHooks).
  void set_guard(GuardHooks guard) { guard_ = std::move(guard); }
  // Shadow outcomes of router and cascade routes with shadow_sample > 0
  // (gateway/shadow.h); without it no route is sampled.
  void set_shadow(ShadowRecorder* shadow) { shadow_ = shadow; }

  const Resolver& resolver() const { return *resolver_; }
  const std::vector<ProviderSlot>& providers() const { return slots_; }

 private:
  struct LoopState;
  struct Metrics;
  struct ShadowJob;

  Gateway(std::shared_ptr<const config::Config> config, observe::Registry& metrics,
          const core::Clock& clock, std::shared_ptr<spdlog::logger> log);

  http::awaitable<void> HandleChat(http::ServerRequest& req, http::ResponseWriter& w,
                                   LoopState& loop);
  http::awaitable<void> SendError(http::ResponseWriter& w, const core::Status& s,
                                  const http::ResponseHeaders& extra = {});
  http::awaitable<bool> Sleep(LoopState& loop, std::chrono::milliseconds d,
                              http::CancelToken& cancel);
  // Reserves `tenant`'s limits for one request (rpm, estimated tokens and
  // cost on `first`; a student answer costing `local_cost_usd` when `first`
  // is null). nullopt when limits are off. Errors: those of
  // guard::LimitStore::Reserve (429).
  core::Result<std::optional<guard::Reservation>> ReserveLimits(const guard::TenantInfo& tenant,
                                                                const core::ChatRequest& chat,
                                                                size_t body_bytes,
                                                                const Target* first,
                                                                double local_cost_usd = 0) const;
  std::chrono::milliseconds Backoff(LoopState& loop, const config::ProviderConfig& cfg,
                                    int retry) const;
  // Shadow outcomes: `row` holds the answer(s) the request got; `missing` is
  // the target whose answer it lacks (null when none can be called). Queues a
  // complete row, or starts the shadow call on `loop` when the target may be
  // called and the recorder has room.
  void StartShadow(LoopState& loop, const RoutePolicy& rp, const Outcome& outcome,
                   routing::PairedOutcome row, const Target* missing, const core::ChatRequest& chat,
                   std::string_view raw_body, std::string_view tenant, std::string_view policy);
  // Queues a complete row unless an answer is longer than the store keeps
  // ("too_long") or the PII scanner finds something in the answers or the
  // subject ("pii").
  void KeepShadowRow(routing::PairedOutcome row);
  // One egress audit record for a call to `target` carrying `body`; `record`
  // holds the request's fields (id, tenant, task, policy, findings).
  void RecordEgress(LoopState& loop, guard::AuditRecord record, const Target& target,
                    std::string_view body, std::string_view request_id);
  http::awaitable<void> ShadowCall(LoopState& loop, std::unique_ptr<ShadowJob> job);

  std::shared_ptr<const config::Config> config_;
  observe::Registry& registry_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<ProviderSlot> slots_;
  std::unique_ptr<Resolver> resolver_;
  std::vector<std::unique_ptr<LoopState>> loops_;
  std::unique_ptr<Metrics> metrics_;
  std::string models_json_;
  OutcomeRecorder recorder_;
  const Accounting* accounting_ = nullptr;
  http::Handler admin_;
  const http::Server* server_ = nullptr;
  TaskRuntime* tasks_ = nullptr;
  GuardHooks guard_;
  std::unique_ptr<PolicyTable> policies_;  // router and cascade routes
  ShadowRecorder* shadow_ = nullptr;
};

}  // namespace switchyard::gateway
