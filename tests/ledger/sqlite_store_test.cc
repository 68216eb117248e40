#include "ledger/sqlite_store.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_map>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ledger/record_codec.h"
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
  // The first column of the first row of `sql` as text: "NULL" for a NULL,
  // "no row" / "error: <message>" when there is no value to show.
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return std::string("error: ") + sqlite3_errmsg(db);
    }
    std::string out = "no row";
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      out = text == nullptr ? "NULL" : text;
    }
    sqlite3_finalize(stmt);
    return out;
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
  // Migration 7 replaced the row per record (and its table) by chunks and
  // their one time index.
  EXPECT_EQ(raw.Text("SELECT group_concat(type || ' ' || name, ',') FROM (SELECT type, name FROM "
                     "sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name)"),
            "table chunks,index chunks_by_time");
  // Migration 9: the index holds max_ts too (a replay filters on it alone).
  EXPECT_EQ(raw.Text("SELECT group_concat(name, ',') FROM pragma_index_info('chunks_by_time')"),
            "min_ts,max_ts");
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Text("PRAGMA page_size"), "16384");  // a new file's page size
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

// Many records of one millisecond are all kept, found again as stored, and
// a scan from that millisecond returns them (and none from the next).
TEST(SqliteStoreTest, RecordsOfOneMillisecondAreAllKeptAndFoundAgain) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch(40, SampleRecord(1));
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].id = "req-" + std::to_string(i);
    batch[i].ts_ms = 1'700'000'000'123;
  }
  auto written = store->WriteBatch(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 40u);
  EXPECT_EQ(*store->WriteBatch(batch), 0u);
  EXPECT_EQ(*store->Count(), 40);
  std::vector<std::string> ids;
  auto collect = [&ids](Record& r) {
    ids.push_back(r.id);
    return true;
  };
  ASSERT_TRUE(store->Scan({.since_ms = 1'700'000'000'123}, collect).ok());
  std::vector<std::string> expected;
  for (const Record& r : batch) expected.push_back(r.id);
  EXPECT_EQ(ids, expected);  // equal times: arrival order
  ids.clear();
  ASSERT_TRUE(store->Scan({.since_ms = 1'700'000'000'124}, collect).ok());
  EXPECT_TRUE(ids.empty());
}

// A batch larger than a chunk goes in several chunks; with kSkipStored a
// record stored before and a repeat within the batch are skipped across
// chunk boundaries, and every other record is kept once.
TEST(SqliteStoreTest, BatchOfSeveralChunksSkipsStoredAndRepeatedIds) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  std::vector<Record> first{SampleRecord(3)};
  ASSERT_TRUE(store->WriteBatch(first).ok());
  std::vector<Record> batch;
  const size_t n = SqliteStore::kChunkRecords * 2 + 5;
  for (size_t i = 0; i < n; ++i) {
    Record r = SampleRecord(100 + static_cast<int>(i));
    r.ts_ms = 1'700'000'000'000 + static_cast<int64_t>(i % 4);  // a few per millisecond
    batch.push_back(std::move(r));
  }
  batch[7] = SampleRecord(3);                                                     // stored before
  batch[SqliteStore::kChunkRecords + 2] = batch[SqliteStore::kChunkRecords + 1];  // repeated
  auto written = store->WriteBatch(batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, batch.size() - 2);
  EXPECT_EQ(*store->Count(), static_cast<int64_t>(batch.size() - 1));
  std::vector<Record> all = ScanAll(*store, true);
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.id);
  EXPECT_EQ(ids.size(), all.size());
  for (const auto& r : batch) EXPECT_EQ(ids.count(r.id), 1u) << r.id;
  // Scans come back in time order.
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const Record& a, const Record& b) { return a.ts_ms < b.ts_ms; }));
  EXPECT_EQ(*store->WriteBatch(batch), 0u);
  RawDb raw(path);
  EXPECT_GE(std::stoi(raw.Text("SELECT count(*) FROM chunks")), 4);  // 1 + at least 3
  EXPECT_LE(std::stoll(raw.Text("SELECT max(n) FROM chunks")),
            static_cast<int64_t>(SqliteStore::kChunkRecords));
  EXPECT_EQ(raw.Text("SELECT sum(n) FROM chunks"), std::to_string(batch.size() - 1));
}

