// `switchyard advise` and `switchyard replay` (see advise_cmd.h).
#include "app/advise_cmd.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "economics/chart.h"
#include "economics/crossover.h"
#include "economics/replay.h"
#include "ledger/query.h"
#include "ledger/sqlite_store.h"

namespace switchyard::app {
namespace {

// Reports one line on `err` and returns `code`.
struct Failer {
  std::string& err;
  const char* command;
  int operator()(int code, const std::string& message) const {
    err += "switchyard: " + std::string(command) + ": " + message + "\n";
    return code;
  }
};

core::Result<config::Config> LoadConfig(const std::string& path) {
  const config::EnvLookup env = config::ProcessEnv();
  return config::LoadConfigOrDefaults(path, env);
}

core::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return core::FailedPrecondition("cannot write " + path);
  out << text;
  out.close();
  if (!out) return core::FailedPrecondition("cannot write " + path);
  return core::Status::Ok();
}

// "1000:1000" -> {1000, 1000}.
core::Result<std::pair<int64_t, int64_t>> ParseInOut(const std::string& text) {
  const auto bad = [&text] {
    return core::InvalidArgument(
        "--in-out: expected INPUT:OUTPUT token counts like 1000:1000, got \"" + text + "\"");
  };
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return bad();
  auto number = [](std::string_view s, int64_t* out) {
    if (s.empty() || s.size() > 12) return false;
    int64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
  };
  int64_t in = 0, out = 0;
  if (!number(std::string_view(text).substr(0, colon), &in) ||
      !number(std::string_view(text).substr(colon + 1), &out)) {
    return bad();
  }
  return std::make_pair(in, out);
}

// Opens the ledger read-only. Missing file: exit 2 (nothing to work on).
core::Result<std::unique_ptr<ledger::SqliteStore>> OpenLedger(const std::string& path,
                                                              int* exit_code) {
  if (!std::filesystem::exists(path)) {
    *exit_code = 2;
    return core::NotFound("no ledger at " + path +
                          " yet: run `switchyard serve` and send a request first");
  }
  ledger::SqliteOptions so;
  so.read_only = true;
  auto store = ledger::SqliteStore::Open(path, so);
  if (!store.ok()) *exit_code = 1;
  return store;
}

}  // namespace

// The embedded price book with the config's [[prices]] applied (as the
// gateway's accounting does).
core::Result<economics::PriceBook> AdvisorPriceBook(const config::Config& cfg) {
  auto book = economics::PriceBook::Embedded();
  if (!book.ok()) return book.take_status();
  for (const auto& p : cfg.prices) {
    economics::ModelPrice mp;
    mp.provider = p.provider;
    mp.id = p.model;
    mp.input = p.input < 0 ? 0 : p.input;
    mp.output = p.output < 0 ? 0 : p.output;
    mp.cached_input = p.cached_input;
    mp.cache_write = p.cache_write;
    book->Override(std::move(mp));
  }
  return book;
}

std::vector<std::string> OwnedProviders(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const auto& p : cfg.providers) {
    if (p.owned) out.push_back(p.name);
  }
  return out;
}

int RunAdvise(const AdviseOptions& options, const core::Clock& clock, std::string& out,
              std::string& err) {
  const Failer fail{err, "advise"};
  economics::AdvisorAssumptions assumptions = options.assumptions;
  economics::SelfHostingAssumptions& hw = assumptions.self_hosting;
  if (options.gpu_hourly) hw.gpu_hourly_usd = *options.gpu_hourly;
  if (options.gpus) hw.gpus = *options.gpus;
  if (options.throughput) hw.throughput_tokens_per_second = *options.throughput;
  if (options.utilization) hw.utilization = *options.utilization;
  if (options.ops_monthly) hw.ops_monthly_usd = *options.ops_monthly;
  if (options.training_cost) hw.training_usd = *options.training_cost;
  if (options.horizon_months) hw.horizon_months = *options.horizon_months;
  if (auto s = economics::ValidateAdvisorAssumptions(assumptions); !s.ok()) {
    return fail(2, s.message());
  }
  if (!options.what_if && (!options.model.empty() || options.tokens_per_day)) {
    return fail(2, "--model and --tokens-per-day need --what-if");
  }
  auto cfg = LoadConfig(options.config_path);
  if (!cfg.ok()) return fail(2, cfg.status().message());
  auto book = AdvisorPriceBook(*cfg);
  if (!book.ok()) return fail(1, book.status().message());

  if (options.what_if) {
    auto in_out = ParseInOut(options.in_out);
    if (!in_out.ok()) return fail(2, in_out.status().message());
    economics::WhatIfInput input;
    input.model = options.model;
    input.shape.input_tokens = in_out->first;
    input.shape.output_tokens = in_out->second;
    input.shape.cached_input_tokens = options.cached_input_tokens;
    input.tokens_per_day = options.tokens_per_day;
    input.assumptions = hw;
    auto report = economics::ComputeWhatIf(*book, input);
    if (!report.ok()) return fail(2, report.status().message());
    out += options.json ? economics::RenderWhatIfJson(*report) + "\n"
                        : economics::RenderWhatIfText(*report);
    if (!options.chart_path.empty()) {
      economics::CrossoverChart chart;
      chart.title = report->api.matched_model + " vs self-hosted";
      chart.api_cost_per_request = report->api.total_usd;
      chart.shape = input.shape;
      chart.assumptions = hw;
      if (report->at_volume) chart.current_requests_per_day = report->at_volume->requests_per_day;
      if (auto s = WriteTextFile(options.chart_path, economics::RenderCrossoverSvg(chart));
          !s.ok()) {
        return fail(1, s.message());
      }
    }
    return 0;
  }

  auto since = ledger::SinceCutoff(options.since, clock.UnixMillis());
  if (!since.ok()) return fail(2, since.status().message());
  const std::string path = options.db_path.empty() ? cfg->LedgerPath() : options.db_path;
  int code = 0;
  auto store = OpenLedger(path, &code);
  if (!store.ok()) return fail(code, store.status().message());
  economics::AdvisorOptions ao;
  ao.now_ms = clock.UnixMillis();
  ao.since_ms = *since;
  ao.assumptions = assumptions;
  ao.local_providers = OwnedProviders(*cfg);
  for (const auto& t : cfg->tasks) ao.task_kinds[t.name] = t.kind;
  auto report = economics::Advise(**store, *book, ao);
  if (!report.ok()) {
    return fail(report.status().code() == core::StatusCode::kNotFound ? 2 : 1,
                report.status().message());
  }
  out += options.json ? economics::RenderAdvisorJson(*report) + "\n"
                      : economics::RenderAdvisorText(*report);
  if (!options.chart_path.empty()) {
    if (!report->overall_priced) {
      return fail(1, "no chart: the traffic has no priced API answers to compare with");
    }
    economics::CrossoverChart chart;
    chart.title = "All traffic: API vs self-hosted";
    chart.api_cost_per_request = report->overall_api_cost_per_request;
    chart.shape = report->overall_shape;
    chart.assumptions = hw;
    chart.current_requests_per_day = report->overall_self_hosting.requests_per_day;
    if (auto s = WriteTextFile(options.chart_path, economics::RenderCrossoverSvg(chart)); !s.ok()) {
      return fail(1, s.message());
    }
  }
  return 0;
}

