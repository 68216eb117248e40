// An in-process gateway wired as src/app/serve.cc wires it — event loops, the
// shared TLS context, a metrics registry, the system clock, Gateway::Create,
// PriceAccounting from the embedded price book, and a recorder that pushes
// app::ToRecord() records to a ledger::AsyncWriter on a SqliteStore in a
// temporary directory — behind an http::Server on 127.0.0.1 port 0.
// Upstreams are FakeUpstreams named in the TOML config.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/accounting.h"
#include "app/recording.h"
#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "http/client.h"
#include "http/event_loops.h"
#include "http/server.h"
#include "ledger/sqlite_store.h"
#include "ledger/writer.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "support/process.h"

namespace switchyard::app {

class LedgerGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sy_app_ledger_");
    ASSERT_FALSE(dir_.empty());
  }

  void TearDown() override {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Starts the gateway on `toml` ([[providers]], [[routes]], ...).
  void Start(const std::string& toml) {
    const std::string text =
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\ndata_dir = \"" + dir_ + "\"\n\n" + toml;
    auto cfg = config::ParseConfig(
        text, "test.toml",
        [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << text;
    config_ = std::make_shared<const config::Config>(std::move(*cfg));

    auto accounting = PriceAccounting::Create(*config_);
    ASSERT_TRUE(accounting.ok()) << accounting.status().ToString();
    accounting_ = std::move(*accounting);

    loops_ = std::make_unique<http::EventLoops>(2);
    auto tls = http::UpstreamClient::MakeTlsContext();
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = std::move(*tls);
    auto gw = gateway::Gateway::Create(config_, *loops_, *tls_, metrics_, clock_,
                                       observe::MakeNullLogger());
    ASSERT_TRUE(gw.ok()) << gw.status().ToString();
    gateway_ = std::move(*gw);
    gateway_->set_accounting(accounting_.get());

    auto store = ledger::SqliteStore::Open(config_->LedgerPath());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ledger::WriterOptions wo;
    wo.data_dir = dir_;
    wo.max_delay = std::chrono::milliseconds(5);
    auto writer = ledger::AsyncWriter::Start(std::move(*store), wo);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(*writer);

    gateway_->set_recorder([this](gateway::Outcome& o) {
      writer_->Push(ToRecord(o, config_->ledger));
      {
        std::lock_guard lock(mu_);
        recorded_ids_.push_back(o.id);
      }
      cv_.notify_all();
    });

    http::ServerOptions so;
    so.host = config_->server.host;
    so.port = config_->server.port;
    gateway::Gateway* gw_raw = gateway_.get();
    server_ = std::make_unique<http::Server>(
        *loops_, so,
        [gw_raw](http::ServerRequest& req, http::ResponseWriter& w) {
          return gw_raw->Handle(req, w);
        },
        [gw_raw](int status, std::string_view msg) {
          return gw_raw->ServerErrorBody(status, msg);
        });
    auto s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    gateway_->set_server(server_.get());
    loops_->Start();
  }

  // Stops serving as `serve` does on SIGTERM: no new requests, in-flight ones
  // finish (and are recorded), then the writer commits every pushed record.
  void Stop() {
    if (server_) {
      server_->BeginShutdown();
      EXPECT_TRUE(server_->WaitIdle(std::chrono::steady_clock::now() + std::chrono::seconds(10)))
          << server_->active_requests() << " requests still in flight";
    }
    if (loops_) loops_->Stop();
    if (writer_) {
      core::Status s = writer_->Shutdown(std::chrono::seconds(10));
      EXPECT_TRUE(s.ok()) << s.ToString();
      const ledger::WriterStats st = writer_->Stats();
      EXPECT_EQ(st.spilled, 0u);
      EXPECT_EQ(st.written, st.queued);
    }
    server_.reset();
    gateway_.reset();
    loops_.reset();
    writer_.reset();
  }

  uint16_t port() const { return server_->port(); }

  // Every committed record, by id, read through a separate read-only store.
  std::map<std::string, ledger::Record> ReadLedger() {
    std::map<std::string, ledger::Record> out;
    ledger::SqliteOptions so;
    so.read_only = true;
    auto store = ledger::SqliteStore::Open(config_->LedgerPath(), so);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return out;
    core::Status s = (*store)->Scan({}, [&](ledger::Record& r) {
      EXPECT_EQ(out.count(r.id), 0u) << "duplicate id " << r.id;
      out.emplace(r.id, std::move(r));
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  // The one committed record of the request with this id (waits until the
  // gateway recorded it and the writer committed it).
  ledger::Record RecordFor(const std::string& id) {
    {
      std::unique_lock lock(mu_);
      EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10),
                               [&] {
                                 return std::find(recorded_ids_.begin(), recorded_ids_.end(), id) !=
                                        recorded_ids_.end();
                               }))
          << "request " << id << " was never recorded";
    }
    core::Status flushed = writer_->Flush(std::chrono::seconds(10));
    EXPECT_TRUE(flushed.ok()) << flushed.ToString();
    auto all = ReadLedger();
    auto it = all.find(id);
    EXPECT_NE(it, all.end()) << "no ledger record for request " << id;
    return it == all.end() ? ledger::Record{} : it->second;
  }

  // Ids of the outcomes handed to the recorder so far, in order.
  std::vector<std::string> recorded_ids() {
    std::lock_guard lock(mu_);
    return recorded_ids_;
  }

  std::string dir_;
  core::SystemClock clock_;
  observe::Registry metrics_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<PriceAccounting> accounting_;
  std::unique_ptr<http::EventLoops> loops_;
  std::unique_ptr<http::asio::ssl::context> tls_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<ledger::AsyncWriter> writer_;
  std::unique_ptr<http::Server> server_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> recorded_ids_;
};

}  // namespace switchyard::app