// IdCheck::kNew (the writer's queue) looks nothing up: the caller vouches for
// new ids, so a repeated one is stored again.
TEST(SqliteStoreTest, NewIdsAreWrittenWithoutALookup) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch = {SampleRecord(1), SampleRecord(2)};
  EXPECT_EQ(*store->WriteBatch(batch, IdCheck::kNew), 2u);
  EXPECT_EQ(*store->WriteBatch(batch, IdCheck::kNew), 2u);
  EXPECT_EQ(*store->Count(), 4);
  EXPECT_EQ(*store->WriteBatch(batch), 0u);  // kSkipStored finds them
}

// Records of one batch more than kMaxChunkSpanMs apart go into separate
// chunks, and scans and Latest merge chunks of several batches by time
// (equal times in storage order).
TEST(SqliteStoreTest, ChunksSplitByTimeSpanAndMergeInTimeOrder) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  constexpr int64_t kBase = 1'700'000'000'000;
  constexpr int64_t kSpan = SqliteStore::kMaxChunkSpanMs;
  auto at = [&](std::string id, int64_t ts) {
    Record r = SampleRecord(1);
    r.id = std::move(id);
    r.ts_ms = kBase + ts;
    return r;
  };
  // A long stream finishing with quick requests: 0 and kSpan + 1 apart.
  std::vector<Record> one = {at("q1", kSpan + 1), at("stream", 0), at("q2", kSpan + 30)};
  std::vector<Record> two = {at("m1", kSpan + 10), at("m2", kSpan + 30), at("m0", 5)};
  ASSERT_EQ(*store->WriteBatch(one, IdCheck::kNew), 3u);
  ASSERT_EQ(*store->WriteBatch(two, IdCheck::kNew), 3u);
  std::vector<std::string> ids;
  auto collect = [&ids](Record& r) {
    ids.push_back(r.id);
    return true;
  };
  ASSERT_TRUE(store->Scan({.since_ms = kBase}, collect).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"stream", "m0", "q1", "m1", "q2", "m2"}));
  ids.clear();
  ASSERT_TRUE(store->Scan({.since_ms = kBase + 5}, collect).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"m0", "q1", "m1", "q2", "m2"}));
  ids.clear();
  ASSERT_TRUE(store->Scan({.since_ms = kBase + kSpan + 11}, collect).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"q2", "m2"}));
  auto latest = store->Latest(3);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  ids.clear();
  for (Record& r : *latest) collect(r);
  EXPECT_EQ(ids, (std::vector<std::string>{"m1", "q2", "m2"}));
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT group_concat(n, ',') FROM (SELECT n FROM chunks ORDER BY seq)"),
            "1,2,1,2");
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

// Any time fits (a clock before 1970 or far ahead is kept, not refused), and
// the time arithmetic of scans does not overflow at the ends of the range.
TEST(SqliteStoreTest, AnyRecordTimeIsStoredAndScannedInOrder) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch{SampleRecord(1), SampleRecord(2), SampleRecord(3), SampleRecord(4)};
  batch[0].ts_ms = INT64_MAX;
  batch[1].ts_ms = -5;
  batch[2].ts_ms = INT64_MIN;
  batch[3].ts_ms = 0;
  ASSERT_EQ(*store->WriteBatch(batch), 4u);
  EXPECT_EQ(*store->WriteBatch(batch), 0u);
  std::vector<int64_t> times;
  ASSERT_TRUE(store
                  ->Scan({.since_ms = INT64_MIN},
                         [&times](Record& r) {
                           times.push_back(r.ts_ms);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(times, (std::vector<int64_t>{INT64_MIN, -5, 0, INT64_MAX}));
  auto latest = store->Latest(1);
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].ts_ms, INT64_MAX);
  EXPECT_EQ(store->Latest(0)->size(), 0u);
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

// Batches spanning more than a chunk keep every field: defaults, values that
// repeat from record to record, values that change back to a default, and a
// confidence of 0 (a value, not "none").
TEST(SqliteStoreTest, EveryChunkSizeKeepsEveryFieldAcrossBatches) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("ledger.db"));
  ASSERT_NE(store, nullptr);
  const int n = static_cast<int>(SqliteStore::kChunkRecords) + 31;
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
// default) ledgers are migrated to version 7 (chunks of encoded records)
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
    EXPECT_EQ(*store->SchemaVersion(), kLedgerSchemaVersion);
    EXPECT_EQ(ScanAll(*store, true), rows);
    EXPECT_EQ(*store->WriteBatch(rows), 0u);
    std::vector<Record> more = {BareRecord(4), SampleRecord(5)};
    EXPECT_EQ(*store->WriteBatch(more), 2u);
    EXPECT_EQ(*store->Count(), 5);

    RawDb raw(path);
    EXPECT_EQ(raw.Text("SELECT group_concat(name, ',') FROM pragma_table_info('chunks')"),
              "seq,min_ts,max_ts,n,body,payloads");
  }
}

