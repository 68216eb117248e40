#include "ledger/sqlite_store.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ledger/template_hash.h"
#include "ledger_test_util.h"

namespace switchyard::ledger {
namespace {

using testing::SampleRecord;
using testing::TempDir;

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path, SqliteOptions options = {}) {
  auto store = SqliteStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<Record> ScanAll(Store& store, bool bodies) {
  std::vector<Record> out;
  auto st = store.Scan({.since_ms = 0, .include_bodies = bodies}, [&](Record& r) {
    out.push_back(r);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// A raw SQLite connection the test uses to play "another process".
struct RawDb {
  explicit RawDb(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db); }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  sqlite3* db = nullptr;
};

// A record with nothing but an id and a time: every other field at its
// default (stored as NULL since schema v5, read back as the default).
Record BareRecord(int n) {
  Record r;
  r.id = "bare-" + std::to_string(n);
  r.ts_ms = 1'714'564'900'000 + n;
  return r;
}

// Writes `rows` into a new ledger file in the column-per-field layout of
// schema `version` (2: plain rowids, no route_reason; 4: time-slotted rowids,
// NOT NULL columns; 5: as 4 with NULL for every default), as that version's
// writer would have.
void WriteColumnLayout(const std::string& path, int version, const std::vector<Record>& rows) {
  RawDb raw(path);
  const bool nulls = version >= 5;
  const char* nn = nulls ? "" : " NOT NULL";
  std::string table = "CREATE TABLE records (seq INTEGER PRIMARY KEY, id TEXT NOT NULL" +
                      std::string(version < 4 ? " UNIQUE" : "") + ", ts_ms INTEGER NOT NULL";
  for (const char* col : {"tenant TEXT",
                          "task TEXT",
                          "route TEXT",
                          "stages_tried TEXT",
                          "answered_by TEXT",
                          "provider TEXT",
                          "model TEXT",
                          "stream INTEGER",
                          "attempts INTEGER",
                          "input_tokens INTEGER",
                          "cached_input_tokens INTEGER",
                          "cache_write_tokens INTEGER",
                          "output_tokens INTEGER",
                          "reasoning_tokens INTEGER",
                          "usage_estimated INTEGER",
                          "cost_usd REAL",
                          "first_byte_ms REAL",
                          "total_ms REAL",
                          "status INTEGER",
                          "error_code TEXT",
                          "escalated INTEGER"}) {
    table += std::string(", ") + col + nn;
  }
  table += ", confidence REAL, template_hash TEXT" + std::string(nn);
  if (version >= 3) table += ", route_reason TEXT" + std::string(nn);
  table += ", request_body TEXT" + std::string(nn) + ", response_body TEXT" + nn +
           ", pii_findings TEXT" + nn + ");";
  ASSERT_EQ(raw.Exec(table + "PRAGMA journal_mode=WAL; PRAGMA user_version = " +
                     std::to_string(version) + ";"),
            SQLITE_OK)
      << sqlite3_errmsg(raw.db);
  auto q = [nulls](const std::string& v) { return v.empty() && nulls ? "NULL" : "'" + v + "'"; };
  auto i = [nulls](int64_t v) { return v == 0 && nulls ? "NULL" : std::to_string(v); };
  auto d = [nulls](double v) {
    if (v == 0 && nulls) return std::string("NULL");
    char num[64];
    std::snprintf(num, sizeof num, "%.17g", v);
    return std::string(num);
  };
  for (const Record& r : rows) {
    const std::string seq = version < 4
                                ? "NULL"
                                : std::to_string(r.ts_ms * (int64_t{1} << 20) +
                                                 static_cast<int64_t>(Fnv1a64(r.id) & 0xFFFFF));
    std::string stages = "[";
    for (const auto& st : r.stages_tried) stages += (stages.size() > 1 ? ",\"" : "\"") + st + "\"";
    stages += "]";
    std::string sql =
        "INSERT INTO records VALUES (" + seq + ",'" + r.id + "'," + std::to_string(r.ts_ms) + "," +
        q(r.tenant) + "," + q(r.task) + "," + q(r.route) + "," +
        (r.stages_tried.empty() && nulls ? "NULL" : q(stages)) + "," + q(r.answered_by) + "," +
        q(r.provider) + "," + q(r.model) + "," + i(r.stream) + "," + i(r.attempts) + "," +
        i(r.input_tokens) + "," + i(r.cached_input_tokens) + "," + i(r.cache_write_tokens) + "," +
        i(r.output_tokens) + "," + i(r.reasoning_tokens) + "," + i(r.usage_estimated) + "," +
        d(r.cost_usd) + "," + d(r.first_byte_ms) + "," + d(r.total_ms) + "," + i(r.status) + "," +
        q(r.error_code) + "," + i(r.escalated) + "," +
        (r.confidence ? d(*r.confidence) == "NULL" ? "0" : d(*r.confidence) : "NULL") + "," +
        q(r.template_hash);
    if (version >= 3) sql += "," + q(r.route_reason);
    sql += "," + q(r.request_body) + "," + q(r.response_body) + "," + q(r.pii_findings) + ")";
    ASSERT_EQ(raw.Exec(sql), SQLITE_OK) << sql << ": " << sqlite3_errmsg(raw.db);
  }
}

TEST(SqliteStoreTest, CreatesDirectoryAndSchemaAndMigrationIsIdempotent) {
  TempDir dir;
  const std::string path = LedgerDbPath(dir.path() + "/sub/dir");
  EXPECT_EQ(path, dir.path() + "/sub/dir/ledger.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    auto v = store->SchemaVersion();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, kLedgerSchemaVersion);
    auto written = store->WriteBatch(std::vector<Record>{SampleRecord(1)});
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    // Migrate() again on a current schema is a no-op.
    EXPECT_TRUE(store->Migrate().ok());
  }
  auto again = OpenOrDie(path);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again->SchemaVersion(), kLedgerSchemaVersion);
  EXPECT_EQ(*again->Count(), 1);

  RawDb raw(path);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db,
                               "SELECT group_concat(name, ',') FROM (SELECT name FROM "
                               "sqlite_master WHERE type='index' AND name LIKE 'records_%' "
                               "ORDER BY name)",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  // Migration 2 dropped the composite indexes no query used; migration 4 the
  // ts_ms index and the UNIQUE index on id (time-slotted rowids replace both).
  EXPECT_EQ(sqlite3_column_type(stmt, 0), SQLITE_NULL)
      << reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
}

// Migration 3 adds route_reason to a version-2 file, migration 4 moves the
// rows to time-slotted rowids, 5 and 6 re-encode them; every row is kept and
// still deduplicated.
TEST(SqliteStoreTest, MigratesAVersionTwoFileKeepingRowsAndDeduplication) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  Record migrated = SampleRecord(0);
  migrated.route_reason.clear();  // the column did not exist in version 2
  WriteColumnLayout(path, 2, {migrated});
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->SchemaVersion(), kLedgerSchemaVersion);
  std::vector<Record> two{SampleRecord(0), SampleRecord(1)};
  auto written = store->WriteBatch(two);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 1u);  // the migrated record is recognised as stored
  const std::vector<Record> rows = ScanAll(*store, true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], migrated);
  EXPECT_EQ(rows[1].route_reason, "latency_slo");
}

