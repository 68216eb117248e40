#include "guard/audit.h"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "core/clock.h"
#include "guard/audit_codec.h"
#include "guard/keys.h"
#include "support/temp_dir.h"

namespace switchyard::guard {
namespace {

namespace fs = std::filesystem;

class AuditStoreTest : public ::testing::Test {
 protected:
  static AuditRecord Sample(int64_t ts, std::string provider) {
    AuditRecord r;
    r.ts_ms = ts;
    r.request_id = "req-" + std::to_string(ts);
    r.tenant = "acme";
    r.task = "support";
    r.provider = std::move(provider);
    r.model = "gpt-4o-mini";
    r.policy = "redact";
    r.findings_before = {{"card", 1}, {"email", 2}};
    r.findings_after = {};
    r.payload_sha256 = Sha256Hex("{\"payload\":" + std::to_string(ts) + "}");
    r.payload_bytes = 15;
    return r;
  }

  void ExpectChunksHoldExactlyTheRecords(int64_t count, AuditStoreOptions o, size_t chunk_limit);

  // `r` with its digest in uppercase, as an older version might have kept it.
  static AuditRecord WithUppercaseDigest(AuditRecord r) {
    for (char& c : r.payload_sha256) c = static_cast<char>(std::toupper(c));
    return r;
  }