// Writes `rows` into a new ledger file in schema 6's layout (a row per
// record: the encoded record at a time-slotted seq), as that writer would have.
void WriteVersionSix(const std::string& path, const std::vector<Record>& rows,
                     const std::vector<std::string>& raw_bodies = {}) {
  RawDb raw(path);
  ASSERT_EQ(raw.Exec("CREATE TABLE records (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);"
                     "PRAGMA user_version = 6;"),
            SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw.db, "INSERT INTO records (seq, body) VALUES (?1, ?2)", -1,
                               &insert, nullptr),
            SQLITE_OK);
  std::string scratch;
  int64_t last = 0;
  for (const Record& r : rows) {
    last = r.ts_ms * (int64_t{1} << 20) + static_cast<int64_t>(Fnv1a64(r.id) & 0xFFFFF);
    const std::string_view body = EncodeRecord(r, scratch);
    sqlite3_bind_int64(insert, 1, last);
    sqlite3_bind_blob(insert, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_reset(insert);
  }
  for (const std::string& body : raw_bodies) {
    sqlite3_bind_int64(insert, 1, ++last);
    sqlite3_bind_blob(insert, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
}

// A version-6 ledger (a row per record) is migrated to chunks: every record
// kept in time order, more than a chunk's worth split into several and
// records further apart than kMaxChunkSpanMs apart; still deduplicated.
TEST(SqliteStoreTest, MigratesAVersionSixFileIntoChunks) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  std::vector<Record> rows;
  for (size_t i = 0; i < SqliteStore::kChunkRecords + 3; ++i) {
    rows.push_back(i % 3 == 0 ? BareRecord(static_cast<int>(i))
                              : SampleRecord(static_cast<int>(i)));
    rows.back().ts_ms = 1'700'000'000'000 + static_cast<int64_t>(i / 4);
  }
  Record late = SampleRecord(9999);
  late.ts_ms = 1'700'000'000'000 + SqliteStore::kMaxChunkSpanMs * 3;
  rows.push_back(late);
  WriteVersionSix(path, rows);
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->SchemaVersion(), kLedgerSchemaVersion);
  EXPECT_EQ(ScanAll(*store, true).size(), rows.size());
  std::vector<Record> sorted = ScanAll(*store, true);
  std::vector<Record> expected = rows;
  std::stable_sort(expected.begin(), expected.end(),
                   [](const Record& a, const Record& b) { return a.ts_ms < b.ts_ms; });
  // Equal times: the old seq order (the id's slot), so compare as sets per time.
  ASSERT_EQ(sorted.size(), expected.size());
  for (size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i].ts_ms, expected[i].ts_ms) << i;
  std::set<std::string> ids;
  for (const Record& r : sorted) ids.insert(r.id);
  EXPECT_EQ(ids.size(), rows.size());
  EXPECT_EQ(*store->WriteBatch(rows), 0u);
  EXPECT_EQ(*store->Count(), static_cast<int64_t>(rows.size()));
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT group_concat(n, ',') FROM (SELECT n FROM chunks ORDER BY seq)"),
            "256,3,1");
  EXPECT_EQ(raw.Text("SELECT count(*) FROM sqlite_master WHERE name = 'records'"), "0");
}

