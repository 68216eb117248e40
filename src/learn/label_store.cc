#include "learn/label_store.h"

#include <sqlite3.h>

#include "core/utf8.h"
#include "sqlite/db.h"

namespace switchyard::learn {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS task_labels ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " task TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " request_id TEXT NOT NULL,"
    " input TEXT NOT NULL,"
    " label TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS task_labels_task ON task_labels(task, id);"
    "CREATE TABLE IF NOT EXISTS task_unparsed ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " task TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " request_id TEXT NOT NULL,"
    " reply TEXT NOT NULL,"
    " reply_bytes INTEGER NOT NULL,"
    " error TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS task_unparsed_task ON task_unparsed(task, id);"
    "CREATE TABLE IF NOT EXISTS task_live ("
    " task TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " compared INTEGER NOT NULL,"
    " agreed INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL,"
    " accepted_agreed INTEGER NOT NULL,"
    " lower_bound REAL NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (task, version));"
    "CREATE TABLE IF NOT EXISTS task_counters ("
    " task TEXT PRIMARY KEY,"
    " input_unmatched INTEGER NOT NULL,"
    " demotions INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);";

using sqlite::BindText;
using sqlite::ColumnText;

}  // namespace

core::Result<std::unique_ptr<LabelStore>> LabelStore::Open(const std::string& db_path,
                                                           const core::Clock& clock,
                                                           int busy_timeout_ms) {
  auto db = sqlite::Db::Open("label store", db_path, {.busy_timeout_ms = busy_timeout_ms});
  if (!db.ok()) return db.take_status();
  if (core::Status st = (*db)->Exec(kSchema, "cannot create the task_labels tables"); !st.ok()) {
    return st;
  }
  return std::unique_ptr<LabelStore>(new LabelStore(std::move(*db), clock));
}

LabelStore::LabelStore(std::unique_ptr<sqlite::Db> db, const core::Clock& clock)
    : db_(std::move(db)), clock_(clock) {}

LabelStore::~LabelStore() = default;

core::Status LabelStore::Add(std::string_view task, std::string_view input, std::string_view label,
                             std::string_view request_id) {
  return AddBatch({LabelRow{std::string(task), std::string(input), std::string(label),
                            std::string(request_id)}});
}

core::Status LabelStore::AddBatch(const std::vector<LabelRow>& labels,
                                  const std::vector<UnparsedRow>& unparsed) {
  if (labels.empty() && unparsed.empty()) return core::Status::Ok();
  std::lock_guard lock(mu_);
  if (core::Status st = db_->Exec("BEGIN IMMEDIATE", "cannot start a batch"); !st.ok()) return st;
  core::Status s = AddBatchLocked(labels, unparsed);
  if (s.ok()) s = db_->Exec("COMMIT", "cannot commit a batch");
  if (!s.ok()) (void)db_->Exec("ROLLBACK", "cannot roll back");
  return s;
}

core::Status LabelStore::AddBatchLocked(const std::vector<LabelRow>& labels,
                                        const std::vector<UnparsedRow>& unparsed) {
  const int64_t now = clock_.UnixMillis();
  if (!labels.empty()) {
    auto st = db_->Prepare(
        "INSERT INTO task_labels (task, ts_ms, request_id, input, label) "
        "VALUES (?, ?, ?, ?, ?)",
        "cannot add a label");
    if (!st.ok()) return st.take_status();
    for (const LabelRow& r : labels) {
      sqlite3_reset(st->get());
      BindText(st->get(), 1, r.task);
      sqlite3_bind_int64(st->get(), 2, now);
      BindText(st->get(), 3, r.request_id);
      BindText(st->get(), 4, r.input);
      BindText(st->get(), 5, r.label);
      if (sqlite3_step(st->get()) != SQLITE_DONE) return db_->LastError("cannot add a label");
    }
  }
  if (!unparsed.empty()) {
    auto st = db_->Prepare(
        "INSERT INTO task_unparsed (task, ts_ms, request_id, reply, reply_bytes, "
        "error) VALUES (?, ?, ?, ?, ?, ?)",
        "cannot add an unparsed reply");
    if (!st.ok()) return st.take_status();
    for (const UnparsedRow& r : unparsed) {
      sqlite3_reset(st->get());
      BindText(st->get(), 1, r.task);
      sqlite3_bind_int64(st->get(), 2, now);
      BindText(st->get(), 3, r.request_id);
      BindText(st->get(), 4, core::CutUtf8(r.reply, kMaxUnparsedReplyBytes));
      sqlite3_bind_int64(st->get(), 5,
                         r.reply_bytes > 0 ? r.reply_bytes : static_cast<int64_t>(r.reply.size()));
      BindText(st->get(), 6, r.error);
      if (sqlite3_step(st->get()) != SQLITE_DONE)
        return db_->LastError("cannot add an unparsed reply");
    }
  }
  return core::Status::Ok();
}

