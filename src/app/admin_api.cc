#include "app/admin_api.h"

#include <charconv>
#include <filesystem>

#include "api/errors.h"
#include "core/clock.h"
#include "ledger/query.h"
#include "ledger/record_json.h"
#include "ledger/sqlite_store.h"

namespace switchyard::app {
namespace {

// The value of `key` in the query string of `target` ("" when absent).
std::string QueryParam(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
  }
  return {};
}

struct Answer {
  int status = 200;
  std::string body;
};

Answer Error(const core::Status& s) {
  return {api::HttpStatusFor(s.code()), api::OpenAiErrorBody(s)};
}

core::Result<std::unique_ptr<ledger::SqliteStore>> OpenReadOnly(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return core::NotFound("no ledger at " + path + " yet: no request has been recorded");
  }
  ledger::SqliteOptions so;
  so.read_only = true;
  return ledger::SqliteStore::Open(path, so);
}

Answer Stats(const std::string& path, std::string_view target) {
  ledger::StatsQuery query;
  std::string by = QueryParam(target, "by");
  if (!by.empty()) query.by = by;
  if (auto s = ledger::ValidateGroupBy(query.by); !s.ok()) return Error(s);
  std::string since = QueryParam(target, "since");
  if (since.empty()) since = "24h";
  if (since != "all") {
    auto window = ledger::ParseSince(since);
    if (!window.ok()) return Error(window.status());
    query.since_ms = core::SystemClock().UnixMillis() - *window;
  }
  auto store = OpenReadOnly(path);
  if (!store.ok()) return Error(store.status());
  auto report = ledger::ComputeStats(**store, query);
  if (!report.ok()) return Error(report.status());
  return {200, ledger::RenderStatsJson(*report)};
}

Answer Tail(const std::string& path, std::string_view target) {
  size_t n = 20;
  const std::string text = QueryParam(target, "n");
  if (!text.empty()) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n == 0 || n > 10000) {
      return Error(
          core::InvalidArgument("n: expected an integer from 1 to 10000, got \"" + text + "\""));
    }
  }
  auto store = OpenReadOnly(path);
  if (!store.ok()) return Error(store.status());
  auto records = ledger::Tail(**store, n);
  if (!records.ok()) return Error(records.status());
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < records->size(); ++i) {
    if (i > 0) out.push_back(',');
    ledger::AppendRecordJson(out, (*records)[i]);
  }
  out += "]}";
  return {200, std::move(out)};
}

}  // namespace

AdminApi::AdminApi(std::string ledger_path) : ledger_path_(std::move(ledger_path)) {}

AdminApi::~AdminApi() {
  pool_.stop();
  pool_.join();
}

http::awaitable<void> AdminApi::Handle(http::ServerRequest& req, http::ResponseWriter& w) {
  const std::string_view target = req.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = req.method == http::bhttp::verb::get;
  Answer answer;
  if (path != "/admin/ledger/stats" && path != "/admin/ledger/tail") {
    core::Status nf = core::NotFound("unknown admin path " + std::string(path) +
                                     " (admin endpoints: GET /admin/ledger/stats, "
                                     "GET /admin/ledger/tail)");
    nf.set_error_code("unknown_url");
    answer = Error(nf);
  } else if (!get) {
    answer = Error(core::Status(core::StatusCode::kMethodNotAllowed,
                                "method " + std::string(req.method_text) + " is not allowed on " +
                                    std::string(path) + " (allowed: GET)"));
  } else {
    // Leave the event loop for the database read, then come back to answer.
    auto loop_executor = co_await http::asio::this_coro::executor;
    co_await http::asio::post(pool_, http::use_awaitable);
    answer =
        path == "/admin/ledger/stats" ? Stats(ledger_path_, target) : Tail(ledger_path_, target);
    co_await http::asio::post(loop_executor, http::use_awaitable);
  }
  co_await w.Send(answer.status, "application/json", answer.body);
}

}  // namespace switchyard::app
