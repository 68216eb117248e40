// Self-tests for the test-support library: the fake upstream, the test HTTP
// client and the child-process helpers, each against the others over loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(FakeUpstreamTest, ServesScriptedJsonAndRecordsTheRequest) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.status().ok()) << upstream.status().ToString();
  EXPECT_EQ(upstream.base_url(), "http://127.0.0.1:" + std::to_string(upstream.port()));
  upstream.Enqueue(JsonResponse(R"({"id":"x"})", 201));

  HttpResult r = HttpRequest(upstream.port(), "POST", "/v1/chat?a=1", R"({"q":1})",
                             {{"Authorization", "Bearer k"}, {"X-Multi", "a"}, {"x-multi", "b"}});
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, R"({"id":"x"})");

  ASSERT_EQ(upstream.request_count(), 1u);
  RecordedRequest rec = upstream.requests()[0];
  EXPECT_EQ(rec.method, "POST");
  EXPECT_EQ(rec.target, "/v1/chat?a=1");
  EXPECT_EQ(rec.body, R"({"q":1})");
  EXPECT_EQ(rec.headers["authorization"], "Bearer k");
  EXPECT_EQ(rec.headers["x-multi"], "a, b");
  EXPECT_EQ(rec.headers["host"], "127.0.0.1:" + std::to_string(upstream.port()));
}

TEST(FakeUpstreamTest, FallsBackToHandlerThenDefault) {
  FakeUpstream upstream;
  HttpResult r = HttpRequest(upstream.port(), "GET", "/none");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"no scripted response"})");

  upstream.SetHandler([](const RecordedRequest& req) { return JsonResponse("echo:" + req.body); });
  upstream.Enqueue(JsonResponse("scripted"));
  EXPECT_EQ(HttpRequest(upstream.port(), "POST", "/", "one").body, "scripted");
  EXPECT_EQ(HttpRequest(upstream.port(), "POST", "/", "two").body, "echo:two");

  upstream.SetHandler(nullptr);
  upstream.SetDefault(JsonResponse("{}", 404));
  EXPECT_EQ(HttpRequest(upstream.port(), "GET", "/").status, 404);
}