core::Result<std::vector<Example>> LabelStore::Load(std::string_view task) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT input, label FROM task_labels WHERE task = ? ORDER BY id",
                         "cannot read labels");
  if (!st.ok()) return st.take_status();
  BindText(st->get(), 1, task);
  std::vector<Example> out;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    out.push_back(Example{ColumnText(st->get(), 0), ColumnText(st->get(), 1)});
  }
  if (rc != SQLITE_DONE) return db_->LastError("cannot read labels");
  return out;
}

core::Result<int64_t> LabelStore::Count(std::string_view task) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT count(*) FROM task_labels WHERE task = ?", "cannot count labels");
  if (!st.ok()) return st.take_status();
  BindText(st->get(), 1, task);
  if (sqlite3_step(st->get()) != SQLITE_ROW) return db_->LastError("cannot count labels");
  return static_cast<int64_t>(sqlite3_column_int64(st->get(), 0));
}

core::Result<std::vector<UnparsedRow>> LabelStore::LoadUnparsed(std::string_view task) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare(
      "SELECT task, request_id, reply, reply_bytes, error, ts_ms FROM "
      "task_unparsed WHERE task = ? ORDER BY id",
      "cannot read unparsed replies");
  if (!st.ok()) return st.take_status();
  BindText(st->get(), 1, task);
  std::vector<UnparsedRow> out;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    UnparsedRow r;
    r.task = ColumnText(st->get(), 0);
    r.request_id = ColumnText(st->get(), 1);
    r.reply = ColumnText(st->get(), 2);
    r.reply_bytes = sqlite3_column_int64(st->get(), 3);
    r.error = ColumnText(st->get(), 4);
    r.ts_ms = sqlite3_column_int64(st->get(), 5);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_->LastError("cannot read unparsed replies");
  return out;
}

core::Result<int64_t> LabelStore::CountUnparsed(std::string_view task) {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT count(*) FROM task_unparsed WHERE task = ?",
                         "cannot count unparsed replies");
  if (!st.ok()) return st.take_status();
  BindText(st->get(), 1, task);
  if (sqlite3_step(st->get()) != SQLITE_ROW) return db_->LastError("cannot count unparsed replies");
  return static_cast<int64_t>(sqlite3_column_int64(st->get(), 0));
}

core::Status LabelStore::SaveStats(const std::vector<LiveRow>& live,
                                   const std::map<std::string, TaskCounters>& counters) {
  if (live.empty() && counters.empty()) return core::Status::Ok();
  std::lock_guard lock(mu_);
  if (core::Status st = db_->Exec("BEGIN IMMEDIATE", "cannot start saving statistics"); !st.ok())
    return st;
  core::Status s = SaveStatsLocked(live, counters);
  if (s.ok()) s = db_->Exec("COMMIT", "cannot commit statistics");
  if (!s.ok()) (void)db_->Exec("ROLLBACK", "cannot roll back");
  return s;
}

