#include "routing/outcome_store.h"

#include <sqlite3.h>

#include "core/utf8.h"
#include "routing/dataset.h"
#include "sqlite/db.h"

namespace switchyard::routing {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS router_outcomes ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " route TEXT NOT NULL,"
    " request_id TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " prompt TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " weak_target TEXT NOT NULL,"
    " weak_response TEXT NOT NULL,"
    " weak_finish TEXT NOT NULL,"
    " weak_logprobs TEXT NOT NULL,"
    " strong_target TEXT NOT NULL,"
    " strong_response TEXT NOT NULL,"
    " strong_finish TEXT NOT NULL,"
    " shadow_target TEXT NOT NULL,"
    " shadow_cost_usd REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS router_outcomes_route ON router_outcomes(route, ts_ms);";

using sqlite::BindText;
using sqlite::ColumnText;

}  // namespace

core::Result<std::unique_ptr<OutcomeStore>> OutcomeStore::Open(const std::string& db_path,
                                                               const core::Clock& clock,
                                                               int busy_timeout_ms) {
  auto db = sqlite::Db::Open("router outcomes", db_path, {.busy_timeout_ms = busy_timeout_ms});
  if (!db.ok()) return db.take_status();
  if (core::Status st = (*db)->Exec(kSchema, "cannot create the router_outcomes table"); !st.ok()) {
    return st;
  }
  return std::unique_ptr<OutcomeStore>(new OutcomeStore(std::move(*db), clock));
}

OutcomeStore::OutcomeStore(std::unique_ptr<sqlite::Db> db, const core::Clock& clock)
    : db_(std::move(db)), clock_(clock) {}

OutcomeStore::~OutcomeStore() = default;

core::Status OutcomeStore::AddBatch(const std::vector<PairedOutcome>& rows) {
  if (rows.empty()) return core::Status::Ok();
  std::lock_guard lock(mu_);
  if (core::Status st = db_->Exec("BEGIN IMMEDIATE", "cannot start a batch"); !st.ok()) return st;
  core::Status s = AddBatchLocked(rows);
  if (s.ok()) s = db_->Exec("COMMIT", "cannot commit a batch");
  if (!s.ok()) (void)db_->Exec("ROLLBACK", "cannot roll back");
  return s;
}

core::Status OutcomeStore::AddBatchLocked(const std::vector<PairedOutcome>& rows) {
  const int64_t now = clock_.UnixMillis();
  auto st = db_->Prepare(
      "INSERT INTO router_outcomes (route, request_id, ts_ms, prompt, subject, weak_target, "
      "weak_response, weak_finish, weak_logprobs, strong_target, strong_response, strong_finish, "
      "shadow_target, shadow_cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "cannot add an outcome");
  if (!st.ok()) return st.take_status();
  sqlite3_stmt* s = st->get();
  for (const PairedOutcome& r : rows) {
    sqlite3_reset(s);
    BindText(s, 1, r.route);
    BindText(s, 2, r.request_id);
    sqlite3_bind_int64(s, 3, r.ts_ms != 0 ? r.ts_ms : now);
    BindText(s, 4, core::CutUtf8(r.prompt, kMaxOutcomeTextBytes));
    BindText(s, 5, r.subject);
    BindText(s, 6, r.weak_target);
    BindText(s, 7, core::CutUtf8(r.weak_response, kMaxOutcomeTextBytes));
    BindText(s, 8, r.weak_finish);
    const std::string logprobs = FormatLogprobs(r.weak_logprobs);
    BindText(s, 9, logprobs);
    BindText(s, 10, r.strong_target);
    BindText(s, 11, core::CutUtf8(r.strong_response, kMaxOutcomeTextBytes));
    BindText(s, 12, r.strong_finish);
    BindText(s, 13, r.shadow_target);
    sqlite3_bind_double(s, 14, r.shadow_cost_usd);
    if (sqlite3_step(s) != SQLITE_DONE) return db_->LastError("cannot add an outcome");
  }
  return core::Status::Ok();
}

core::Result<std::vector<PairedOutcome>> OutcomeStore::Load(std::string_view route,
                                                            int64_t since_ms) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(
      "SELECT route, request_id, ts_ms, prompt, subject, weak_target, weak_response, weak_finish, "
      "weak_logprobs, strong_target, strong_response, strong_finish, shadow_target, "
      "shadow_cost_usd FROM router_outcomes WHERE route = ? AND ts_ms >= ? ORDER BY id",
      "cannot read outcomes");
  if (!st.ok()) return st.take_status();
  sqlite3_stmt* s = st->get();
  BindText(s, 1, route);
  sqlite3_bind_int64(s, 2, since_ms);
  std::vector<PairedOutcome> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    PairedOutcome r;
    r.route = ColumnText(s, 0);
    r.request_id = ColumnText(s, 1);
    r.ts_ms = sqlite3_column_int64(s, 2);
    r.prompt = ColumnText(s, 3);
    r.subject = ColumnText(s, 4);
    r.weak_target = ColumnText(s, 5);
    r.weak_response = ColumnText(s, 6);
    r.weak_finish = ColumnText(s, 7);
    // Written by FormatLogprobs; a row edited by hand into garbage reads as none.
    if (auto lp = ParseLogprobs(ColumnText(s, 8))) r.weak_logprobs = std::move(*lp);
    r.strong_target = ColumnText(s, 9);
    r.strong_response = ColumnText(s, 10);
    r.strong_finish = ColumnText(s, 11);
    r.shadow_target = ColumnText(s, 12);
    r.shadow_cost_usd = sqlite3_column_double(s, 13);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_->LastError("cannot read outcomes");
  return out;
}

core::Result<std::vector<std::pair<std::string, int64_t>>> OutcomeStore::CountByRoute() {
  std::lock_guard lock(mu_);
  auto st =
      db_->Prepare("SELECT route, count(*) FROM router_outcomes GROUP BY route ORDER BY route",
                   "cannot count outcomes");
  if (!st.ok()) return st.take_status();
  std::vector<std::pair<std::string, int64_t>> out;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    out.emplace_back(ColumnText(st->get(), 0), sqlite3_column_int64(st->get(), 1));
  }
  if (rc != SQLITE_DONE) return db_->LastError("cannot count outcomes");
  return out;
}

}  // namespace switchyard::routing
