// The student registry (versioned models, metadata in SQLite, model files on
// disk) and StudentSet, the live per-task student that requests read.
//
// Registry: table `students` (task, version, created_ms, updated_ms, status
// shadow|promoted|demoted|retired, threshold, calibration JSON, holdout
// metrics JSON, labels JSON, model_path, reason) and an append-only table
// `student_events` (task, version, at_ms, status, reason) logging every
// status change, in the SQLite file the caller names (the ledger's file is
// fine: the tables are our own, the connection too). A writable open puts the
// file in WAL mode with synchronous=NORMAL, as every store here (sqlite/db.h;
// the ledger's file is in WAL already): a commit survives a crash of the
// process, the last ones may be lost with the machine's power. Model files live at
// <model_dir>/students/<task>/v<N>.bin, stored relative to model_dir.
// Versions count from 1 per task. At most one version per task is promoted:
// promoting one retires the previous. Old model files are pruned: only the
// newest `keep_model_files` versions and the promoted one keep their file
// (a pruned version's model_path becomes "").
//
// Ownership: the Registry owns its connection; the clock must outlive it.
// Thread-safety: every method
// may be called from any thread (one internal mutex serialises them).
// Errors: Open: FailedPrecondition "student registry: <path>: <cause>
// (SQLite: <msg>)" (sqlite/db.h), "student registry: <path>: cannot create
// directory <dir> (<reason>)", "student registry: <path>: no such file"
// (read-only). Later calls: FailedPrecondition of the same form for SQLite
// failures, InvalidArgument "task name '<t>' must be ..." for a bad
// task name, NotFound "task '<t>' has no student version <n>" / "task '<t>'
// has no student", FailedPrecondition "student registry is read-only" and
// "task '<t>' version <n> has no model file any more" (pruned), Internal for
// model files that cannot be written.
//
// StudentSet: the serving snapshot. Get(task) returns the student a request
// should use (or null); Set swaps it atomically. A request keeps the
// shared_ptr it got for its whole life, so a swap never changes the model
// under a request in flight. Get holds a mutex only to copy one shared_ptr
// (tens of nanoseconds). std::atomic<std::shared_ptr> (libstdc++ 12 has it)
// was the first choice, but ThreadSanitizer does not understand its internal
// lock bit and reports false races, which would hide real ones in `make tsan`.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "learn/student.h"
#include "learn/trainer.h"

namespace switchyard::sqlite {
class Db;
}

namespace switchyard::learn {

enum class StudentStatus { kShadow, kPromoted, kDemoted, kRetired };

std::string_view StudentStatusName(StudentStatus status);  // "shadow", "promoted", ...
core::Result<StudentStatus> ParseStudentStatus(std::string_view name);

// InvalidArgument unless 1-64 of [A-Za-z0-9._-], not starting with '.'.
core::Status ValidateTaskName(std::string_view task);

struct StudentRecord {
  std::string task;
  int64_t version = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  StudentStatus status = StudentStatus::kShadow;
  std::optional<double> threshold;
  Calibration calibration;
  std::string metrics_json;         // HoldoutMetrics::ToJson()
  std::vector<std::string> labels;  // the task's labels when trained
  std::string model_path;           // relative to the model dir; "" once pruned
  std::string reason;               // why the last status change happened
};

struct RegistryOptions {
  std::string db_path;    // SQLite file (created with its directory)
  std::string model_dir;  // "" = the directory of db_path
  int busy_timeout_ms = 5000;
  size_t keep_model_files = 5;  // per task, besides the promoted version
  bool read_only = false;       // CLI: no creation, no writes; a database
                                // without the tables reads as empty
};

class Registry {
 public:
  static core::Result<std::unique_ptr<Registry>> Open(RegistryOptions options,
                                                      const core::Clock& clock);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Saves the model as the task's next version with status shadow.
  core::Result<StudentRecord> Register(const TrainedStudent& trained, const std::string& reason);
  // Promotes `version` (the previously promoted one becomes retired).
  core::Status Promote(const std::string& task, int64_t version, const std::string& reason);
  // Marks `version` demoted (it no longer serves).
  core::Status Demote(const std::string& task, int64_t version, const std::string& reason);

  core::Result<StudentRecord> Get(const std::string& task, int64_t version);
  // Versions of `task` ("" = every task), task then version ascending.
  core::Result<std::vector<StudentRecord>> List(const std::string& task = "");
  core::Result<std::optional<StudentRecord>> Promoted(const std::string& task);
  // The tasks that have at least one version.
  core::Result<std::vector<std::string>> Tasks();

  // The record's model, configured: identity, calibration, threshold, and
  // serving when the record is promoted.
  core::Result<Student> LoadStudent(const StudentRecord& record) const;
  // What should run for `task` after a restart: the promoted version, else the
  // newest shadow version (for shadow comparisons), else NotFound.
  core::Result<Student> LoadCurrent(const std::string& task);

  std::string ModelPath(const StudentRecord& record) const;  // absolute path
  const std::string& model_dir() const { return model_dir_; }

 private:
  Registry(RegistryOptions options, std::string model_dir, std::unique_ptr<sqlite::Db> db,
           const core::Clock& clock);
  core::Status Exec(const char* sql);
  core::Status SqlError(std::string_view doing) const;
  core::Status SetStatus(const std::string& task, int64_t version, StudentStatus status,
                         const std::string& reason);
  core::Result<std::vector<StudentRecord>> Query(const std::string& where,
                                                 const std::vector<std::string>& text_params,
                                                 const std::vector<int64_t>& int_params);
  core::Status PruneFiles(const std::string& task);

  RegistryOptions options_;
  std::string model_dir_;
  std::unique_ptr<sqlite::Db> db_;
  const core::Clock& clock_;
  bool has_tables_ = true;  // false: read-only on a file without our tables
  mutable std::mutex mu_;
};

class StudentSet {
 public:
  // The current student of `task`, or null.
  std::shared_ptr<const Student> Get(std::string_view task) const;
  // Replaces (or with null removes) the task's student.
  void Set(const std::string& task, std::shared_ptr<const Student> student);
  std::vector<std::string> Tasks() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Student>, std::less<>> students_;
};

// What PublishTrained did.
struct PublishResult {
  StudentRecord record;  // the new version (its status after publishing)
  bool promoted = false;
  std::string reason;
};

// Registers a freshly trained student and decides what serves:
//  - a threshold was found: the new version is promoted (the previous
//    promoted one retires) and becomes the task's student in `set`;
//  - no threshold: the new version stays in shadow; if no version is
//    promoted it becomes the task's (non-serving) student in `set`, so shadow
//    comparisons can run; otherwise the promoted version keeps serving.
core::Result<PublishResult> PublishTrained(Registry& registry, StudentSet& set,
                                           const TrainedStudent& trained);

// Demotes the task's promoted version (if it is still `version`) and swaps a
// non-serving copy into `set`. NotFound when `version` is not the promoted one.
core::Status DemoteServing(Registry& registry, StudentSet& set, const std::string& task,
                           int64_t version, const std::string& reason);

// Loads every task's current student (LoadCurrent) into `set`; tasks without
// a student are skipped. Returns the first load error (other tasks still load).
core::Status LoadAll(Registry& registry, StudentSet& set);

}  // namespace switchyard::learn