int RunAdvise(const AdviseOptions& options) {
  core::SystemClock clock;
  std::string out, err;
  const int code = RunAdvise(options, clock, out, err);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fwrite(err.data(), 1, err.size(), stderr);
  return code;
}

int RunReplay(const ReplayCmdOptions& options, const core::Clock& clock, std::string& out,
              std::string& err) {
  const Failer fail{err, "replay"};
  const bool from_ledger = options.from_ledger || !options.db_path.empty();
  if (from_ledger == !options.trace_path.empty()) {
    return fail(2, "give exactly one of --ledger or --trace FILE");
  }
  if (options.policy_path.empty()) return fail(2, "--policy FILE is required");
  if (!options.chart_path.empty()) {
    if (auto s = economics::ValidateSelfHosting(options.assumptions); !s.ok()) {
      return fail(2, s.message());
    }
  }
  auto cfg = LoadConfig(options.config_path);
  if (!cfg.ok()) return fail(2, cfg.status().message());
  auto book = AdvisorPriceBook(*cfg);
  if (!book.ok()) return fail(1, book.status().message());
  auto policy = economics::LoadPolicyFile(options.policy_path);
  if (!policy.ok()) return fail(2, policy.status().message());

  std::vector<economics::TraceRecord> records;
  std::string source;
  if (from_ledger) {
    auto since = ledger::SinceCutoff(options.since, clock.UnixMillis());
    if (!since.ok()) return fail(2, since.status().message());
    const std::string path = options.db_path.empty() ? cfg->LedgerPath() : options.db_path;
    int code = 0;
    auto store = OpenLedger(path, &code);
    if (!store.ok()) return fail(code, store.status().message());
    ledger::ScanOptions scan;
    scan.since_ms = *since;
    scan.include_bodies = true;  // response bodies: the local answers' labels
    if (auto s = (*store)->Scan(scan,
                                [&](ledger::Record& r) {
                                  economics::TraceRecord tr;
                                  tr.record = std::move(r);
                                  records.push_back(std::move(tr));
                                  return true;
                                });
        !s.ok()) {
      return fail(1, s.message());
    }
    if (records.empty()) {
      return fail(2, *since > 0 ? "the ledger has no records since " +
                                      ledger::FormatUtcMillis(*since) + ": nothing to replay"
                                : std::string("the ledger has no records: nothing to replay"));
    }
    source = "ledger " + path;
  } else {
    auto trace = economics::LoadTraceFile(options.trace_path);
    if (!trace.ok()) return fail(2, trace.status().message());
    records = std::move(*trace);
    source = "trace " + options.trace_path;
  }
  economics::ReplayOptions ro;
  ro.local_providers = OwnedProviders(*cfg);
  auto report = economics::Replay(records, *policy, *book, ro, source);
  if (!report.ok()) return fail(2, report.status().message());
  out += options.json ? economics::RenderReplayJson(*report) + "\n"
                      : economics::RenderReplayText(*report);
  if (!options.chart_path.empty()) {
    if (report->frontier_model.empty() || !(report->frontier_cost_per_request > 0)) {
      return fail(2, "--chart needs a priced frontier_model in the policy");
    }
    economics::CrossoverChart chart;
    chart.title = "Traffic at " + report->frontier_model + " vs self-hosted";
    chart.api_cost_per_request = report->frontier_cost_per_request;
    chart.shape = report->shape;
    chart.assumptions = options.assumptions;
    chart.current_requests_per_day = report->requests_per_day;
    if (auto s = WriteTextFile(options.chart_path, economics::RenderCrossoverSvg(chart)); !s.ok()) {
      return fail(1, s.message());
    }
  }
  return 0;
}

int RunReplay(const ReplayCmdOptions& options) {
  core::SystemClock clock;
  std::string out, err;
  const int code = RunReplay(options, clock, out, err);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fwrite(err.data(), 1, err.size(), stderr);
  return code;
}

}  // namespace switchyard::app