  // Runs `sql` on the SQLite file at `path` (another connection than the store's).
  static void ExecSql(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // The names of the tables in the SQLite file at `path`, sorted, comma-separated.
  static std::string TableNames(const std::string& path) {
    sqlite3* db = nullptr;
    std::string names;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return "cannot open " + path;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                           "WHERE type = 'table' ORDER BY name)",
                           -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
      names = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return names;
  }

  // Appends `records` to the row-per-record table that versions before
  // chunks kept (the ledger's file up to its schema 6, then audit.db),
  // creating it as they did.
  static void WriteRowTable(const std::string& path, const std::vector<AuditRecord>& records) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS "
                           "guard_egress_audit (seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT "
                           "NULL, request_id TEXT NOT NULL DEFAULT '', tenant TEXT NOT NULL "
                           "DEFAULT '', task TEXT NOT NULL DEFAULT '', provider TEXT NOT NULL "
                           "DEFAULT '', model TEXT NOT NULL DEFAULT '', policy TEXT NOT NULL "
                           "DEFAULT '', findings_before TEXT NOT NULL DEFAULT '{}', "
                           "findings_after TEXT NOT NULL DEFAULT '{}', payload_sha256 TEXT NOT "
                           "NULL DEFAULT '', payload_bytes INTEGER NOT NULL DEFAULT 0); CREATE "
                           "INDEX IF NOT EXISTS guard_egress_audit_ts ON "
                           "guard_egress_audit(ts_ms);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO guard_egress_audit (ts_ms, request_id, tenant, "
                                 "task, provider, model, policy, findings_before, "
                                 "findings_after, payload_sha256, payload_bytes) VALUES (?1, "
                                 "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                 -1, &s, nullptr),
              SQLITE_OK);
    const auto counts = [](const std::map<std::string, int64_t, std::less<>>& m) {
      std::string json = "{";
      for (const auto& [k, v] : m) {
        if (json.size() > 1) json += ',';
        json += "\"" + k + "\":" + std::to_string(v);
      }
      return json + "}";
    };
    for (const AuditRecord& r : records) {
      const std::string before = counts(r.findings_before), after = counts(r.findings_after);
      sqlite3_bind_int64(s, 1, r.ts_ms);
      int i = 2;
      for (const std::string* t : {&r.request_id, &r.tenant, &r.task, &r.provider, &r.model,
                                   &r.policy, &before, &after, &r.payload_sha256}) {
        sqlite3_bind_text(s, i++, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
      }
      sqlite3_bind_int64(s, 11, r.payload_bytes);
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
      sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
  }

  switchyard::testing::ScopedTempDir tmp_{"guard_audit"};
  fs::path dir_ = fs::path(tmp_.path()) / "d";  // (created by the store)
  std::string path_ = (dir_ / "ledger.db").string();
};

TEST(AuditTest, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The reused-context hasher gives the standard digests (FIPS 180-2 vectors),
// the same as the one-shot Sha256Hex for every length around the 64-byte
// block and padding boundaries, whatever was hashed before.
TEST(AuditTest, Sha256HasherMatchesKnownVectorsAndOneShot) {
  Sha256Hasher hasher;
  EXPECT_EQ(hasher.Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hasher.Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hasher.Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hasher.Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(hasher.Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string payload;
  for (size_t n = 0; n <= 200; ++n) {
    EXPECT_EQ(hasher.Hex(payload), Sha256Hex(payload)) << n;
    payload += static_cast<char>('!' + n % 90);
  }
}

TEST(AuditTest, RecordJson) {
  AuditRecord r;
  r.ts_ms = 1714564800123;
  r.request_id = "req-1";
  r.tenant = "acme";
  r.task = "triage";
  r.provider = "openai";
  r.model = "gpt-4o";
  r.policy = "redact";
  r.findings_before = {{"email", 2}};
  r.payload_sha256 = std::string(64, 'a');
  r.payload_bytes = 10;
  EXPECT_EQ(
      AuditRecordJson(r),
      R"({"ts_ms":1714564800123,"time":"2024-05-01T12:00:00.123Z","request_id":"req-1",)"
      R"("tenant":"acme","task":"triage","provider":"openai","model":"gpt-4o",)"
      R"("policy":"redact","findings_before":{"email":2},"findings_after":{},)"
      R"("payload_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",)"
      R"("payload_bytes":10})");
  EXPECT_EQ(RenderAuditJson({}, 5), R"({"since_ms":5,"count":0,"records":[]})");
}

// An audit kept in another database (the ledger's file, before the audit had
// one of its own) is taken over at open: rows copied once, the old table
// dropped, its spill file moved; other tables of that file are untouched.
TEST_F(AuditStoreTest, AdoptsTheAuditOfAnotherDatabaseOnce) {
  const std::string old_path = (dir_ / "old-ledger.db").string();
  fs::create_directories(dir_);
  WriteRowTable(old_path, {Sample(1000, "openai"), Sample(2000, "openai")});
  ExecSql(old_path, "CREATE TABLE records (seq INTEGER PRIMARY KEY, body BLOB)");
  std::ofstream(old_path + ".audit.spill") << "spilled line\n";
  AuditStoreOptions o;
  o.adopt_from = old_path;
  {
    auto store = AuditStore::Open(path_, o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto rows = (*store)->Query({});
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(*rows, (std::vector<AuditRecord>{Sample(1000, "openai"), Sample(2000, "openai")}));
    ASSERT_TRUE((*store)->Record(Sample(3000, "anthropic")).ok());
  }
  EXPECT_FALSE(fs::exists(old_path + ".audit.spill"));
  EXPECT_EQ(switchyard::testing::ReadFile(path_ + ".audit.spill"), "spilled line\n");
  EXPECT_EQ(TableNames(old_path), "records");
  // The old table comes back: an older binary ran again on the ledger file and
  // recorded one more call, next to a row this audit already holds. Only the
  // new row is taken; a spill it left is appended to this audit's spill.
  // The same record again, its digest uppercase.
  WriteRowTable(old_path, {WithUppercaseDigest(Sample(1000, "openai")), Sample(4000, "openai")});
  std::ofstream(old_path + ".audit.spill") << "second spill\n";
  auto again = AuditStore::Open(path_, o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto rows = (*again)->Query({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(rows->back(), Sample(4000, "openai"));
  EXPECT_EQ(switchyard::testing::ReadFile(path_ + ".audit.spill"), "spilled line\nsecond spill\n");
  EXPECT_FALSE(fs::exists(old_path + ".audit.spill"));
}

// An adopted row whose findings are not counts stops the take-over like a bad
// digest: the open fails naming the other file's record; its table stays.
TEST_F(AuditStoreTest, AdoptedRowsWithFindingsThatAreNotCountsAreNotTaken) {
  const std::string old_path = (dir_ / "old-ledger.db").string();
  fs::create_directories(dir_);
  WriteRowTable(old_path, {Sample(1000, "openai")});
  ExecSql(old_path, "UPDATE guard_egress_audit SET findings_before = '[1]'");
  AuditStoreOptions o;
  o.adopt_from = old_path;
  auto store = AuditStore::Open(path_, o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "audit: " + old_path +
                ": the old audit record req-1000 at 1000 has a findings_before that is not a "
                "JSON object of counts ('[1]'); the old table is kept");
  EXPECT_EQ(TableNames(old_path), "guard_egress_audit");
}

// The same file under another spelling is not adopted by itself.
TEST_F(AuditStoreTest, AdoptingItsOwnFileUnderAnotherNameDoesNothing) {
  {
    auto store = AuditStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Record(Sample(1000, "openai")).ok());
  }
  AuditStoreOptions o;
  o.adopt_from = (dir_ / "." / "ledger.db").string();
  o.busy_timeout_ms = 50;
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto rows = (*store)->Query({});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

// A file that is not a database cannot be adopted: the open fails naming it.
TEST_F(AuditStoreTest, AdoptingAFileThatIsNotADatabaseFailsTheOpen) {
  fs::create_directories(dir_);
  const std::string junk = (dir_ / "junk.db").string();
  std::ofstream(junk) << "this is not a database, it is text that is long enough to matter....";
  AuditStoreOptions o;
  o.adopt_from = junk;
  auto store = AuditStore::Open(path_, o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(), "audit: " + junk +
                                          ": cannot open it to take its egress audit over "
                                          "(SQLite: file is not a database)");
}

TEST_F(AuditStoreTest, RecordAndQueryRoundTrip) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (int64_t ts : {3000, 1000, 2000}) {
    ASSERT_TRUE((*store)->Record(Sample(ts, ts == 2000 ? "anthropic" : "openai")).ok());
  }
  auto all = (*store)->Query({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0], Sample(1000, "openai"));
  EXPECT_EQ((*all)[1], Sample(2000, "anthropic"));
  EXPECT_EQ((*all)[2].ts_ms, 3000);
  auto since = (*store)->Query({2000, 0});
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
  auto latest = (*store)->Query({0, 1});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ((*latest)[0].ts_ms, 3000);
  const std::string text = RenderAuditText(*all);
  EXPECT_NE(text.find("acme/support -> openai/gpt-4o-mini policy=redact before=card:1,email:2 "
                      "after=- sha256="),
            std::string::npos);
  EXPECT_NE(text.find("3 external calls, anthropic=1, openai=2\n"), std::string::npos);

  // A second, read-only connection (the CLI) sees the same.
  AuditStoreOptions ro;
  ro.read_only = true;
  auto reader = AuditStore::Open(path_, ro);
  ASSERT_TRUE(reader.ok());
  auto read = (*reader)->Query({});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, *all);
}

// The exact records stored, chunk by chunk (chunk rows' n, min_ts and max_ts
// included): each record's own values, nothing left over from the record
// before, in every batch shape the writer can take. Writes `count` varied
// records through the background writer.
// No chunk holds more than `chunk_limit` records.
void AuditStoreTest::ExpectChunksHoldExactlyTheRecords(int64_t count, AuditStoreOptions o,
                                                       size_t chunk_limit) {
  o.background = true;
  std::vector<AuditRecord> records;
  for (int64_t i = 0; i < count; ++i) {
    AuditRecord r = Sample(100 + (i * 7) % 11, i % 2 == 0 ? "openai" : "anthropic");
    r.request_id = "chatcmpl-" + std::string(40 + i, static_cast<char>('a' + i % 26));
    if (i % 3 == 1) r.findings_before = {};
    if (i % 3 == 2) r.findings_after = {{"phone", i}};
    r.tenant = i == 4 ? "" : r.tenant;
    r.payload_bytes = 300 + i;
    records.push_back(r);
  }
  {
    auto store = AuditStore::Open(path_, o);
    ASSERT_TRUE(store.ok());
    for (const AuditRecord& r : records) ASSERT_TRUE((*store)->Record(r).ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT min_ts, max_ts, n, body FROM guard_egress_audit_chunks "
                               "ORDER BY seq",
                               -1, &s, nullptr),
            SQLITE_OK);
  std::vector<AuditRecord> stored;
  size_t chunks = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    ++chunks;
    std::vector<AuditRecord> chunk;
    const core::Status decoded =
        DecodeAuditChunk(std::string_view(static_cast<const char*>(sqlite3_column_blob(s, 3)),
                                          static_cast<size_t>(sqlite3_column_bytes(s, 3))),
                         chunk);
    ASSERT_TRUE(decoded.ok()) << decoded.ToString();
    ASSERT_FALSE(chunk.empty());
    EXPECT_LE(chunk.size(), chunk_limit);
    EXPECT_EQ(sqlite3_column_int64(s, 2), static_cast<int64_t>(chunk.size()));
    int64_t min_ts = chunk[0].ts_ms, max_ts = chunk[0].ts_ms;
    for (const AuditRecord& r : chunk) {
      min_ts = std::min(min_ts, r.ts_ms);
      max_ts = std::max(max_ts, r.ts_ms);
    }
    EXPECT_EQ(sqlite3_column_int64(s, 0), min_ts);
    EXPECT_EQ(sqlite3_column_int64(s, 1), max_ts);
    stored.insert(stored.end(), chunk.begin(), chunk.end());
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_GE(chunks, (records.size() + chunk_limit - 1) / chunk_limit);
  ASSERT_EQ(stored.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(stored[i], records[i]) << i;
}

TEST_F(AuditStoreTest, ChunksHoldExactlyTheRecords) {
  AuditStoreOptions o;
  o.max_batch = 2;  // parts of one and two records, a chunk each
  ExpectChunksHoldExactlyTheRecords(7, o, 2);
}

// One batch larger than a chunk: kChunkRecords records, then the rest.
TEST_F(AuditStoreTest, ABatchLargerThanAChunkTakesSeveralRows) {
  AuditStoreOptions o;
  o.max_batch = 4096;
  o.batch_delay = std::chrono::seconds(30);  // the batch fills until Flush()
  ExpectChunksHoldExactlyTheRecords(AuditStore::kChunkRecords + 37, o, AuditStore::kChunkRecords);
}

TEST_F(AuditStoreTest, BackgroundWriterLosesNothing) {
  AuditStoreOptions o;
  o.background = true;
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok());
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        EXPECT_TRUE((*store)->Record(Sample(t * 1000 + i, "openai")).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*store)->Flush().ok());
  auto all = (*store)->Query({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1000u);
  // Records queued just before destruction are written too.
  ASSERT_TRUE((*store)->Record(Sample(99999, "openai")).ok());
  store->reset();
  auto reopened = AuditStore::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Query({})->size(), 1001u);
}

// The writer waits up to batch_delay to fill a batch (one transaction per
// batch), but neither Flush() nor destruction waits for that delay.
TEST_F(AuditStoreTest, BatchDelayNeverHoldsUpFlushOrShutdownAndQueueDepthCountsTheWait) {
  AuditStoreOptions o;
  o.background = true;
  o.max_batch = 1000;
  o.batch_delay = std::chrono::hours(1);
  {
    auto store = AuditStore::Open(path_, o);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->Stats().queue_depth, 0u);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*store)->Record(Sample(i, "openai")).ok());
    // The writer waits (an hour) for the batch to fill: all three are queued.
    EXPECT_EQ((*store)->Stats().queue_depth, 3u);
    ASSERT_TRUE((*store)->Flush().ok());
    EXPECT_EQ((*store)->Stats().queue_depth, 0u);
    EXPECT_EQ((*store)->Query({})->size(), 3u);
    ASSERT_TRUE((*store)->Record(Sample(3, "openai")).ok());
    EXPECT_EQ((*store)->Stats().queue_depth, 1u);
  }
  auto reopened = AuditStore::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Query({})->size(), 4u);
}

TEST_F(AuditStoreTest, Errors) {
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok());
  AuditRecord bad = Sample(1, "openai");
  bad.payload_sha256 = "nothex";
  const core::Status s = (*store)->Record(bad);
  EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "audit: payload_sha256 must be 64 hex characters");
  // Lowercase hex only, exactly 64: each of these is refused the same way.
  const std::string good = Sample(1, "openai").payload_sha256;
  std::vector<std::string> digests = {good.substr(1), good + "0", std::string(64, 'A')};
  for (const auto& [at, c] :
       std::vector<std::pair<size_t, char>>{{0, 'g'}, {31, '\0'}, {63, '/'}}) {
    digests.push_back(good);
    digests.back()[at] = c;
  }
  for (const std::string& digest : digests) {
    bad.payload_sha256 = digest;
    EXPECT_EQ((*store)->Record(bad).message(), "audit: payload_sha256 must be 64 hex characters")
        << digest;
  }
  EXPECT_EQ((*store)->Query({})->size(), 0u);  // nothing refused was written
  bad.payload_sha256 = good;
  EXPECT_TRUE((*store)->Record(bad).ok());