// Records of one millisecond whose ids hash to the same slot are both kept,
// found again as duplicates, and a scan from that millisecond returns them.
TEST(SqliteStoreTest, IdsSharingAMillisecondSlotAreProbedNotLost) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  // Two ids whose FNV-1a low 20 bits agree (birthday search, deterministic).
  std::unordered_map<uint64_t, std::string> seen;
  std::string a, b;
  for (int i = 0; a.empty(); ++i) {
    std::string id = "req-" + std::to_string(i);
    auto [it, fresh] = seen.emplace(Fnv1a64(id) & 0xFFFFF, id);
    if (!fresh) {
      a = it->second;
      b = id;
    }
  }
  std::vector<Record> batch(3, SampleRecord(1));
  batch[0].id = a;
  batch[1].id = b;
  batch[2].id = "other";
  for (auto& r : batch) r.ts_ms = 1'700'000'000'123;
  auto written = store->WriteBatch(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 3u);
  EXPECT_EQ(*store->WriteBatch(batch), 0u);  // b is found past a's slot
  EXPECT_EQ(*store->Count(), 3);
  std::vector<std::string> ids;
  ASSERT_TRUE(store
                  ->Scan({.since_ms = 1'700'000'000'123},
                         [&ids](Record& r) {
                           ids.push_back(r.id);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(ids.size(), 3u);
  ids.clear();
  ASSERT_TRUE(store
                  ->Scan({.since_ms = 1'700'000'000'124},
                         [&ids](Record& r) {
                           ids.push_back(r.id);
                           return true;
                         })
                  .ok());
  EXPECT_TRUE(ids.empty());
}

// Batches go in multi-row statements of kRowsPerInsert; a chunk holding a
// duplicate falls back to row-by-row inserts without losing its other rows.
TEST(SqliteStoreTest, MultiRowChunkWithADuplicateKeepsEveryOtherRow) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> first{SampleRecord(3)};
  ASSERT_TRUE(store->WriteBatch(first).ok());
  std::vector<Record> batch;
  for (int i = 0; i < SqliteStore::kRowsPerInsert * 2 + 5; ++i) {
    Record r = SampleRecord(100 + i);
    r.ts_ms = 1'700'000'000'000 + i % 4;  // a few records per millisecond
    batch.push_back(std::move(r));
  }
  batch[7] = SampleRecord(3);  // stored before: chunk 1
  batch[SqliteStore::kRowsPerInsert + 2] = batch[SqliteStore::kRowsPerInsert + 1];  // chunk 2
  auto written = store->WriteBatch(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, batch.size() - 2);
  EXPECT_EQ(*store->Count(), static_cast<int64_t>(batch.size() - 1));
  std::vector<Record> all = ScanAll(*store, true);
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.id);
  for (const auto& r : batch) EXPECT_EQ(ids.count(r.id), 1u) << r.id;
  // Scans come back in time order.
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const Record& a, const Record& b) { return a.ts_ms < b.ts_ms; }));
  EXPECT_EQ(*store->WriteBatch(batch), 0u);
}

