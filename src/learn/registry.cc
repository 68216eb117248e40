#include "learn/registry.h"

#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/json_writer.h"
#include "sqlite/db.h"

namespace switchyard::learn {
namespace {

namespace fs = std::filesystem;

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS students (
  task TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('shadow', 'promoted', 'demoted', 'retired')),
  threshold REAL,
  calibration TEXT NOT NULL,
  metrics TEXT NOT NULL,
  labels TEXT NOT NULL,
  model_path TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (task, version)
);
CREATE TABLE IF NOT EXISTS student_events (
  task TEXT NOT NULL,
  version INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql";

constexpr const char* kColumns =
    "task, version, created_ms, updated_ms, status, threshold, calibration, metrics, labels, "
    "model_path, reason";

std::string LabelsJson(const std::vector<std::string>& labels) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginArray();
  for (const auto& l : labels) w.String(l);
  w.EndArray();
  return out;
}

std::vector<std::string> ParseLabels(std::string_view json) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(simdjson::padded_string(json)).get_array().get(arr) != simdjson::SUCCESS) {
    return out;
  }
  for (simdjson::dom::element e : arr) {
    std::string_view s;
    if (e.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p != nullptr ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : "";
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string_view StudentStatusName(StudentStatus status) {
  switch (status) {
    case StudentStatus::kShadow:
      return "shadow";
    case StudentStatus::kPromoted:
      return "promoted";
    case StudentStatus::kDemoted:
      return "demoted";
    case StudentStatus::kRetired:
      return "retired";
  }
  return "shadow";
}

core::Result<StudentStatus> ParseStudentStatus(std::string_view name) {
  for (auto s : {StudentStatus::kShadow, StudentStatus::kPromoted, StudentStatus::kDemoted,
                 StudentStatus::kRetired}) {
    if (StudentStatusName(s) == name) return s;
  }
  return core::InvalidArgument("unknown student status '" + std::string(name) + "'");
}

core::Status ValidateTaskName(std::string_view task) {
  const bool ok = !task.empty() && task.size() <= 64 && task.front() != '.' &&
                  std::all_of(task.begin(), task.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                  });
  if (ok) return core::Status::Ok();
  return core::InvalidArgument("task name '" + std::string(task) +
                               "' must be 1-64 letters, digits, '.', '_' or '-' (not starting "
                               "with '.')");
}

// --- Registry ----------------------------------------------------------------

Registry::Registry(RegistryOptions options, std::string model_dir, std::unique_ptr<sqlite::Db> db,
                   const core::Clock& clock)
    : options_(std::move(options)),
      model_dir_(std::move(model_dir)),
      db_(std::move(db)),
      clock_(clock) {}

Registry::~Registry() = default;

core::Result<std::unique_ptr<Registry>> Registry::Open(RegistryOptions options,
                                                       const core::Clock& clock) {
  const std::string& path = options.db_path;
  std::string model_dir = options.model_dir;
  if (model_dir.empty()) {
    model_dir = fs::path(path).parent_path().string();
    if (model_dir.empty()) model_dir = ".";
  }
  std::error_code ec;
  if (options.read_only && !fs::exists(path, ec)) {
    return core::FailedPrecondition("student registry: " + path + ": no such file");
  }
  auto db = sqlite::Db::Open(
      "student registry", path,
      {.read_only = options.read_only, .busy_timeout_ms = options.busy_timeout_ms});
  if (!db.ok()) return db.take_status();
  if (!options.read_only) {
    if (core::Status s = (*db)->Exec(kSchema, "cannot create the students tables"); !s.ok()) {
      return s;
    }
  }
  // Read-only on a database without our tables (e.g. a ledger before any
  // student was trained): every query answers "nothing".
  bool has_tables = true;
  if (options.read_only) {
    auto stmt = (*db)->Prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'students'",
        "cannot read the schema");
    if (!stmt.ok()) return stmt.take_status();
    const int rc = sqlite3_step(stmt->get());
    if (rc != SQLITE_ROW) return (*db)->Error(rc, "cannot read the schema");
    has_tables = sqlite3_column_int(stmt->get(), 0) > 0;
  }
  auto registry = std::unique_ptr<Registry>(
      new Registry(std::move(options), std::move(model_dir), std::move(*db), clock));
  registry->has_tables_ = has_tables;
  return registry;
}