  AuditStoreOptions ro;
  ro.read_only = true;
  const std::string missing = (dir_ / "none.db").string();
  auto none = AuditStore::Open(missing, ro);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "audit: no audit database at " + missing);
}

TEST_F(AuditStoreTest, FileWithoutTheTableHasNoRecords) {
  // Another component's SQLite file (here the key store's), no audit table yet:
  // the CLI reads it as "no external calls", not as an error.
  core::FakeClock clock;
  {
    auto keys = KeyStore::Open(path_, {}, clock);
    ASSERT_TRUE(keys.ok());
  }
  AuditStoreOptions ro;
  ro.read_only = true;
  auto reader = AuditStore::Open(path_, ro);
  ASSERT_TRUE(reader.ok());
  auto got = (*reader)->Query({});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->empty());
  // A writable store adds its table next to the others in the same file.
  auto writer = AuditStore::Open(path_);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Record(Sample(1, "openai")).ok());
  auto keys = KeyStore::Open(path_, {}, clock);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*reader)->Query({})->size(), 1u);
}

// A file an older version wrote (a row per record): a read-only open (the
// CLI before the gateway restarted) reads the rows as they are; a read-write
// open converts them into chunks and drops the old table, once.
TEST_F(AuditStoreTest, ConvertsTheRowTableOfAnOlderVersion) {
  fs::create_directories(dir_);
  std::vector<AuditRecord> old = {Sample(3000, "openai"), Sample(1000, "anthropic"),
                                  Sample(2000, "openai")};
  old[1].findings_after = {{"email", 1}};
  old[2].tenant = "";
  WriteRowTable(path_, old);
  const std::vector<AuditRecord> by_time = {old[1], old[2], old[0]};
  AuditStoreOptions ro;
  ro.read_only = true;
  {
    auto reader = AuditStore::Open(path_, ro);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto got = (*reader)->Query({});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, by_time);
  }
  {
    auto store = AuditStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Record(Sample(4000, "openai")).ok());
  }
  EXPECT_EQ(TableNames(path_), "guard_egress_audit_chunks");
  auto reader = AuditStore::Open(path_, ro);
  ASSERT_TRUE(reader.ok());
  auto got = (*reader)->Query({});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ(std::vector<AuditRecord>(got->begin(), got->begin() + 3), by_time);
  EXPECT_EQ(got->back(), Sample(4000, "openai"));
  // Time windows cut through chunks: only the records inside count.
  auto since = (*reader)->Query({2000, 0});
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 3u);
  auto latest = (*reader)->Query({0, 2});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0], old[0]);
}

