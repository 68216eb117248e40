// An in-process gateway for tests, wired as src/app/serve.cc wires it: event
// loops, the shared TLS context, a metrics registry, a clock, Gateway::Create
// and an http::Server on 127.0.0.1 port 0. Requests go over loopback with the
// test-support client; upstreams are FakeUpstreams named in the TOML config.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "http/client.h"
#include "http/event_loops.h"
#include "http/server.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace switchyard::gateway {

// The parts of an Outcome a test looks at, copied out of the recorder callback.
struct Recorded {
  std::string id;
  std::string route;
  std::vector<std::string> stages_tried;
  std::string answered_by;
  std::string provider;
  std::string model;
  bool stream = false;
  int attempts = 0;
  core::Usage usage;
  int status = 0;
  std::string error_code;
};

class GatewayFixture : public ::testing::Test {
 protected:
  ~GatewayFixture() override { Stop(); }

  // Starts the gateway on `toml` (providers, routes, ...). "[server]" settings
  // may be given in `server_toml` (listen is always 127.0.0.1:0).
  void Start(const std::string& toml, const std::string& server_toml = "", int threads = 2) {
    const std::string text = "[server]\nlisten = \"127.0.0.1:0\"\n" + server_toml + "\n" + toml;
    auto env = [this](std::string_view name) -> std::optional<std::string> {
      auto it = env_.find(std::string(name));
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    auto cfg = config::ParseConfig(text, "test.toml", env);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << text;
    config_ = std::make_shared<const config::Config>(std::move(*cfg));

    loops_ = std::make_unique<http::EventLoops>(threads);
    auto tls = http::UpstreamClient::MakeTlsContext();
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = std::move(*tls);
    GatewayOptions options;
    options.seed = 42;
    auto gw = Gateway::Create(config_, *loops_, *tls_, metrics_, clock_, observe::MakeNullLogger(),
                              options);
    ASSERT_TRUE(gw.ok()) << gw.status().ToString();
    gateway_ = std::move(*gw);
    gateway_->set_recorder([this](Outcome& o) {
      Recorded r;
      r.id = o.id;
      r.route = o.route;
      r.stages_tried = o.stages_tried;
      r.answered_by = o.answered_by;
      r.provider = o.provider;
      r.model = o.model;
      r.stream = o.stream;
      r.attempts = o.attempts;
      r.usage = o.usage;
      r.status = o.status;
      r.error_code = o.error_code;
      {
        std::lock_guard lock(mu_);
        outcomes_.push_back(std::move(r));
      }
      cv_.notify_all();
    });

    http::ServerOptions so;
    so.host = config_->server.host;
    so.port = config_->server.port;
    so.max_body_bytes = config_->server.max_body_bytes;
    so.max_header_bytes = config_->server.max_header_bytes;
    so.idle_timeout = std::chrono::milliseconds(config_->server.idle_timeout_ms);
    so.header_timeout = std::chrono::milliseconds(config_->server.header_timeout_ms);
    so.body_timeout = std::chrono::milliseconds(config_->server.body_timeout_ms);
    Gateway* gw_raw = gateway_.get();
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

  void Stop() {
    if (server_) server_->BeginShutdown();
    if (loops_) loops_->Stop();
    server_.reset();
    gateway_.reset();
    loops_.reset();
  }

  uint16_t port() const { return server_->port(); }

  // Waits until at least `n` requests were recorded; returns a copy of them.
  std::vector<Recorded> WaitForOutcomes(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return outcomes_.size() >= n; });
    return outcomes_;
  }

  std::map<std::string, std::string> env_{{"UP_KEY", "sk-up-test"}, {"ANTH_KEY", "sk-ant-test"}};
  core::FakeClock clock_;
  observe::Registry metrics_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<http::EventLoops> loops_;
  std::unique_ptr<http::asio::ssl::context> tls_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<http::Server> server_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Recorded> outcomes_;
};

}  // namespace switchyard::gateway