// A batch is inserted in rowid order, not arrival order: arrival order must
// still decide which of two records with one id is kept (the first).
TEST(SqliteStoreTest, OutOfOrderBatchKeepsTheFirstOfARepeatedId) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch;
  for (int i = 0; i < 40; ++i) {
    Record r = SampleRecord(200 + i);
    r.ts_ms = 1'700'000'000'000 + (39 - i) / 8;  // newest first, 8 per millisecond
    batch.push_back(std::move(r));
  }
  Record again = batch[5];
  again.model = "the-second-copy";
  batch.push_back(again);
  auto written = store->WriteBatch(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 40u);
  std::vector<Record> all = ScanAll(*store, true);
  ASSERT_EQ(all.size(), 40u);
  const auto kept =
      std::find_if(all.begin(), all.end(), [&](const Record& r) { return r.id == batch[5].id; });
  ASSERT_NE(kept, all.end());
  EXPECT_EQ(*kept, batch[5]);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const Record& a, const Record& b) { return a.ts_ms < b.ts_ms; }));
}

TEST(SqliteStoreTest, RecordTimeOutsideTheSlottedRangeIsRejectedWholeBatch) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch{SampleRecord(1), SampleRecord(2)};
  batch[1].ts_ms = -5;
  auto written = store->WriteBatch(batch);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().message(),
            "ledger: record " + batch[1].id + " has ts_ms -5 outside 0..8796093022206");
  EXPECT_EQ(*store->Count(), 0);  // all or nothing
}