// An old row whose digest a chunk cannot hold stops the conversion: the open
// fails naming the record and the old table stays as it was. An uppercase
// digest is the same digest and is converted (lowered).
TEST_F(AuditStoreTest, OldRowsWithADigestThatIsNotOneAreNotConverted) {
  fs::create_directories(dir_);
  const AuditRecord upper = WithUppercaseDigest(Sample(1000, "openai"));
  AuditRecord bad = Sample(2000, "openai");
  bad.payload_sha256 = "";
  WriteRowTable(path_, {upper, bad});
  auto store = AuditStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            "audit: " + path_ +
                ": the old audit record req-2000 at 2000 has a payload_sha256 that is not 64 hex "
                "digits; the old table is kept");
  AuditStoreOptions ro;
  ro.read_only = true;
  auto reader = AuditStore::Open(path_, ro);
  ASSERT_TRUE(reader.ok());
  auto got = (*reader)->Query({});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);  // nothing was lost or half-converted
  EXPECT_EQ((*got)[0], upper);

  fs::remove(path_);
  fs::remove(path_ + "-wal");
  fs::remove(path_ + "-shm");
  WriteRowTable(path_, {upper});
  auto converted = AuditStore::Open(path_);
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  got = (*converted)->Query({});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0], Sample(1000, "openai"));
}