core::Status LabelStore::SaveStatsLocked(const std::vector<LiveRow>& live,
                                         const std::map<std::string, TaskCounters>& counters) {
  const int64_t now = clock_.UnixMillis();
  if (!live.empty()) {
    auto st = db_->Prepare(
        "INSERT OR REPLACE INTO task_live (task, version, compared, agreed, "
        "accepted, accepted_agreed, lower_bound, updated_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "cannot save live statistics");
    if (!st.ok()) return st.take_status();
    for (const LiveRow& r : live) {
      const LiveStats s = MakeLiveStats(r.stats.compared, r.stats.agreed, r.stats.accepted,
                                        r.stats.accepted_agreed);
      sqlite3_reset(st->get());
      BindText(st->get(), 1, r.task);
      sqlite3_bind_int64(st->get(), 2, r.version);
      sqlite3_bind_int64(st->get(), 3, static_cast<int64_t>(s.compared));
      sqlite3_bind_int64(st->get(), 4, static_cast<int64_t>(s.agreed));
      sqlite3_bind_int64(st->get(), 5, static_cast<int64_t>(s.accepted));
      sqlite3_bind_int64(st->get(), 6, static_cast<int64_t>(s.accepted_agreed));
      sqlite3_bind_double(st->get(), 7, s.lower_bound);
      sqlite3_bind_int64(st->get(), 8, now);
      if (sqlite3_step(st->get()) != SQLITE_DONE)
        return db_->LastError("cannot save live statistics");
    }
  }
  if (!counters.empty()) {
    auto st = db_->Prepare(
        "INSERT OR REPLACE INTO task_counters (task, input_unmatched, "
        "demotions, updated_ms) VALUES (?, ?, ?, ?)",
        "cannot save task counters");
    if (!st.ok()) return st.take_status();
    for (const auto& [task, c] : counters) {
      sqlite3_reset(st->get());
      BindText(st->get(), 1, task);
      sqlite3_bind_int64(st->get(), 2, c.input_unmatched);
      sqlite3_bind_int64(st->get(), 3, c.demotions);
      sqlite3_bind_int64(st->get(), 4, now);
      if (sqlite3_step(st->get()) != SQLITE_DONE)
        return db_->LastError("cannot save task counters");
    }
  }
  return core::Status::Ok();
}

core::Result<std::vector<LiveRow>> LabelStore::LoadLive(std::string_view task) {
  std::lock_guard lock(mu_);
  const char* sql = task.empty()
                        ? "SELECT task, version, compared, agreed, accepted, accepted_agreed, "
                          "updated_ms FROM task_live ORDER BY task, version"
                        : "SELECT task, version, compared, agreed, accepted, accepted_agreed, "
                          "updated_ms FROM task_live WHERE task = ? ORDER BY task, version";
  auto st = db_->Prepare(sql, "cannot read live statistics");
  if (!st.ok()) return st.take_status();
  if (!task.empty()) BindText(st->get(), 1, task);
  std::vector<LiveRow> out;
  int rc;
  const auto count = [&st](int i) {
    const int64_t v = sqlite3_column_int64(st->get(), i);
    return static_cast<uint64_t>(v < 0 ? 0 : v);
  };
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    LiveRow r;
    r.task = ColumnText(st->get(), 0);
    r.version = sqlite3_column_int64(st->get(), 1);
    r.stats = MakeLiveStats(count(2), count(3), count(4), count(5));
    r.updated_ms = sqlite3_column_int64(st->get(), 6);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_->LastError("cannot read live statistics");
  return out;
}

core::Result<std::map<std::string, TaskCounters>> LabelStore::LoadCounters() {
  std::lock_guard lock(mu_);
  auto st = db_->Prepare("SELECT task, input_unmatched, demotions FROM task_counters",
                         "cannot read task counters");
  if (!st.ok()) return st.take_status();
  std::map<std::string, TaskCounters> out;
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    TaskCounters c;
    c.input_unmatched = sqlite3_column_int64(st->get(), 1);
    c.demotions = sqlite3_column_int64(st->get(), 2);
    out[ColumnText(st->get(), 0)] = c;
  }
  if (rc != SQLITE_DONE) return db_->LastError("cannot read task counters");
  return out;
}

}  // namespace switchyard::learn