core::Status Registry::SqlError(std::string_view doing) const {
  return db_->LastError(doing);
}

core::Status Registry::Exec(const char* sql) {
  return db_->Exec(sql, sql);
}

std::string Registry::ModelPath(const StudentRecord& record) const {
  if (record.model_path.empty()) return "";
  return (fs::path(model_dir_) / record.model_path).string();
}

core::Result<std::vector<StudentRecord>> Registry::Query(
    const std::string& where, const std::vector<std::string>& text_params,
    const std::vector<int64_t>& int_params) {
  if (!has_tables_) return std::vector<StudentRecord>();
  const std::string sql = std::string("SELECT ") + kColumns + " FROM students " + where;
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_->handle(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqlError("cannot read students");
  }
  Stmt stmt(raw);
  int i = 1;
  for (const auto& t : text_params) {
    sqlite3_bind_text(raw, i++, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
  }
  for (int64_t v : int_params) sqlite3_bind_int64(raw, i++, v);
  std::vector<StudentRecord> out;
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    StudentRecord r;
    r.task = ColumnText(raw, 0);
    r.version = sqlite3_column_int64(raw, 1);
    r.created_ms = sqlite3_column_int64(raw, 2);
    r.updated_ms = sqlite3_column_int64(raw, 3);
    auto status = ParseStudentStatus(ColumnText(raw, 4));
    r.status = status.ok() ? *status : StudentStatus::kRetired;
    if (sqlite3_column_type(raw, 5) != SQLITE_NULL) r.threshold = sqlite3_column_double(raw, 5);
    auto cal = Calibration::FromJson(ColumnText(raw, 6));
    if (cal.ok()) r.calibration = *cal;
    r.metrics_json = ColumnText(raw, 7);
    r.labels = ParseLabels(ColumnText(raw, 8));
    r.model_path = ColumnText(raw, 9);
    r.reason = ColumnText(raw, 10);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError("cannot read students");
  return out;
}

core::Result<StudentRecord> Registry::Register(const TrainedStudent& trained,
                                               const std::string& reason) {
  if (auto s = ValidateTaskName(trained.task); !s.ok()) return s;
  if (options_.read_only) return core::FailedPrecondition("student registry is read-only");
  std::lock_guard lock(mu_);
  if (auto s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  bool committed = false;
  struct Rollback {
    Registry* r;
    bool* committed;
    ~Rollback() {
      if (!*committed) (void)r->db_->Exec("ROLLBACK", "cannot roll back");
    }
  } rollback{this, &committed};

  int64_t version = 1;
  {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_->handle(),
                           "SELECT coalesce(max(version), 0) + 1 FROM students WHERE task = ?", -1,
                           &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return SqlError("cannot read versions");
    }
    Stmt stmt(raw);
    sqlite3_bind_text(raw, 1, trained.task.data(), static_cast<int>(trained.task.size()),
                      SQLITE_TRANSIENT);
    if (sqlite3_step(raw) != SQLITE_ROW) return SqlError("cannot read versions");
    version = sqlite3_column_int64(raw, 0);
  }

  StudentRecord r;
  r.task = trained.task;
  r.version = version;
  r.created_ms = r.updated_ms = clock_.UnixMillis();
  r.status = StudentStatus::kShadow;
  r.threshold = trained.threshold.threshold;
  r.calibration = trained.student.calibration();
  r.metrics_json = trained.metrics.ToJson();
  r.labels = trained.labels;
  r.model_path = "students/" + trained.task + "/v" + std::to_string(version) + ".bin";
  r.reason = reason;

  const std::string abs = ModelPath(r);
  std::error_code ec;
  fs::create_directories(fs::path(abs).parent_path(), ec);
  if (ec) {
    return core::Internal("cannot create " + fs::path(abs).parent_path().string() + ": " +
                          ec.message());
  }
  if (auto s = trained.student.Save(abs); !s.ok()) return s;

  const std::string calibration = r.calibration.ToJson();
  const std::string labels = LabelsJson(r.labels);
  const std::string status(StudentStatusName(r.status));
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_->handle(),
                         "INSERT INTO students (task, version, created_ms, updated_ms, status, "
                         "threshold, calibration, metrics, labels, model_path, reason) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    fs::remove(abs, ec);
    return SqlError("cannot add a student");
  }
  Stmt stmt(raw);
  const auto text = [raw](int i, const std::string& v) {
    sqlite3_bind_text(raw, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };
  text(1, r.task);
  sqlite3_bind_int64(raw, 2, r.version);
  sqlite3_bind_int64(raw, 3, r.created_ms);
  sqlite3_bind_int64(raw, 4, r.updated_ms);
  text(5, status);
  if (r.threshold) {
    sqlite3_bind_double(raw, 6, *r.threshold);
  } else {
    sqlite3_bind_null(raw, 6);
  }
  text(7, calibration);
  text(8, r.metrics_json);
  text(9, labels);
  text(10, r.model_path);
  text(11, r.reason);
  if (sqlite3_step(raw) != SQLITE_DONE) {
    fs::remove(abs, ec);
    return SqlError("cannot add a student");
  }
  stmt.reset();
  {
    sqlite3_stmt* ev = nullptr;
    if (sqlite3_prepare_v2(db_->handle(),
                           "INSERT INTO student_events (task, version, at_ms, status, reason) "
                           "VALUES (?, ?, ?, ?, ?)",
                           -1, &ev, nullptr) != SQLITE_OK) {
      sqlite3_finalize(ev);
      fs::remove(abs, ec);
      return SqlError("cannot log a student event");
    }
    Stmt evs(ev);
    sqlite3_bind_text(ev, 1, r.task.data(), static_cast<int>(r.task.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(ev, 2, r.version);
    sqlite3_bind_int64(ev, 3, r.created_ms);
    sqlite3_bind_text(ev, 4, status.data(), static_cast<int>(status.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(ev, 5, reason.data(), static_cast<int>(reason.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(ev) != SQLITE_DONE) {
      fs::remove(abs, ec);
      return SqlError("cannot log a student event");
    }
  }
  if (auto s = Exec("COMMIT"); !s.ok()) {
    fs::remove(abs, ec);
    return s;
  }
  committed = true;
  (void)PruneFiles(r.task);  // best effort: a leftover file costs only disk
  return r;
}

core::Status Registry::SetStatus(const std::string& task, int64_t version, StudentStatus status,
                                 const std::string& reason) {
  const int64_t now = clock_.UnixMillis();
  const std::string name(StudentStatusName(status));
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_->handle(),
                         "UPDATE students SET status = ?, reason = ?, updated_ms = ? "
                         "WHERE task = ? AND version = ?",
                         -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqlError("cannot update a student");
  }
  Stmt stmt(raw);
  sqlite3_bind_text(raw, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(raw, 2, reason.data(), static_cast<int>(reason.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 3, now);
  sqlite3_bind_text(raw, 4, task.data(), static_cast<int>(task.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(raw, 5, version);
  if (sqlite3_step(raw) != SQLITE_DONE) return SqlError("cannot update a student");
  if (sqlite3_changes(db_->handle()) == 0) {
    return core::NotFound("task '" + task + "' has no student version " + std::to_string(version));
  }
  sqlite3_stmt* ev = nullptr;
  if (sqlite3_prepare_v2(db_->handle(),
                         "INSERT INTO student_events (task, version, at_ms, status, reason) "
                         "VALUES (?, ?, ?, ?, ?)",
                         -1, &ev, nullptr) != SQLITE_OK) {
    sqlite3_finalize(ev);
    return SqlError("cannot log a student event");
  }
  Stmt evs(ev);
  sqlite3_bind_text(ev, 1, task.data(), static_cast<int>(task.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(ev, 2, version);
  sqlite3_bind_int64(ev, 3, now);
  sqlite3_bind_text(ev, 4, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(ev, 5, reason.data(), static_cast<int>(reason.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(ev) != SQLITE_DONE) return SqlError("cannot log a student event");
  return core::Status::Ok();
}

core::Status Registry::Promote(const std::string& task, int64_t version,
                               const std::string& reason) {
  if (options_.read_only) return core::FailedPrecondition("student registry is read-only");
  std::lock_guard lock(mu_);
  auto current = Query("WHERE task = ? AND version = ?", {task}, {version});
  if (!current.ok()) return current.take_status();
  if (current->empty()) {
    return core::NotFound("task '" + task + "' has no student version " + std::to_string(version));
  }
  if (current->front().model_path.empty()) {
    return core::FailedPrecondition("task '" + task + "' version " + std::to_string(version) +
                                    " has no model file any more");
  }
  auto previous = Query("WHERE task = ? AND status = 'promoted'", {task}, {});
  if (!previous.ok()) return previous.take_status();
  if (auto s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  core::Status s;
  for (const auto& p : *previous) {
    if (p.version == version) continue;
    s = SetStatus(task, p.version, StudentStatus::kRetired,
                  "superseded by v" + std::to_string(version));
    if (!s.ok()) break;
  }
  if (s.ok()) s = SetStatus(task, version, StudentStatus::kPromoted, reason);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK", "cannot roll back");
    return s;
  }
  if (auto c = Exec("COMMIT"); !c.ok()) {
    (void)db_->Exec("ROLLBACK", "cannot roll back");
    return c;
  }
  (void)PruneFiles(task);
  return core::Status::Ok();
}

core::Status Registry::Demote(const std::string& task, int64_t version, const std::string& reason) {
  if (options_.read_only) return core::FailedPrecondition("student registry is read-only");
  std::lock_guard lock(mu_);
  return SetStatus(task, version, StudentStatus::kDemoted, reason);
}

core::Result<StudentRecord> Registry::Get(const std::string& task, int64_t version) {
  std::lock_guard lock(mu_);
  auto rows = Query("WHERE task = ? AND version = ?", {task}, {version});
  if (!rows.ok()) return rows.take_status();
  if (rows->empty()) {
    return core::NotFound("task '" + task + "' has no student version " + std::to_string(version));
  }
  return std::move(rows->front());
}

core::Result<std::vector<StudentRecord>> Registry::List(const std::string& task) {
  std::lock_guard lock(mu_);
  if (task.empty()) return Query("ORDER BY task, version", {}, {});
  return Query("WHERE task = ? ORDER BY version", {task}, {});
}

core::Result<std::optional<StudentRecord>> Registry::Promoted(const std::string& task) {
  std::lock_guard lock(mu_);
  auto rows = Query("WHERE task = ? AND status = 'promoted' ORDER BY version DESC", {task}, {});
  if (!rows.ok()) return rows.take_status();
  if (rows->empty()) return std::optional<StudentRecord>();
  return std::optional<StudentRecord>(std::move(rows->front()));
}

core::Result<std::vector<std::string>> Registry::Tasks() {
  std::lock_guard lock(mu_);
  auto rows = Query("ORDER BY task, version", {}, {});
  if (!rows.ok()) return rows.take_status();
  std::vector<std::string> tasks;
  for (const auto& r : *rows) {
    if (tasks.empty() || tasks.back() != r.task) tasks.push_back(r.task);
  }
  return tasks;
}

core::Result<Student> Registry::LoadStudent(const StudentRecord& record) const {
  if (record.model_path.empty()) {
    return core::FailedPrecondition("task '" + record.task + "' version " +
                                    std::to_string(record.version) + " has no model file any more");
  }
  auto student = Student::Load(ModelPath(record));
  if (!student.ok()) return student.take_status();
  student->set_identity(record.task, record.version);
  student->set_calibration(record.calibration);
  student->set_threshold(record.threshold);
  student->set_serving(record.status == StudentStatus::kPromoted);
  return student;
}

core::Result<Student> Registry::LoadCurrent(const std::string& task) {
  std::vector<StudentRecord> rows;
  {
    std::lock_guard lock(mu_);
    auto r = Query(
        "WHERE task = ? AND status IN ('promoted', 'shadow') AND model_path != '' "
        "ORDER BY (status = 'promoted') DESC, version DESC LIMIT 1",
        {task}, {});
    if (!r.ok()) return r.take_status();
    rows = std::move(*r);
  }
  if (rows.empty()) return core::NotFound("task '" + task + "' has no student");
  return LoadStudent(rows.front());
}

// Called with mu_ held.
core::Status Registry::PruneFiles(const std::string& task) {
  auto rows = Query("WHERE task = ? AND model_path != '' ORDER BY version DESC", {task}, {});
  if (!rows.ok()) return rows.take_status();
  size_t kept = 0;
  for (const auto& r : *rows) {
    if (r.status == StudentStatus::kPromoted) continue;
    if (kept < options_.keep_model_files) {
      ++kept;
      continue;
    }
    std::error_code ec;
    fs::remove(ModelPath(r), ec);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_->handle(),
                           "UPDATE students SET model_path = '' WHERE task = ? AND version = ?", -1,
                           &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return SqlError("cannot prune a model file");
    }
    Stmt stmt(raw);
    sqlite3_bind_text(raw, 1, task.data(), static_cast<int>(task.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(raw, 2, r.version);
    if (sqlite3_step(raw) != SQLITE_DONE) return SqlError("cannot prune a model file");
  }
  return core::Status::Ok();
}

// --- StudentSet --------------------------------------------------------------

std::shared_ptr<const Student> StudentSet::Get(std::string_view task) const {
  std::lock_guard lock(mu_);
  auto it = students_.find(task);
  return it == students_.end() ? nullptr : it->second;
}

void StudentSet::Set(const std::string& task, std::shared_ptr<const Student> student) {
  std::shared_ptr<const Student> old;  // released outside the lock
  std::lock_guard lock(mu_);
  auto it = students_.find(task);
  if (it != students_.end()) {
    old = std::move(it->second);
    if (student) {
      it->second = std::move(student);
    } else {
      students_.erase(it);
    }
  } else if (student) {
    students_.emplace(task, std::move(student));
  }
}

std::vector<std::string> StudentSet::Tasks() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(students_.size());
  for (const auto& [task, s] : students_) out.push_back(task);
  return out;
}

// --- Publishing ----------------------------------------------------------------

core::Result<PublishResult> PublishTrained(Registry& registry, StudentSet& set,
                                           const TrainedStudent& trained) {
  const ThresholdChoice& t = trained.threshold;
  const HoldoutMetrics& m = trained.metrics;
  const std::string target = Fixed(trained.options.target_agreement, 3);
  std::string reason;
  if (t.threshold) {
    reason = "held-out agreement lower bound " + Fixed(t.lower_bound, 4) + " >= target " + target +
             " at threshold " + Fixed(*t.threshold, 4) + " (coverage " + Fixed(t.coverage, 3) +
             " of " + std::to_string(m.holdout_examples) + " held-out labels)";
  } else {
    reason = "no threshold reaches target " + target + " (best lower bound " +
             Fixed(t.best_lower_bound, 4) + " on " + std::to_string(m.holdout_examples) +
             " held-out labels): stays in shadow";
  }
  auto record = registry.Register(trained, reason);
  if (!record.ok()) return record.take_status();
  PublishResult result;
  result.reason = reason;
  if (t.threshold) {
    if (auto s = registry.Promote(record->task, record->version, reason); !s.ok()) return s;
    record->status = StudentStatus::kPromoted;
    result.promoted = true;
  }
  result.record = *record;
  auto promoted = registry.Promoted(trained.task);
  if (!promoted.ok()) return promoted.take_status();
  if (result.promoted || !promoted->has_value()) {
    auto student = std::make_shared<Student>(trained.student);
    student->set_identity(record->task, record->version);
    student->set_serving(result.promoted);
    set.Set(trained.task, std::move(student));
  }
  return result;
}

core::Status DemoteServing(Registry& registry, StudentSet& set, const std::string& task,
                           int64_t version, const std::string& reason) {
  auto promoted = registry.Promoted(task);
  if (!promoted.ok()) return promoted.take_status();
  if (!promoted->has_value() || (*promoted)->version != version) {
    return core::NotFound("task '" + task + "' version " + std::to_string(version) +
                          " is not the promoted student");
  }
  if (auto s = registry.Demote(task, version, reason); !s.ok()) return s;
  auto current = set.Get(task);
  if (current && current->version() == version) {
    auto copy = std::make_shared<Student>(*current);
    copy->set_serving(false);
    set.Set(task, std::move(copy));
  }
  return core::Status::Ok();
}

core::Status LoadAll(Registry& registry, StudentSet& set) {
  auto tasks = registry.Tasks();
  if (!tasks.ok()) return tasks.take_status();
  core::Status first;
  for (const auto& task : *tasks) {
    auto student = registry.LoadCurrent(task);
    if (student.ok()) {
      set.Set(task, std::make_shared<const Student>(std::move(*student)));
    } else if (student.status().code() != core::StatusCode::kNotFound && first.ok()) {
      first = student.take_status();
    }
  }
  return first;
}

}  // namespace switchyard::learn