// How a bad old row is named: "(no request id)" for an empty id; an id with
// a line break shows it as a space (one-line messages).
TEST_F(AuditStoreTest, BadOldRowsAreNamedOnOneLine) {
  fs::create_directories(dir_);
  AuditRecord no_id = Sample(2000, "openai");
  no_id.request_id = "";
  no_id.payload_sha256 = "x";
  WriteRowTable(path_, {no_id});
  auto store = AuditStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            "audit: " + path_ +
                ": the old audit record (no request id) at 2000 has a payload_sha256 that is not "
                "64 hex digits; the old table is kept");
  ExecSql(path_, "UPDATE guard_egress_audit SET request_id = 'req\n7'");
  store = AuditStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            "audit: " + path_ +
                ": the old audit record req 7 at 2000 has a payload_sha256 that is not 64 hex "
                "digits; the old table is kept");
}

// An old row whose findings are not an object of counts (hand-edited, or
// damaged) is neither converted nor read as "no findings": the audit would
// say less than was recorded. Both opens name the record; the old table stays.
TEST_F(AuditStoreTest, OldRowsWithFindingsThatAreNotCountsAreNotReadAsNone) {
  fs::create_directories(dir_);
  WriteRowTable(path_, {Sample(1000, "openai"), Sample(2000, "openai")});
  const auto set_column = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  };
  AuditStoreOptions ro;
  ro.read_only = true;

  set_column(
      "UPDATE guard_egress_audit SET findings_after = '{\"email\":\"one\"}' "
      "WHERE ts_ms = 2000");
  const std::string named = "audit: " + path_ + ": the old audit record req-2000 at 2000 has a ";
  auto store = AuditStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.status().message(),
            named +
                "findings_after that is not a JSON object of counts ('{\"email\":\"one\"}'); "
                "the old table is kept");
  EXPECT_EQ(TableNames(path_), "guard_egress_audit,guard_egress_audit_chunks");
  {
    auto reader = AuditStore::Open(path_, ro);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto got = (*reader)->Query({});
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(),
              named + "findings_after that is not a JSON object of counts ('{\"email\":\"one\"}')");
  }

  // Not JSON at all; a long value is cut at 40 bytes in the message, back to
  // a whole UTF-8 character (the 2-byte e-acute at bytes 39-40), and a line
  // break shows as a space.
  set_column(
      "UPDATE guard_egress_audit SET findings_after = '{}', findings_before = "
      "'email=1 phone=2\ncard=3 iban=4 ssn=5 ip=\xc3\xa9"
      "6 secret=7' WHERE ts_ms = 2000");
  store = AuditStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            named +
                "findings_before that is not a JSON object of counts ('email=1 phone=2 card=3 "
                "iban=4 ssn=5 ip=...'); the old table is kept");

  // Mended, the rows convert, findings and all.
  set_column("UPDATE guard_egress_audit SET findings_before = '{\"email\":2}' WHERE ts_ms = 2000");
  store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(TableNames(path_), "guard_egress_audit_chunks");
  auto got = (*store)->Query({});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  const FindingCounts two_emails = {{"email", 2}};
  EXPECT_EQ((*got)[1].findings_before, two_emails);
  EXPECT_TRUE((*got)[1].findings_after.empty());
}