// A version-6 row that does not decode stops the migration with its seq and
// the cause; the file stays at version 6, untouched.
TEST(SqliteStoreTest, UndecodableVersionSixRowFailsTheMigrationCleanly) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  const Record r = SampleRecord(1);
  WriteVersionSix(path, {r}, {std::string("\x01\x03r", 3)});
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  const int64_t seq =
      r.ts_ms * (int64_t{1} << 20) + static_cast<int64_t>(Fnv1a64(r.id) & 0xFFFFF) + 1;
  EXPECT_EQ(store.status().message(), "ledger: " + path +
                                          ": database file is corrupt (record at seq " +
                                          std::to_string(seq) + ": record truncated in field id)");
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT count(*) FROM records"), "2");
}

// Payloads go in a column of their own, an entry per record from the
// chunk's first record that has any; a scan without bodies never reads them.
TEST(SqliteStoreTest, PayloadsAreKeptApartAndReadOnlyWithBodies) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  std::vector<Record> batch;
  for (int i = 0; i < 5; ++i) {
    Record r = BareRecord(i);
    if (i == 1 || i == 3) {
      r.request_body = "request-payload-" + std::to_string(i);
      r.response_body = "response-payload-" + std::to_string(i);
    }
    if (i == 3) r.pii_findings = R"({"email":1})";
    batch.push_back(std::move(r));
  }
  ASSERT_EQ(*store->WriteBatch(batch, IdCheck::kNew), 5u);
  std::vector<Record> plain = {BareRecord(10), BareRecord(11)};
  ASSERT_EQ(*store->WriteBatch(plain, IdCheck::kNew), 2u);
  std::vector<Record> expected = batch;
  expected.insert(expected.end(), plain.begin(), plain.end());
  EXPECT_EQ(ScanAll(*store, true), expected);
  for (Record& r : expected) {
    r.request_body.clear();
    r.response_body.clear();
    r.pii_findings.clear();
  }
  EXPECT_EQ(ScanAll(*store, false), expected);
  EXPECT_EQ(*store->Latest(7), expected);
  RawDb raw(path);
  // No payload inside a chunk's records; the second chunk has none at all.
  EXPECT_EQ(raw.Text("SELECT group_concat(instr(body, CAST('payload' AS BLOB)) || ':' || "
                     "coalesce(instr(payloads, CAST('response-payload-3' AS BLOB)) > 0, 'null'), "
                     "',') FROM (SELECT body, payloads FROM chunks ORDER BY seq)"),
            "0:1,0:null");
}

// A chunk slot reused by the next batch starts with no payload bytes: the
// last batch's payloads (kept for reuse) do not count towards its size.
TEST(SqliteStoreTest, AReusedChunkSlotDoesNotCountTheLastBatchsPayloads) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Record big = BareRecord(0);
  big.request_body.assign(SqliteStore::kChunkBytes + 1000, 'x');  // kept (< kKeptScratchBytes)
  ASSERT_EQ(*store->WriteBatch(std::vector<Record>{big}, IdCheck::kNew), 1u);
  std::vector<Record> bare;
  for (int i = 1; i <= 10; ++i) bare.push_back(BareRecord(i));
  ASSERT_EQ(*store->WriteBatch(bare, IdCheck::kNew), 10u);
  RawDb raw(path);
  EXPECT_EQ(raw.Text("SELECT group_concat(n, ',') FROM (SELECT n FROM chunks ORDER BY seq)"),
            "1,10");
}

