// `switchyard serve`: the composition root of the gateway process.
//
// Builds every component from the validated config, wires them together, runs
// the event loops, and on SIGTERM/SIGINT stops accepting, lets in-flight
// requests finish up to server.shutdown_grace_ms, then exits 0.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "app/accounting.h"
#include "app/admin_api.h"
#include "app/advise_cmd.h"
#include "app/commands.h"
#include "app/dashboard.h"
#include "app/recording.h"
#include "app/usage_metrics.h"
#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/tasks.h"
#include "guard/audit.h"
#include "guard/keys.h"
#include "guard/limits.h"
#include "guard/pii.h"
#include "guard/policy.h"
#include "http/client.h"
#include "http/event_loops.h"
#include "http/server.h"
#include "http/url.h"
#include "ledger/sqlite_store.h"
#include "ledger/writer.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace switchyard::app {
namespace {

void PrintBanner(const config::Config& cfg, uint16_t port, size_t threads) {
  std::printf("switchyard is listening on http://%s:%u (%zu event-loop threads)\n",
              cfg.server.host.c_str(), port, threads);
  std::printf("config: %s\n", cfg.source.c_str());
  if (cfg.providers.empty()) {
    std::printf(
        "\nNo providers are configured yet, so chat requests will get 404.\n"
        "  - set OPENAI_API_KEY and/or ANTHROPIC_API_KEY, or\n"
        "  - set SWITCHYARD_LOCAL_URL=http://127.0.0.1:8000/v1 (vLLM, llama.cpp, Ollama)\n"
        "    and SWITCHYARD_LOCAL_MODELS=<model>, or\n"
        "  - pass --config FILE (see docs/CONFIG.md), then restart.\n");
  } else {
    std::printf("\nActive providers:\n");
    for (const auto& p : cfg.providers) {
      std::printf("  - %-10s %s at %s%s%s\n", p.name.c_str(), p.kind.c_str(), p.base_url.c_str(),
                  p.owned ? " (owned)" : "",
                  (!p.api_key_env.empty() && p.api_key.empty())
                      ? (" — warning: " + p.api_key_env + " is not set").c_str()
                      : "");
    }
    for (const auto& r : cfg.routes) {
      if (r.policy != "fallback") {
        std::printf("Route \"%s\" (%s): weak %s, strong %s\n", r.name.c_str(), r.policy.c_str(),
                    r.weak.c_str(), r.strong.c_str());
        continue;
      }
      std::printf("Route \"%s\" tries, in order:", r.name.c_str());
      for (const auto& t : r.targets) std::printf(" %s", t.c_str());
      std::printf("\n");
    }
    std::string model =
        !cfg.routes.empty() ? cfg.routes.front().name
        : !cfg.providers.front().models.empty()
            ? cfg.providers.front().name + "/" + cfg.providers.front().models.front()
            : cfg.providers.front().name + "/<model>";
    std::printf(
        "\nSend a first request:\n"
        "  curl -s http://%s:%u/v1/chat/completions -H 'content-type: application/json' \\\n"
        "    -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Say "
        "hello\"}]}'\n",
        cfg.server.host.c_str(), port, model.c_str());
  }
  std::printf("Health: http://%s:%u/healthz   Metrics: http://%s:%u/metrics\n",
              cfg.server.host.c_str(), port, cfg.server.host.c_str(), port);
  std::printf("Stop with Ctrl-C (in-flight requests finish first).\n");
  std::fflush(stdout);
}

void RegisterLedgerMetrics(observe::Registry& metrics, ledger::AsyncWriter& writer) {
  metrics.AddCallbackGauge("switchyard_ledger_queue_depth", "Ledger records waiting for the writer",
                           [&writer] { return static_cast<double>(writer.Stats().queue_depth); });
  metrics.AddCallbackCounter("switchyard_ledger_records_queued_total",
                             "Ledger records accepted into the queue",
                             [&writer] { return static_cast<double>(writer.Stats().queued); });
  metrics.AddCallbackCounter("switchyard_ledger_records_written_total",
                             "Ledger records committed to the database",
                             [&writer] { return static_cast<double>(writer.Stats().written); });
  metrics.AddCallbackCounter(
      "switchyard_ledger_records_spilled_total",
      "Ledger records appended to the spill file (queue full or store failing)",
      [&writer] { return static_cast<double>(writer.Stats().spilled); });
  metrics.AddCallbackCounter("switchyard_ledger_records_replayed_total",
                             "Spilled ledger records later committed to the database",
                             [&writer] { return static_cast<double>(writer.Stats().replayed); });
  metrics.AddCallbackCounter(
      "switchyard_ledger_write_errors_total", "Failed ledger transactions (retried, then spilled)",
      [&writer] { return static_cast<double>(writer.Stats().write_errors); });
  metrics.AddCallbackGauge("switchyard_ledger_last_batch_seconds",
                           "Duration of the last committed ledger transaction",
                           [&writer] { return writer.Stats().last_batch_ms / 1000.0; });
}

void RegisterAuditMetrics(observe::Registry& metrics, guard::AuditStore& audit) {
  metrics.AddCallbackGauge("switchyard_audit_queue_depth",
                           "Egress audit records waiting for the writer",
                           [&audit] { return static_cast<double>(audit.Stats().queue_depth); });
  metrics.AddCallbackCounter(
      "switchyard_audit_records_spilled_total",
      "Egress audit records appended to the spill file (queue full or database refusing)",
      [&audit] { return static_cast<double>(audit.Stats().spilled); });
  metrics.AddCallbackCounter("switchyard_audit_records_replayed_total",
                             "Spilled egress audit records later written to the database",
                             [&audit] { return static_cast<double>(audit.Stats().replayed); });
  metrics.AddCallbackCounter(
      "switchyard_audit_records_rejected_total",
      "Spilled egress audit lines that could not be parsed back (kept in .rejected)",
      [&audit] { return static_cast<double>(audit.Stats().rejected); });
}

// The system CA store only when some provider is https: parsing the whole CA
// bundle costs start-up time and RSS that a gateway of plain-http upstreams
// never uses (its TLS context then trusts nothing: TLS fails closed).
http::UpstreamClient::TrustStore TrustStoreFor(const config::Config& cfg) {
  for (const auto& p : cfg.providers) {
    auto url = http::Url::Parse(p.base_url);
    if (!url.ok() || url->origin.tls) return http::UpstreamClient::TrustStore::kSystem;
  }
  return http::UpstreamClient::TrustStore::kNone;
}

// The admin API's view of the running process: the advisor's inputs from the
// config, the students' live agreement and the providers' circuits.
AdminApiOptions MakeAdminOptions(const config::Config& cfg, const gateway::Gateway& gw,
                                 gateway::TaskRuntime* tasks,
                                 const std::shared_ptr<spdlog::logger>& log) {
  AdminApiOptions o;
  o.ledger_path = cfg.LedgerPath();
  if (auto book = AdvisorPriceBook(cfg); book.ok()) {
    o.book = std::move(*book);
  } else {
    log->warn("admin: no price book for the advisor: {}", book.status().message());
  }
  o.local_providers = OwnedProviders(cfg);
  for (const auto& t : cfg.tasks) o.task_kinds[t.name] = t.kind;
  if (tasks != nullptr) {
    o.live_tasks = [tasks, names = o.task_kinds] {
      std::vector<TaskLive> out;
      const auto snapshot = tasks->live().Snapshot();
      for (const auto& [name, kind] : names) {
        TaskLive t;
        t.task = name;
        if (auto student = tasks->students().Get(name)) {
          t.has_student = true;
          t.version = student->version();
          t.serving = student->serving();
          for (const auto& [key, stats] : snapshot) {
            if (key.first == name && key.second == t.version) t.live = stats;
          }
        }
        out.push_back(std::move(t));
      }
      return out;
    };
  }
  o.providers = [&gw] {
    std::vector<ProviderHealth> out;
    for (const auto& slot : gw.providers()) {
      const auto& pc = slot.provider->config();
      out.push_back({pc.name, pc.kind, pc.owned,
                     slot.breaker != nullptr
                         ? std::string(providers::CircuitBreaker::StateName(slot.breaker->state()))
                         : std::string("none")});
    }
    return out;
  };
  return o;
}

}  // namespace

