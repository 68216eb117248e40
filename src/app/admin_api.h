// AdminApi: the operator's JSON endpoints under /admin/, served by the gateway
// (and read by the dashboard at GET /). docs/API.md documents every field.
//
//   GET /admin/summary                         spend today / this month / all time, the
//                                              all-frontier counterfactual, the saving,
//                                              requests, frontier share
//   GET /admin/timeseries?bucket=minute&since=60m   requests, frontier share and spend per
//                                              bucket, by route and by task
//   GET /admin/tasks?since=30d                 per task: student, coverage, live agreement,
//                                              escalation rate, label mix, the advisor's
//                                              recommendation and reasons
//   GET /admin/crossover?since=30d             monthly cost vs daily volume (the advisor's
//                                              overall crossover and its chart)
//   GET /admin/latency?since=24h               p50/p95/p99 by route, local vs API
//   GET /admin/providers?since=1h              circuit state and error rate per provider
//   GET /admin/ledger/stats?since=24h&by=model same figures as `switchyard ledger stats --json`
//   GET /admin/ledger/tail?n=20                the latest records, payloads where kept
//
// Ownership: owns a copy of the price book and the options; the callbacks'
// targets (TaskRuntime, gateway) must outlive it.
// Threading: database reads run on a small thread pool of their own, never on
// an event loop; the answer is written back from the request's loop. Get()
// may be called from any thread; the callbacks are called from the pool.
// Errors: every error is an OpenAI-style error body with its HTTP status
// (bad parameter 400 with the messages in admin_api.cc, missing ledger 404,
// unknown path 404, wrong method 405).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "economics/advisor.h"
#include "economics/price_book.h"
#include "http/asio.h"
#include "http/server.h"
#include "learn/live.h"

namespace switchyard::app {

// A task's student as the running gateway sees it (TaskRuntime).
struct TaskLive {
  std::string task;
  bool has_student = false;
  int64_t version = 0;
  bool serving = false;
  std::optional<learn::LiveStats> live;  // the current version's live comparisons
};

// One configured provider and its circuit breaker.
struct ProviderHealth {
  std::string name;
  std::string kind;
  bool owned = false;
  std::string circuit;  // "closed" | "open" | "half_open"
};

struct AdminApiOptions {
  std::string ledger_path;
  economics::PriceBook book;  // for the advisor (tasks, crossover, summary)
  economics::AdvisorAssumptions assumptions;
  std::vector<std::string> local_providers;                // owned providers
  std::map<std::string, std::string> task_kinds;           // configured tasks: name -> kind
  const core::Clock* clock = nullptr;                      // null: the system clock
  std::function<std::vector<TaskLive>()> live_tasks;       // optional
  std::function<std::vector<ProviderHealth>()> providers;  // optional
};

class AdminApi {
 public:
  struct Answer {
    int status = 200;
    std::string body;  // JSON
  };

  explicit AdminApi(AdminApiOptions options);
  explicit AdminApi(std::string ledger_path);
  ~AdminApi();

  // Handles a request whose path starts with /admin/.
  http::awaitable<void> Handle(http::ServerRequest& req, http::ResponseWriter& w);

  // The answer to GET `target` (path and query), computed on the calling
  // thread: what Handle() runs on its pool.
  Answer Get(std::string_view target) const;

 private:
  AdminApiOptions options_;
  core::SystemClock system_clock_;
  const core::Clock& clock_;
  http::asio::thread_pool pool_{1};
};

}  // namespace switchyard::app