// A query with a limit reads chunks newest first and stops early; whatever
// the chunks' overlapping time ranges, it returns the newest `limit` of what
// the whole query returns, in the same order (ties in time by storage order).
TEST_F(AuditStoreTest, QueryWithALimitIsTheTailOfTheWholeQuery) {
  AuditStoreOptions o;
  o.background = true;
  o.batch_delay = std::chrono::seconds(30);  // a chunk per Flush()
  {
    auto store = AuditStore::Open(path_, o);
    ASSERT_TRUE(store.ok());
    std::mt19937 rng(7);
    int id = 0;
    for (int chunk = 0; chunk < 9; ++chunk) {
      for (int k = 0; k < 1 + chunk % 4; ++k) {
        AuditRecord r = Sample(1000 + static_cast<int64_t>(rng() % 6) * 10, "openai");  // ties
        r.request_id = "req-" + std::to_string(id++);
        ASSERT_TRUE((*store)->Record(r).ok());
      }
      ASSERT_TRUE((*store)->Flush().ok());
    }
  }
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok());
  for (int64_t since : {0, 1010, 1030, 1050, 5000}) {
    auto all = (*store)->Query({since, 0});
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(std::is_sorted(
        all->begin(), all->end(),
        [](const AuditRecord& a, const AuditRecord& b) { return a.ts_ms < b.ts_ms; }));
    for (size_t limit = 1; limit <= all->size() + 1; ++limit) {
      auto some = (*store)->Query({since, limit});
      ASSERT_TRUE(some.ok());
      const size_t n = std::min(limit, all->size());
      EXPECT_EQ(*some, std::vector<AuditRecord>(all->end() - static_cast<ptrdiff_t>(n), all->end()))
          << "since " << since << " limit " << limit;
    }
  }
}