TEST(SqliteStoreTest, WritesAndReadsBackEveryField) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(SampleRecord(i));
  batch[1].confidence.reset();
  batch[2].stages_tried.clear();
  batch[3].status = 502;
  batch[3].error_code = "upstream_unavailable";
  batch[3].answered_by = "";
  auto written = store->WriteBatch(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 5u);
  EXPECT_EQ(*store->Count(), 5);

  const std::vector<Record> with_bodies = ScanAll(*store, true);
  EXPECT_EQ(with_bodies, batch);

  // Without bodies: the same records minus the payload fields.
  const std::vector<Record> without = ScanAll(*store, false);
  ASSERT_EQ(without.size(), batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    Record expected = batch[i];
    expected.request_body.clear();
    expected.response_body.clear();
    expected.pii_findings.clear();
    EXPECT_EQ(without[i], expected) << i;
  }
}

// Batches of every chunk size (16, 8, 4, 2, 1 rows per statement) keep every
// field: defaults, values that repeat from row to row (bound once), values
// that change back to a default in the same statement slot, and a confidence
// of 0 (a value, not "none").
TEST(SqliteStoreTest, EveryChunkSizeKeepsEveryFieldAcrossBatches) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  const int n = SqliteStore::kRowsPerInsert + 8 + 4 + 2 + 1;
  std::vector<Record> first, second;
  for (int i = 0; i < n; ++i) {
    Record full = SampleRecord(i);
    full.confidence = i % 4 == 0 ? std::optional<double>(0.0) : std::optional<double>(0.5 + i);
    if (i % 5 == 0) full.confidence.reset();
    Record bare = BareRecord(i);
    first.push_back(i % 3 == 0 ? bare : full);
    // The same statement slots, with defaults and values swapped.
    Record again = i % 3 == 0 ? SampleRecord(1000 + i) : BareRecord(1000 + i);
    again.ts_ms += 5000;
    second.push_back(again);
  }
  ASSERT_EQ(*store->WriteBatch(first), first.size());
  ASSERT_EQ(*store->WriteBatch(second), second.size());
  std::vector<Record> expected = first;
  expected.insert(expected.end(), second.begin(), second.end());
  std::sort(expected.begin(), expected.end(),
            [](const Record& a, const Record& b) { return a.ts_ms < b.ts_ms; });
  const std::vector<Record> all = ScanAll(*store, true);
  ASSERT_EQ(all.size(), expected.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], expected[i]) << i;
  EXPECT_EQ(*store->WriteBatch(first), 0u);  // still deduplicated
}

// Version-4 (NOT NULL columns, '' and 0 stored) and version-5 (NULL for a
// default) ledgers are migrated to version 6 (one encoded value per record)
// without losing a row or a field, and their records are still recognised as
// stored.
TEST(SqliteStoreTest, MigratesVersionFourAndFiveFilesKeepingEveryField) {
  for (int version : {4, 5}) {
    SCOPED_TRACE(version);
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    std::vector<Record> rows = {SampleRecord(1), SampleRecord(2), BareRecord(3)};
    rows[1].confidence.reset();
    rows[1].error_code = "upstream_error";
    rows[1].stages_tried = {rows[1].answered_by};
    WriteColumnLayout(path, version, rows);
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(*store->SchemaVersion(), 6);
    EXPECT_EQ(ScanAll(*store, true), rows);
    EXPECT_EQ(*store->WriteBatch(rows), 0u);
    std::vector<Record> more = {BareRecord(4), SampleRecord(5)};
    EXPECT_EQ(*store->WriteBatch(more), 2u);
    EXPECT_EQ(*store->Count(), 5);

    RawDb raw(path);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw.db,
                                 "SELECT group_concat(name, ',') FROM pragma_table_info('records')",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "seq,body");
    sqlite3_finalize(stmt);
  }
}