int RunServe(const ServeOptions& options) {
  const config::EnvLookup env = config::ProcessEnv();
  auto loaded = config::LoadConfigOrDefaults(options.config_path, env);
  if (!loaded.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s\n", loaded.status().message().c_str());
    return 2;
  }
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded));

  if (auto s = observe::ConfigureLogging(cfg->log.level, cfg->log.format); !s.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s\n", s.message().c_str());
    return 2;
  }
  auto log = observe::MakeLogger("switchyard");

  std::error_code fs_ec;
  std::filesystem::create_directories(cfg->data_dir, fs_ec);
  if (fs_ec) {
    std::fprintf(stderr, "switchyard: cannot create data directory %s: %s\n", cfg->data_dir.c_str(),
                 fs_ec.message().c_str());
    return 1;
  }

  // Block the termination signals in every thread; the main thread waits for
  // them with sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const size_t threads = cfg->server.threads > 0
                             ? static_cast<size_t>(cfg->server.threads)
                             : std::max<size_t>(1, std::thread::hardware_concurrency());
  // Declared before the loops, so it outlives them: a shadow call that did not
  // end by the shutdown deadline is destroyed with its loop and signs off here.
  std::unique_ptr<gateway::ShadowRecorder> shadow;
  http::EventLoops loops(static_cast<int>(threads));
  auto tls = http::UpstreamClient::MakeTlsContext(TrustStoreFor(*cfg));
  if (!tls.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", tls.status().message().c_str());
    return 1;
  }
  observe::Registry metrics;
  core::SystemClock clock;
  auto accounting = PriceAccounting::Create(*cfg);
  if (!accounting.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s: %s\n", cfg->source.c_str(),
                 accounting.status().message().c_str());
    return 2;
  }
  auto gateway = gateway::Gateway::Create(cfg, loops, **tls, metrics, clock, log);
  if (!gateway.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s: %s\n", cfg->source.c_str(),
                 gateway.status().message().c_str());
    return 2;
  }
  gateway::Gateway* gw = gateway->get();
  gw->set_accounting(accounting->get());

  // The ledger: a bad or locked database file stops the start here, with the
  // file named, before anything listens.
  std::unique_ptr<ledger::AsyncWriter> writer;
  if (cfg->ledger.enabled) {
    auto store = ledger::SqliteStore::Open(cfg->LedgerPath());
    if (!store.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", store.status().message().c_str());
      return 1;
    }
    ledger::WriterOptions wo;
    wo.data_dir = std::filesystem::path(cfg->LedgerPath()).parent_path().string();
    if (wo.data_dir.empty()) wo.data_dir = ".";
    wo.queue_capacity = cfg->ledger.queue_capacity;
    wo.max_batch = static_cast<size_t>(cfg->ledger.batch_size);
    wo.max_delay = std::chrono::milliseconds(cfg->ledger.flush_interval_ms);
    auto started = ledger::AsyncWriter::Start(std::move(*store), wo);
    if (!started.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", started.status().message().c_str());
      return 1;
    }
    writer = std::move(*started);
    RegisterLedgerMetrics(metrics, *writer);
  }
  // Tasks: students on the request path; their registry and labels live in
  // the ledger's database file (own connections), model files beside it.
  std::unique_ptr<gateway::TaskRuntime> tasks;
  if (!cfg->tasks.empty()) {
    auto created = gateway::TaskRuntime::Create(*cfg, clock, metrics, log);
    if (!created.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", created.status().message().c_str());
      return 1;
    }
    tasks = std::move(*created);
    gw->set_tasks(tasks.get());
  }
  // Shadow outcomes of router and cascade routes (gateway/shadow.h), kept in
  // the ledger's database file (own connection and table).
  if (std::any_of(cfg->routes.begin(), cfg->routes.end(),
                  [](const config::RouteConfig& r) { return r.shadow_sample > 0; })) {
    auto created = gateway::ShadowRecorder::Create(cfg->LedgerPath(), clock, metrics, log);
    if (!created.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", created.status().message().c_str());
      return 1;
    }
    shadow = std::move(*created);
    gw->set_shadow(shadow.get());
  }
  // The guard: keys and limits (auth = "keys"), the PII scanner (compiled
  // once) with the policies, and the egress audit beside the ledger.
  std::unique_ptr<guard::KeyStore> keys;
  std::unique_ptr<guard::LimitStore> limits;
  std::unique_ptr<guard::PiiScanner> scanner;
  std::unique_ptr<guard::AuditStore> audit;
  {
    gateway::GuardHooks hooks;
    if (cfg->guard.auth == "keys") {
      auto opened = guard::KeyStore::Open(cfg->KeysDbPath(), {}, clock);
      if (!opened.ok()) {
        std::fprintf(stderr, "switchyard: %s\n", opened.status().message().c_str());
        return 1;
      }
      keys = std::move(*opened);
      limits = std::make_unique<guard::InProcessLimitStore>(clock);
      hooks.keys = keys.get();
      hooks.admin_key = cfg->guard.admin_key;
      hooks.limits = limits.get();
      if (hooks.admin_key.empty()) {
        log->warn("guard: no admin key (guard.admin_key_env unset): /admin/* answers 401");
      }
    } else {
      log->warn("guard: auth is off; anyone who can reach {}:{} may use every provider",
                cfg->server.host, cfg->server.port);
    }
    std::vector<guard::PolicyRule> rules;
    for (const auto& t : cfg->tasks) {
      if (t.pii_policy.empty()) continue;
      auto action = guard::ParsePolicyAction(t.pii_policy);
      if (action.ok()) rules.push_back({"", t.name, *action});
    }
    auto default_action = guard::ParsePolicyAction(cfg->guard.pii_policy);
    auto table = guard::PolicyTable::Create(
        default_action.ok() ? *default_action : guard::PolicyAction::kAllow, std::move(rules));
    if (!table.ok()) {
      std::fprintf(stderr, "switchyard: config error: %s\n", table.status().message().c_str());
      return 2;
    }
    hooks.policies = std::move(*table);
    auto created = guard::PiiScanner::Create();
    if (!created.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", created.status().message().c_str());
      return 1;
    }
    scanner = std::move(*created);
    hooks.scanner = scanner.get();
    guard::AuditStoreOptions ao;
    ao.background = true;
    ao.adopt_from = cfg->LedgerPath();  // where the audit was kept up to schema 6
    auto audit_opened = guard::AuditStore::Open(cfg->AuditDbPath(), ao);
    if (!audit_opened.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", audit_opened.status().message().c_str());
      return 1;
    }
    audit = std::move(*audit_opened);
    RegisterAuditMetrics(metrics, *audit);
    hooks.audit = audit.get();
    gw->set_guard(std::move(hooks));
  }
  AdminApi admin(MakeAdminOptions(*cfg, *gw, tasks.get(), log));
  gw->set_admin_handler(
      [&admin](http::ServerRequest& req, http::ResponseWriter& w) { return admin.Handle(req, w); });
  UsageMetrics usage_metrics(metrics);
  ledger::TemplateHashCache template_hashes;
  gw->set_recorder([&usage_metrics, &template_hashes, w = writer.get(),
                    &lcfg = cfg->ledger](gateway::Outcome& o) {
    usage_metrics.Add(o);
    if (w != nullptr) {
      // The costly part (template hash, kept bodies) outside the writer's
      // lock; the record is then built from moves in its queue slot.
      RecordWork work = PrepareRecord(o, lcfg, &template_hashes);
      w->Emplace([&] { return ToRecord(std::move(o), std::move(work)); });
    }
  });

  http::ServerOptions so;
  so.host = cfg->server.host;
  so.port = cfg->server.port;
  so.max_body_bytes = cfg->server.max_body_bytes;
  so.max_header_bytes = cfg->server.max_header_bytes;
  so.idle_timeout = std::chrono::milliseconds(cfg->server.idle_timeout_ms);
  so.header_timeout = std::chrono::milliseconds(cfg->server.header_timeout_ms);
  so.body_timeout = std::chrono::milliseconds(cfg->server.body_timeout_ms);
  http::Server server(
      loops, so,
      [gw](http::ServerRequest& req, http::ResponseWriter& w) {
        // The dashboard's static page and assets; everything else is the gateway's.
        const std::string_view target = req.target;
        const DashboardAsset* asset = req.method == http::bhttp::verb::get
                                          ? FindDashboardAsset(target.substr(0, target.find('?')))
                                          : nullptr;
        return asset != nullptr ? ServeDashboardAsset(*asset, w) : gw->Handle(req, w);
      },
      [gw](int status, std::string_view msg) { return gw->ServerErrorBody(status, msg); });
  if (auto s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", s.message().c_str());
    return 1;
  }
  gw->set_server(&server);
  metrics.AddCallbackGauge("switchyard_inflight_requests", "Requests being handled",
                           [&server] { return static_cast<double>(server.active_requests()); });
  metrics.AddCallbackGauge("switchyard_open_connections", "Open client connections",
                           [&server] { return static_cast<double>(server.open_connections()); });
  metrics.AddCallbackCounter("switchyard_connections_accepted_total", "Client connections accepted",
                             [&server] { return static_cast<double>(server.total_connections()); });

  // Start-up is done: hand the heap's free pages back to the kernel (Hyperscan's
  // pattern compilation leaves several MB of freed memory in the main arena).
  if (options.release_free_memory != nullptr) {
    options.release_free_memory();
  } else {
    malloc_trim(0);
  }
  loops.Start();
  PrintBanner(*cfg, server.port(), loops.size());
  log->info("listening on {}:{}", cfg->server.host, server.port());

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("received {}, draining (up to {} ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            cfg->server.shutdown_grace_ms);
  server.BeginShutdown();
  const auto drain_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg->server.shutdown_grace_ms);
  const bool idle = server.WaitIdle(drain_deadline);
  if (!idle) {
    log->warn("{} requests still in flight at the shutdown deadline; closing them",
              server.active_requests());
  }
  if (shadow) {
    // Shadow calls still running get the rest of the grace period, then are
    // cancelled (their rows are lost; the clients were answered long ago).
    const size_t left = shadow->Drain(drain_deadline);
    if (left > 0) log->warn("router shadow: {} shadow calls did not end", left);
  }
  loops.Stop();
  if (shadow) {
    if (auto s = shadow->Shutdown(); !s.ok()) log->warn("{}", s.message());
    log->info("router shadow: {} outcome rows written", shadow->stats().written);
  }
  if (tasks) tasks->learner().Shutdown();  // cancels a running training
  if (writer) {
    // Every answered request has been pushed; commit them before exiting.
    if (auto s = writer->Shutdown(std::chrono::milliseconds(cfg->server.shutdown_grace_ms));
        !s.ok()) {
      log->warn("ledger: {} (kept in the spill file for the next start)", s.message());
    }
    const auto st = writer->Stats();
    log->info("ledger: {} records written, {} spilled, {} replayed", st.written, st.spilled,
              st.replayed);
  }
  log->info("stopped");
  return 0;
}

}  // namespace switchyard::app