// A chunk that does not decode is reported with its place, not skipped.
TEST_F(AuditStoreTest, CorruptChunkIsAnError) {
  {
    auto store = AuditStore::Open(path_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Record(Sample(1000, "openai")).ok());
  }
  ExecSql(path_,
          "INSERT INTO guard_egress_audit_chunks (min_ts, max_ts, n, body) VALUES (2000, 2000, 1, "
          "x'0101'); INSERT INTO guard_egress_audit_chunks (min_ts, max_ts, n, body) VALUES (0, "
          "0, 3, x'0100')");
  auto store = AuditStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Query({1500, 0});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(got.status().message(),
            "audit: " + path_ +
                ": database file is corrupt (chunk at seq 2: audit chunk truncated in record 0)");
  got = (*store)->Query({});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "audit: " + path_ +
                                        ": database file is corrupt (chunk at seq 2: audit chunk "
                                        "truncated in record 0)");
  ExecSql(path_, "DELETE FROM guard_egress_audit_chunks WHERE seq = 2");
  got = (*store)->Query({});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "audit: " + path_ +
                                        ": database file is corrupt (chunk at seq 3: audit chunk "
                                        "holds 0 records, its row says 3)");
}

// Holds SQLite's write lock on a file (BEGIN IMMEDIATE on a second
// connection) until Release(): the store's writer cannot commit meanwhile.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~WriteLockHolder() { Release(); }
  void Release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

template <typename Pred>
bool WaitFor(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::set<std::string> RequestIds(const std::vector<AuditRecord>& records) {
  std::set<std::string> ids;
  for (const AuditRecord& r : records) ids.insert(r.request_id);
  return ids;
}

// Overload: records that find the queue full go to the spill file instead of
// being dropped, and the writer replays them once it catches up.
TEST_F(AuditStoreTest, QueueFullSpillsAndTheWriterReplaysEveryRecord) {
  { ASSERT_TRUE(AuditStore::Open(path_).ok()); }  // the table exists
  AuditStoreOptions o;
  o.background = true;
  o.max_queue = 2;
  o.max_batch = 1;
  o.batch_delay = std::chrono::milliseconds(0);
  o.busy_timeout_ms = 60000;  // the writer waits for the lock, it does not fail
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok());
  WriteLockHolder lock(path_);
  std::vector<AuditRecord> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(Sample(100 + i, "openai"));
    ASSERT_TRUE((*store)->Record(sent.back()).ok()) << i;
  }
  EXPECT_GE((*store)->Stats().spilled, 16u);  // the writer holds <= 2 (a full queue), 2 queued
  EXPECT_TRUE(fs::exists(path_ + ".audit.spill"));
  lock.Release();
  ASSERT_TRUE(WaitFor([&] {
    const AuditStats st = (*store)->Stats();
    return st.replayed == st.spilled;
  }));
  ASSERT_TRUE((*store)->Flush().ok());
  auto all = (*store)->Query({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 20u);  // each exactly once
  EXPECT_EQ(RequestIds(*all), RequestIds(sent));
  for (const AuditRecord& r : *all) EXPECT_EQ(r, sent[static_cast<size_t>(r.ts_ms - 100)]);
  EXPECT_FALSE(fs::exists(path_ + ".audit.spill"));
  EXPECT_FALSE(fs::exists(path_ + ".audit.spill.replay"));
  EXPECT_EQ((*store)->Stats().rejected, 0u);
}