TEST(FakeUpstreamTest, ReadsChunkedRequestBodies) {
  FakeUpstream upstream;
  upstream.SetDefault(JsonResponse("ok"));
  std::string answer = RawExchange(upstream.port(),
                                   "POST /up HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n"
                                   "connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                                   seconds(5));
  EXPECT_EQ(answer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
            "connection: close\r\n\r\nok");
  ASSERT_EQ(upstream.request_count(), 1u);
  EXPECT_EQ(upstream.requests()[0].body, "abcde");
}

TEST(FakeUpstreamTest, AnswersMalformedRequestsWith400) {
  FakeUpstream upstream;
  EXPECT_EQ(RawExchange(upstream.port(), "NOT HTTP\r\n\r\n", seconds(5)),
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_EQ(upstream.request_count(), 0u);
}

TEST(FakeUpstreamTest, SseChunksArriveAsSeparatePiecesWithDelays) {
  FakeUpstream upstream;
  const std::vector<std::string> frames = {"data: {\"n\":1}\n\n", "data: {\"n\":2}\n\n",
                                           "data: [DONE]\n\n"};
  upstream.Enqueue(SseResponse(frames, milliseconds(30)));

  StreamResult s = HttpStream(upstream.port(), "/v1/chat/completions", R"({"stream":true})");
  ASSERT_TRUE(s.error.ok()) << s.error.ToString();
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.headers["content-type"], "text/event-stream");
  EXPECT_EQ(s.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(s.pieces, frames);
  EXPECT_EQ(s.body, frames[0] + frames[1] + frames[2]);
  ASSERT_EQ(s.arrival_times.size(), 3u);
  // The server slept 30 ms before each chunk, so the last one cannot have
  // arrived sooner than 90 ms after the request started.
  EXPECT_GE(s.arrival_times[2] - s.started, milliseconds(90));
}

TEST(FakeUpstreamTest, KeepAliveReusesOneConnection) {
  FakeUpstream upstream;
  upstream.Enqueue(JsonResponse("first"));
  upstream.Enqueue(SseResponse({"a", "bc"}));
  upstream.Enqueue(JsonResponse("third", 429));
  auto conn = HttpConnection::Connect(upstream.port());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();

  EXPECT_EQ((*conn)->Request("POST", "/1", "x").body, "first");
  EXPECT_EQ((*conn)->Request("POST", "/2", "y").body, "abc");
  HttpResult third = (*conn)->Request("GET", "/3");
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(third.body, "third");
  EXPECT_TRUE((*conn)->open());
  EXPECT_EQ(upstream.connections_accepted(), 1u);
  EXPECT_EQ(upstream.request_count(), 3u);
}

TEST(FakeUpstreamTest, KeepAliveFalseClosesTheConnection) {
  FakeUpstream upstream;
  FakeResponse last = JsonResponse("bye");
  last.keep_alive = false;
  upstream.Enqueue(last);
  auto conn = HttpConnection::Connect(upstream.port());
  ASSERT_TRUE(conn.ok());
  HttpResult r = (*conn)->Request("GET", "/");
  EXPECT_EQ(r.body, "bye");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_FALSE((*conn)->open());
  HttpResult again = (*conn)->Request("GET", "/");
  EXPECT_EQ(again.error.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(again.error.message(),
            "connection to 127.0.0.1:" + std::to_string(upstream.port()) + " is closed");
}

TEST(FakeUpstreamTest, ResetAfterChunksGivesTheClientAnError) {
  FakeUpstream upstream;
  FakeResponse r = SseResponse({"data: 1\n\n", "data: 2\n\n"}, milliseconds(10));
  r.reset_after_chunks = true;
  upstream.Enqueue(r);
  StreamResult s = HttpStream(upstream.port(), "/", "{}");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.error.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(s.error.message(), "read response from 127.0.0.1:" + std::to_string(upstream.port()) +
                                   ": Connection reset by peer");
  ASSERT_GE(s.pieces.size(), 1u);
  EXPECT_EQ(s.pieces[0], "data: 1\n\n");
}

TEST(FakeUpstreamTest, CloseWithoutResponse) {
  FakeUpstream upstream;
  FakeResponse r;
  r.close_without_response = true;
  upstream.Enqueue(r);
  HttpResult res = HttpRequest(upstream.port(), "GET", "/");
  EXPECT_EQ(res.status, 0);
  EXPECT_EQ(res.error.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(res.error.message(),
            "read response from 127.0.0.1:" + std::to_string(upstream.port()) + ": end of stream");
  EXPECT_EQ(upstream.request_count(), 1u);
}

TEST(FakeUpstreamTest, SlowBodyArrivesWhole) {
  FakeUpstream upstream;
  FakeResponse r = JsonResponse("abc");
  r.body_byte_delay = milliseconds(5);
  upstream.Enqueue(r);
  HttpResult res = HttpRequest(upstream.port(), "GET", "/");
  ASSERT_TRUE(res.error.ok()) << res.error.ToString();
  EXPECT_EQ(res.body, "abc");
}

TEST(FakeUpstreamTest, ClientCloseDuringHeadDelayCountsAsAbort) {
  FakeUpstream upstream;
  FakeResponse r = JsonResponse("late");
  r.head_delay = seconds(30);
  upstream.Enqueue(r);
  HttpResult res = HttpRequest(upstream.port(), "GET", "/", "", {}, milliseconds(50));
  EXPECT_EQ(res.error.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(res.error.message(),
            "timed out after 50 ms waiting for 127.0.0.1:" + std::to_string(upstream.port()));
  EXPECT_TRUE(upstream.WaitForClientAborts(1, seconds(5)));
  EXPECT_EQ(upstream.client_aborts(), 1u);
}

TEST(FakeUpstreamTest, ClientAbortMidStreamCountsAsAbort) {
  FakeUpstream upstream;
  upstream.Enqueue(SseResponse({"one", "two", "three", "four"}, milliseconds(20)));
  StreamResult s = HttpStreamAbortAfter(upstream.port(), "/", "{}", 3);
  EXPECT_TRUE(s.error.ok()) << s.error.ToString();
  EXPECT_EQ(s.pieces, std::vector<std::string>{"one"});
  EXPECT_TRUE(upstream.WaitForClientAborts(1, seconds(5)));
  EXPECT_EQ(upstream.client_aborts(), 1u);
}

TEST(FakeUpstreamTest, CompletedResponsesAreNotAborts) {
  FakeUpstream upstream;
  upstream.Enqueue(SseResponse({"a", "b"}, milliseconds(1)));
  EXPECT_TRUE(HttpStream(upstream.port(), "/", "").error.ok());
  EXPECT_EQ(upstream.client_aborts(), 0u);
}

TEST(FakeUpstreamTest, DestructorDoesNotWaitForIdleOrStuckClients) {
  auto upstream = std::make_unique<FakeUpstream>();
  FakeResponse r;
  r.head_delay = seconds(60);
  upstream->Enqueue(r);
  auto idle = HttpConnection::Connect(upstream->port());
  ASSERT_TRUE(idle.ok());
  std::thread stuck(
      [port = upstream->port()] { (void)HttpRequest(port, "GET", "/", "", {}, seconds(5)); });
  ASSERT_TRUE(upstream->WaitForRequests(1, seconds(5)));
  upstream.reset();  // must return promptly although both clients are still connected
  stuck.join();
}

TEST(HttpClientTest, ConnectRefused) {
  uint16_t port = FreePort();
  ASSERT_NE(port, 0);
  HttpResult r = HttpRequest(port, "GET", "/");
  EXPECT_EQ(r.error.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(r.error.message(),
            "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  auto conn = HttpConnection::Connect(port);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().message(), r.error.message());
  EXPECT_EQ(RawExchange(port, "GET / HTTP/1.1\r\n\r\n", milliseconds(100)), "");
}

TEST(ProcessTest, RunsShellAndCapturesExitCodeAndOutput) {
  auto child = ChildProcess::Start("/bin/sh", {"-c", "echo hi; exit 3"});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ((*child)->WaitExit(seconds(5)), 3);
  EXPECT_EQ((*child)->Output(), "hi\n");
}

TEST(ProcessTest, PassesEnvironmentAndWorkingDirectory) {
  std::string dir = MakeTempDir("sy-support-");
  ASSERT_FALSE(dir.empty());
  auto child = ChildProcess::Start("sh", {"-c", "echo \"$SY_TEST_VAR\" >&2; pwd"},
                                   {{"SY_TEST_VAR", "value 1"}}, dir);
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  EXPECT_EQ((*child)->WaitExit(seconds(5)), 0);
  EXPECT_EQ((*child)->Output(), "value 1\n" + dir + "\n");
  std::filesystem::remove_all(dir);
}

TEST(ProcessTest, SignalAndWaitForOutput) {
  auto child = ChildProcess::Start("/bin/sh", {"-c", "echo ready; exec sleep 30"});
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE((*child)->WaitForOutput("ready", seconds(5)));
  EXPECT_EQ((*child)->WaitExit(milliseconds(1)), std::nullopt);
  (*child)->Signal(SIGTERM);
  EXPECT_EQ((*child)->WaitExit(seconds(5)), 128 + SIGTERM);
}

TEST(ProcessTest, DestructorKillsRunningChild) {
  auto child = ChildProcess::Start("/bin/sh", {"-c", "sleep 30 & sleep 30"});
  ASSERT_TRUE(child.ok());
  child->reset();  // SIGKILLs the group and reaps without waiting 30 s
}

TEST(ProcessTest, StartReportsMissingExecutable) {
  auto child = ChildProcess::Start("/nonexistent/sy-binary", {});
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(child.status().message(),
            "cannot start '/nonexistent/sy-binary': No such file or directory");
}

TEST(ProcessTest, WaitForHttpOkPollsUntil200) {
  FakeUpstream upstream;
  upstream.Enqueue(JsonResponse("{}", 503));
  upstream.SetDefault(JsonResponse("{}"));
  EXPECT_TRUE(WaitForHttpOk(upstream.port(), "/health", seconds(5)));
  EXPECT_EQ(upstream.request_count(), 2u);
  EXPECT_EQ(upstream.requests()[1].target, "/health");

  uint16_t closed = FreePort();
  EXPECT_FALSE(WaitForHttpOk(closed, "/health", milliseconds(50)));
}

}  // namespace
}  // namespace switchyard::testing