// A stored value that does not decode fails the scan with the record's seq
// and the cause; a write that probes its slot goes on to the next one.
TEST(SqliteStoreTest, UndecodableRecordGivesClearErrorNotACrash) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  std::vector<Record> one{SampleRecord(1)};
  ASSERT_TRUE(store->WriteBatch(one).ok());
  const int64_t seq =
      one[0].ts_ms * (int64_t{1} << 20) + static_cast<int64_t>(Fnv1a64(one[0].id) & 0xFFFFF);
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("UPDATE records SET body = x'01037265' WHERE seq = " + std::to_string(seq)),
              SQLITE_OK);
  }
  const std::string expected = "ledger: " + path + ": database file is corrupt (record at seq " +
                               std::to_string(seq) + ": record truncated in field id)";
  auto st = store->Scan({}, [](Record&) { return true; });
  EXPECT_EQ(st.message(), expected);
  auto latest = store->Latest(5);
  EXPECT_EQ(latest.status().message(), expected);
  // Writing the same id probes that slot: the undecodable row is not taken for
  // it (nor does it stop the writer); the record goes to the next slot.
  auto again = store->WriteBatch(one);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 1u);
  EXPECT_EQ(*store->Count(), 2);
}

// A batch with large bodies does not leave its encode buffers behind: the
// writer's memory stays flat after one large answer.
TEST(SqliteStoreTest, LargeBodiesDoNotKeepTheirEncodeBuffers) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> big;
  for (int i = 0; i < 8; ++i) {
    big.push_back(SampleRecord(i));
    big.back().response_body.assign(size_t{1} << 20, 'x');
  }
  ASSERT_EQ(*store->WriteBatch(big), 8u);
  EXPECT_LE(store->scratch_bytes(), 8 * SqliteStore::kKeptScratchBytes);
  std::vector<Record> small = {SampleRecord(100), SampleRecord(101)};
  ASSERT_EQ(*store->WriteBatch(small), 2u);
  const size_t kept = store->scratch_bytes();
  EXPECT_GT(kept, 0u);  // small buffers are kept for reuse
  EXPECT_LE(kept, 8 * SqliteStore::kKeptScratchBytes);
  EXPECT_EQ(ScanAll(*store, true)[3].response_body.size(), size_t{1} << 20);
}

TEST(SqliteStoreTest, InsertIsIdempotentOnId) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch = {SampleRecord(1), SampleRecord(2)};
  EXPECT_EQ(*store->WriteBatch(batch), 2u);
  Record changed = SampleRecord(2);
  changed.cost_usd = 99;
  std::vector<Record> again = {SampleRecord(1), changed, SampleRecord(3), SampleRecord(3)};
  auto n = store->WriteBatch(again);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);  // only req-3, once
  EXPECT_EQ(*store->Count(), 3);
  const auto all = ScanAll(*store, true);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1], SampleRecord(2));  // the first write wins
  EXPECT_EQ(*store->WriteBatch({}), 0u);
}

TEST(SqliteStoreTest, ScanFiltersBySinceAndLatestReturnsNewestOldestFirst) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch;
  for (int i : {4, 0, 3, 1, 2}) batch.push_back(SampleRecord(i));
  ASSERT_TRUE(store->WriteBatch(batch).ok());

  std::vector<std::string> ids;
  ASSERT_TRUE(store
                  ->Scan({.since_ms = SampleRecord(2).ts_ms},
                         [&](Record& r) {
                           ids.push_back(r.id);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"req-2", "req-3", "req-4"}));

  ids.clear();
  ASSERT_TRUE(store
                  ->Scan({},
                         [&](Record& r) {
                           ids.push_back(r.id);
                           return ids.size() < 2;  // stop early
                         })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"req-0", "req-1"}));

  auto latest = store->Latest(3);
  ASSERT_TRUE(latest.ok());
  ids.clear();
  for (const auto& r : *latest) {
    ids.push_back(r.id);
    EXPECT_EQ(r.request_body, "");
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"req-2", "req-3", "req-4"}));
  EXPECT_EQ(store->Latest(100)->size(), 5u);
}