// A batch the database refuses (here: locked past the busy timeout) is
// spilled, Flush() reports the error, and a later replay writes it.
TEST_F(AuditStoreTest, RefusedBatchIsSpilledAndReplayedWhenTheDatabaseAcceptsAgain) {
  { ASSERT_TRUE(AuditStore::Open(path_).ok()); }
  AuditStoreOptions o;
  o.background = true;
  o.busy_timeout_ms = 10;
  o.replay_retry = std::chrono::milliseconds(5);
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok());
  WriteLockHolder lock(path_);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*store)->Record(Sample(i, "openai")).ok());
  const core::Status refused = (*store)->Flush();
  EXPECT_EQ(refused.code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("database is locked"), std::string::npos) << refused.message();
  EXPECT_EQ((*store)->Stats().spilled, 5u);
  EXPECT_EQ((*store)->Stats().replayed, 0u);
  lock.Release();
  ASSERT_TRUE(WaitFor([&] { return (*store)->Stats().replayed == 5; }));
  EXPECT_EQ((*store)->Query({})->size(), 5u);
}

// A spill file left by an earlier run is replayed at start; a line that is
// not a record is set aside in the .rejected file, not retried forever.
TEST_F(AuditStoreTest, SpillLeftByAnEarlierRunIsReplayedAtStart) {
  fs::create_directories(dir_);
  {
    std::ofstream spill(path_ + ".audit.spill");
    spill << AuditRecordJson(Sample(7, "openai")) << "\n"
          << "not a record\n"
          << AuditRecordJson(Sample(8, "anthropic")) << "\n";
  }
  AuditStoreOptions o;
  o.background = true;
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WaitFor([&] { return (*store)->Stats().replayed == 2; }));
  EXPECT_EQ((*store)->Stats().rejected, 1u);
  auto all = (*store)->Query({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], Sample(7, "openai"));
  EXPECT_EQ((*all)[1], Sample(8, "anthropic"));
  EXPECT_EQ(testing::ReadFile(path_ + ".audit.spill.rejected"), "not a record\n");
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(path_ + ".audit.spill.replay"); }));
  EXPECT_FALSE(fs::exists(path_ + ".audit.spill"));
}

// A replay the database refuses is retried with the same lines; a bad line
// among them is set aside once, not once per attempt.
TEST_F(AuditStoreTest, RefusedReplaySetsABadLineAsideOnce) {
  { ASSERT_TRUE(AuditStore::Open(path_).ok()); }
  {
    std::ofstream spill(path_ + ".audit.spill");
    spill << AuditRecordJson(Sample(7, "openai")) << "\n"
          << "not a record\n";
  }
  WriteLockHolder lock(path_);
  AuditStoreOptions o;
  o.background = true;
  o.busy_timeout_ms = 10;
  o.replay_retry = std::chrono::milliseconds(5);
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WaitFor([&] { return !(*store)->Flush().ok(); }));  // a replay was refused
  EXPECT_EQ((*store)->Stats().rejected, 0u);
  lock.Release();
  ASSERT_TRUE(WaitFor([&] { return (*store)->Stats().replayed == 1; }));
  EXPECT_EQ((*store)->Stats().rejected, 1u);
  EXPECT_EQ(testing::ReadFile(path_ + ".audit.spill.rejected"), "not a record\n");
}

// Only when the spill file cannot be written either is a record lost, and
// Record() says so.
TEST_F(AuditStoreTest, QueueFullAndUnwritableSpillFileIsAnError) {
  { ASSERT_TRUE(AuditStore::Open(path_).ok()); }
  fs::create_directories(path_ + ".audit.spill");  // a directory: fopen fails
  AuditStoreOptions o;
  o.background = true;
  o.max_queue = 1;
  o.max_batch = 1;
  o.batch_delay = std::chrono::milliseconds(0);
  o.busy_timeout_ms = 60000;
  auto store = AuditStore::Open(path_, o);
  ASSERT_TRUE(store.ok());
  WriteLockHolder lock(path_);
  core::Status failed;
  for (int i = 0; i < 5 && failed.ok(); ++i) failed = (*store)->Record(Sample(i, "openai"));
  EXPECT_EQ(failed.code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ(failed.message(), "audit: queue full (1 records) and the spill file " + path_ +
                                  ".audit.spill cannot be written (Is a directory)");
  lock.Release();
}

}  // namespace
}  // namespace switchyard::guard
