// OutcomeStore: paired answers of a router or cascade route's two targets,
// kept in SQLite (table `router_outcomes` in the file the caller names — the
// ledger's file in `switchyard serve`; the table and the connection are our
// own). One row per shadow-sampled request (gateway/shadow.h): the prompt,
// the weak target's answer (with its token logprobs when the backend
// returned them) and the strong target's answer. `switchyard router export`
// turns the rows into the outcome CSV that `router train` reads
// (routing/outcome_export.h).
//
// Texts are kept up to kMaxOutcomeTextBytes each (cut at a UTF-8 character
// boundary), whatever the ledger's payload retention: sampling a route for
// shadow outcomes is the operator's consent to keep these answers.
//
// Ownership: the store owns its connection; the clock must outlive it.
// Thread-safety: every method may be called from any thread (one internal
// mutex serialises them). Calls do disk I/O: keep them off event loops.
// Errors: FailedPrecondition "router outcomes: <path>: <cause> (SQLite:
// <msg>)" (sqlite/db.h). A failed batch is rolled back whole.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace switchyard::sqlite {
class Db;
}

namespace switchyard::routing {

inline constexpr size_t kMaxOutcomeTextBytes = size_t{64} * 1024;

struct PairedOutcome {
  std::string route;
  std::string request_id;
  int64_t ts_ms = 0;  // set by AddBatch when 0
  std::string prompt;
  std::string subject;      // "" = none
  std::string weak_target;  // "provider/model" labels
  std::string weak_response;
  std::string weak_finish;            // finish_reason ("" when unknown)
  std::vector<double> weak_logprobs;  // empty when the backend returned none
  std::string strong_target;
  std::string strong_response;
  std::string strong_finish;
  // Which answer the shadow call produced (its target label; "" when both
  // came from the request itself, a cascade that escalated) and what it cost.
  std::string shadow_target;
  double shadow_cost_usd = 0;
};

class OutcomeStore {
 public:
  // Opens (creating the file, its directory and the table when needed; WAL
  // mode, synchronous=NORMAL, as every store: sqlite/db.h).
  static core::Result<std::unique_ptr<OutcomeStore>> Open(const std::string& db_path,
                                                          const core::Clock& clock,
                                                          int busy_timeout_ms = 5000);
  ~OutcomeStore();
  OutcomeStore(const OutcomeStore&) = delete;
  OutcomeStore& operator=(const OutcomeStore&) = delete;

  // Appends rows in one transaction (all or none).
  core::Status AddBatch(const std::vector<PairedOutcome>& rows);
  // The rows of `route` with ts_ms >= since_ms, oldest first.
  core::Result<std::vector<PairedOutcome>> Load(std::string_view route, int64_t since_ms = 0);
  // Row counts per route, by route name.
  core::Result<std::vector<std::pair<std::string, int64_t>>> CountByRoute();

 private:
  OutcomeStore(std::unique_ptr<sqlite::Db> db, const core::Clock& clock);
  core::Status AddBatchLocked(const std::vector<PairedOutcome>& rows);

  std::unique_ptr<sqlite::Db> db_;
  const core::Clock& clock_;
  std::mutex mu_;
};

}  // namespace switchyard::routing