// A version-7 ledger (bodies inside the records of a chunk) is migrated by
// adding the payloads column: its records still read back with their bodies.
TEST(SqliteStoreTest, MigratesAVersionSevenFileKeepingInlineBodies) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  const std::vector<Record> rows = {SampleRecord(1), SampleRecord(2)};
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("CREATE TABLE chunks (seq INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, "
                       "max_ts INTEGER NOT NULL, n INTEGER NOT NULL, body BLOB NOT NULL);"
                       "CREATE INDEX chunks_by_time ON chunks (min_ts);"
                       "PRAGMA user_version = 7;"),
              SQLITE_OK);
    std::string chunk, scratch;
    BeginChunk(chunk);
    for (const Record& r : rows) AppendToChunk(chunk, EncodeRecord(r, scratch));
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(
                  raw.db, "INSERT INTO chunks (min_ts, max_ts, n, body) VALUES (?1, ?2, 2, ?3)", -1,
                  &insert, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(insert, 1, rows[0].ts_ms);
    sqlite3_bind_int64(insert, 2, rows[1].ts_ms);
    sqlite3_bind_blob(insert, 3, chunk.data(), static_cast<int>(chunk.size()), SQLITE_STATIC);
    EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_finalize(insert);
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->SchemaVersion(), kLedgerSchemaVersion);
  EXPECT_EQ(ScanAll(*store, true), rows);
  EXPECT_EQ(ScanAll(*store, false)[0].request_body, "");
  EXPECT_EQ(*store->WriteBatch(rows), 0u);
}

// Payload entries that do not match their records fail the scan with bodies
// (and only it) naming the chunk and the cause.
TEST(SqliteStoreTest, MalformedPayloadsGiveClearErrors) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Record r = SampleRecord(1);
  r.request_body = "question";
  ASSERT_EQ(*store->WriteBatch(std::vector<Record>{r}), 1u);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"x'01'", "payloads: no entry for record 0"},
      {"x'0105'", "payloads: chunk truncated in record 0"},
      {"x'010103'", "record 0: payloads truncated in request_body"},
      {"x'010400000000'", "record 0: payloads have trailing bytes"},
  };
  for (const auto& [payloads, why] : cases) {
    SCOPED_TRACE(payloads);
    {
      RawDb raw(path);
      ASSERT_EQ(raw.Exec("UPDATE chunks SET payloads = " + payloads), SQLITE_OK);
    }
    auto st = store->Scan({.include_bodies = true}, [](Record&) { return true; });
    EXPECT_EQ(st.message(),
              "ledger: " + path + ": database file is corrupt (chunk at seq 1: " + why + ")");
    EXPECT_TRUE(store->Scan({}, [](Record&) { return true; }).ok());
  }
}

// A stored chunk that does not decode fails scans and Latest with the
// chunk's seq and the cause; a replayed write reading that chunk for stored
// ids takes the bad record for none of its own (one bad row cannot stop the
// writer).
TEST(SqliteStoreTest, UndecodableRecordGivesClearErrorNotACrash) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  std::vector<Record> one{SampleRecord(1)};
  ASSERT_TRUE(store->WriteBatch(one).ok());
  struct Case {
    std::string body;
    std::string why;
  };
  const std::vector<Case> cases = {
      {"x'01'", ""},  // an empty chunk: no records, no error
      {"x'0103010372'", "record 0: record truncated in field id"},
      {"x'01090103'", "chunk truncated in record 0"},
      {"x'07'", "unknown chunk format 7"},
      {"x''", "chunk is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    {
      RawDb raw(path);
      ASSERT_EQ(raw.Exec("UPDATE chunks SET body = " + c.body + " WHERE seq = 1"), SQLITE_OK);
    }
    const std::string expected =
        c.why.empty()
            ? ""
            : "ledger: " + path + ": database file is corrupt (chunk at seq 1: " + c.why + ")";
    auto st = store->Scan({}, [](Record&) { return true; });
    EXPECT_EQ(st.message(), expected);
    auto latest = store->Latest(5);
    EXPECT_EQ(latest.status().message(), expected);
  }
  // The record is no longer readable, so writing it again stores it.
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
    ASSERT_EQ(raw.Exec("PRAGMA user_version = 10"), SQLITE_OK);
  }
  auto store = SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            "ledger: " + path + ": schema version 10 is newer than this build supports (" +
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