TEST(SqliteStoreTest, FileThatIsNotADatabaseGivesExactError) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  testing::WriteFile(path, std::string(8192, 'x'));
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "ledger: " + path + ": file is not a database (SQLite: file is not a database)");
  // The file is left as it was.
  EXPECT_EQ(testing::ReadFile(path), std::string(8192, 'x'));
}

TEST(SqliteStoreTest, CorruptDatabaseGivesClearError) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    std::vector<Record> batch;
    for (int i = 0; i < 200; ++i) batch.push_back(SampleRecord(i));
    ASSERT_TRUE(store->WriteBatch(batch).ok());
  }
  {
    RawDb raw(path);  // fold the WAL into the main file and leave WAL mode
    ASSERT_EQ(raw.Exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;"), SQLITE_OK);
  }
  // Keep the 100-byte header valid, overwrite the schema page after it.
  std::string bytes = testing::ReadFile(path);
  ASSERT_GT(bytes.size(), 4096u);
  for (size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<char>(0xA5);
  testing::WriteFile(path, bytes);

  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(), "ledger: " + path +
                                          ": database file is corrupt (SQLite: database disk "
                                          "image is malformed)");
}

TEST(SqliteStoreTest, DatabaseLockedByAnotherConnectionGivesClearError) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  RawDb other(path);
  ASSERT_EQ(other.Exec("CREATE TABLE t(x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);"), SQLITE_OK);
  auto store = SqliteStore::Open(path, {.busy_timeout_ms = 50});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "ledger: " + path +
                ": database is locked by another process or connection (SQLite: database is "
                "locked)");
  ASSERT_EQ(other.Exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(SqliteStore::Open(path).ok());
}

TEST(SqliteStoreTest, WriteLockHeldOnAnExistingLedgerFailsStartUpAndLaterWrites) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path, {.busy_timeout_ms = 50});
  ASSERT_NE(store, nullptr);
  RawDb other(path);
  ASSERT_EQ(other.Exec("BEGIN IMMEDIATE"), SQLITE_OK);

  auto second = SqliteStore::Open(path, {.busy_timeout_ms = 50});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            "ledger: " + path +
                ": database is locked by another process or connection (SQLite: database is "
                "locked)");

  auto written = store->WriteBatch(std::vector<Record>{SampleRecord(1)});
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().message(), second.status().message());
  ASSERT_EQ(other.Exec("ROLLBACK"), SQLITE_OK);
  // The failed batch left no transaction open: the same store writes now.
  written = store->WriteBatch(std::vector<Record>{SampleRecord(1)});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*store->Count(), 1);
}

TEST(SqliteStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = 7"), SQLITE_OK);
  }
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(), "ledger: " + path +
                                          ": schema version 7 is newer than this build supports (" +
                                          std::to_string(kLedgerSchemaVersion) + ")");
}

TEST(SqliteStoreTest, ReadOnlyOpensACurrentLedgerAndRefusesWrites) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto missing = SqliteStore::Open(path, {.read_only = true});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "ledger: " + path + ": cannot open the file (SQLite: unable to open database file)");
  {
    RawDb raw(path);  // an empty SQLite file: schema version 0
    ASSERT_EQ(raw.Exec("CREATE TABLE other(x)"), SQLITE_OK);
  }
  auto old = SqliteStore::Open(path, {.read_only = true});
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().message(), "ledger: " + path + ": schema version 0, this build needs " +
                                        std::to_string(kLedgerSchemaVersion) +
                                        " (open it once read-write, e.g. start the "
                                        "gateway)");
  {
    auto rw = OpenOrDie(path);
    ASSERT_NE(rw, nullptr);
    ASSERT_TRUE(rw->WriteBatch(std::vector<Record>{SampleRecord(1)}).ok());
  }
  auto ro = OpenOrDie(path, {.read_only = true});
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(*ro->Count(), 1);
  auto w = ro->WriteBatch(std::vector<Record>{SampleRecord(2)});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message(), "ledger: " + path + ": opened read-only");
}

}  // namespace
}  // namespace switchyard::ledger
