// sy_bench_upstream: a fast loopback stand-in for an OpenAI-compatible model
// server, written for bench/proxy/run.sh. It must never be the bottleneck of
// the proxy benchmark, so every response is prebuilt once and a connection
// does no more than find the end of a request and write bytes.
//
//   POST /v1/chat/completions          fixed ~1 KB chat.completion (with usage)
//   ... with "stream": true in the body  text/event-stream, chunked: 8 content
//                                        chunks, a usage chunk, data: [DONE]
//   GET  /healthz                        200 "ok"
//   anything else                        404
//
// Flags: --host, --port (0 = any; the chosen port is printed), --threads (one
// event loop and one SO_REUSEPORT acceptor each), --delay-ms (wait before the
// response head, to mimic a model's time to first token), --chunk-delay-ms
// (wait between streamed events; 0 writes the whole stream at once). Waits are
// asio timers, never sleeping threads.
//
// Threading: one io_context per thread, each with its own acceptor; a
// connection stays on the loop that accepted it. SIGINT/SIGTERM stop every
// loop; the number of requests served is printed on exit.
//
// Errors: bad flags exit 2; a port that cannot be bound exits 1 with the
// reason. A malformed request gets 400 and the connection is closed.

// clang-format off
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
// clang-format on

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "proxy/bodies.h"

namespace switchyard::bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024 * 1024;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 18401;
  int threads = 2;
  int delay_ms = 0;
  int chunk_delay_ms = 0;
};

// Every byte the server ever writes, built once at start-up.
struct Responses {
  std::string json;                 // whole response, head and body
  std::string sse_head;             // head of the streamed response
  std::vector<std::string> events;  // each SSE event framed as one HTTP chunk
  std::string sse_all;              // sse_head + events + last chunk
  std::string health;
  std::string not_found;
  std::string bad_request;
};

constexpr std::string_view kLastChunk = "0\r\n\r\n";

std::string Chunk(std::string_view data) {
  char size[16];
  auto [end, ec] = std::to_chars(size, size + sizeof(size), data.size(), 16);
  (void)ec;
  std::string out(size, end);
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

std::string Fixed(int status, std::string_view reason, std::string_view type, std::string_view body,
                  bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: " + std::string(type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

Responses BuildResponses() {
  Responses r;
  r.json = Fixed(200, "OK", "application/json", ChatCompletionBody(), false);
  r.sse_head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (const std::string& data : StreamChunkData())
    r.events.push_back(Chunk("data: " + data + "\n\n"));
  r.events.push_back(Chunk("data: [DONE]\n\n"));
  r.sse_all = r.sse_head;
  for (const auto& e : r.events) r.sse_all += e;
  r.sse_all += kLastChunk;
  r.health = Fixed(200, "OK", "text/plain", "ok\n", false);
  r.not_found = Fixed(404, "Not Found", "application/json",
                      R"({"error":{"message":"not found","type":"invalid_request_error"}})", false);
  r.bad_request = Fixed(400, "Bad Request", "text/plain", "bad request\n", true);
  return r;
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IContains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (IEquals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when the JSON body has "stream" set to true (whitespace tolerated).
bool WantsStream(std::string_view body) {
  size_t pos = 0;
  while ((pos = body.find("\"stream\"", pos)) != std::string_view::npos) {
    pos += 8;
    size_t i = pos;
    while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' ||
                               body[i] == '\r' || body[i] == ':')) {
      ++i;
    }
    if (body.substr(i, 4) == "true") return true;
  }
  return false;
}

struct Head {
  std::string_view method;
  std::string_view target;
  bool http10 = false;
  bool close = false;
  bool chunked = false;
  bool expect_continue = false;
  size_t content_length = 0;
};

// Parses the head in [0, end) of `buf` (end excludes the blank line).
bool ParseHead(std::string_view head, Head& out) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.0") {
    out.http10 = true;
    out.close = true;
  } else if (version != "HTTP/1.1") {
    return false;
  }
  while (eol != std::string_view::npos) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view field = head.substr(start, eol == std::string_view::npos ? eol : eol - start);
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = field.substr(0, colon);
    std::string_view value = Trim(field.substr(colon + 1));
    if (IEquals(name, "content-length")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), out.content_length);
      if (ec != std::errc() || p != value.data() + value.size()) return false;
    } else if (IEquals(name, "transfer-encoding")) {
      out.chunked = IContains(value, "chunked");
    } else if (IEquals(name, "connection")) {
      if (IContains(value, "close")) out.close = true;
      if (IContains(value, "keep-alive")) out.close = false;
    } else if (IEquals(name, "expect")) {
      out.expect_continue = IContains(value, "100-continue");
    }
  }
  return out.content_length <= kMaxBodyBytes;
}

// Decodes a chunked body that starts at buf[pos]. Returns the offset just
// past the body when it is complete, 0 when more bytes are needed, npos when
// it is malformed. The decoded payload is appended to `body`.
size_t DecodeChunked(std::string_view buf, size_t pos, std::string& body) {
  body.clear();
  for (;;) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return 0;
    size_t size = 0;
    std::string_view hex = buf.substr(pos, eol - pos);
    hex = hex.substr(0, hex.find(';'));
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
    if (ec != std::errc() || size > kMaxBodyBytes) return std::string_view::npos;
    pos = eol + 2;
    if (size == 0) {
      // Trailers end with an empty line.
      for (;;) {
        size_t end = buf.find("\r\n", pos);
        if (end == std::string_view::npos) return 0;
        if (end == pos) return end + 2;
        pos = end + 2;
      }
    }
    if (buf.size() < pos + size + 2) return 0;
    body.append(buf.substr(pos, size));
    pos += size + 2;
  }
}

class Server {
 public:
  Server(const Options& options, const Responses& responses)
      : options_(options), responses_(responses) {}

  awaitable<void> Accept(tcp::acceptor acceptor, std::atomic<uint64_t>& served) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
      asio::co_spawn(acceptor.get_executor(), Serve(std::move(socket), served), asio::detached);
    }
  }

 private:
  awaitable<void> Serve(tcp::socket socket, std::atomic<uint64_t>& served) {
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    asio::steady_timer timer(socket.get_executor());
    std::string buf;
    std::string body;
    std::array<char, 16384> tmp;
    auto fill = [&]() -> awaitable<bool> {
      size_t n = co_await socket.async_read_some(asio::buffer(tmp),
                                                 asio::redirect_error(use_awaitable, ec));
      if (ec) co_return false;
      buf.append(tmp.data(), n);
      co_return true;
    };
    auto wait = [&](int ms) -> awaitable<void> {
      timer.expires_after(std::chrono::milliseconds(ms));
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    };
    auto write = [&](std::string_view data) -> awaitable<bool> {
      co_await asio::async_write(socket, asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(use_awaitable, ec));
      co_return !ec;
    };

    for (;;) {
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (buf.size() > kMaxHeadBytes) {
          co_await write(responses_.bad_request);
          co_return;
        }
        if (!co_await fill()) co_return;
      }
      Head head;
      if (!ParseHead(std::string_view(buf).substr(0, head_end), head)) {
        co_await write(responses_.bad_request);
        co_return;
      }
      if (head.expect_continue && !head.http10) {
        if (!co_await write("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
      }
      size_t consumed = 0;
      std::string_view request_body;
      if (head.chunked) {
        for (;;) {
          consumed = DecodeChunked(buf, head_end + 4, body);
          if (consumed == std::string_view::npos) {
            co_await write(responses_.bad_request);
            co_return;
          }
          if (consumed != 0) break;
          if (buf.size() > kMaxHeadBytes + kMaxBodyBytes) co_return;
          if (!co_await fill()) co_return;
        }
        request_body = body;
      } else {
        consumed = head_end + 4 + head.content_length;
        while (buf.size() < consumed) {
          if (!co_await fill()) co_return;
        }
        request_body = std::string_view(buf).substr(head_end + 4, head.content_length);
      }

      const std::string_view path = head.target.substr(0, head.target.find('?'));
      bool ok = true;
      if (head.method == "POST" && path == "/v1/chat/completions") {
        const bool stream = WantsStream(request_body);
        if (options_.delay_ms > 0) co_await wait(options_.delay_ms);
        if (!stream) {
          ok = co_await write(responses_.json);
        } else if (options_.chunk_delay_ms <= 0) {
          ok = co_await write(responses_.sse_all);
        } else {
          // Head and first event together, then one event per tick.
          std::string first = responses_.sse_head + responses_.events.front();
          ok = co_await write(first);
          for (size_t i = 1; ok && i < responses_.events.size(); ++i) {
            co_await wait(options_.chunk_delay_ms);
            ok = co_await write(responses_.events[i]);
          }
          if (ok) ok = co_await write(kLastChunk);
        }
      } else if (head.method == "GET" && path == "/healthz") {
        ok = co_await write(responses_.health);
      } else {
        ok = co_await write(responses_.not_found);
      }
      served.fetch_add(1, std::memory_order_relaxed);
      if (!ok || head.close) {
        socket.shutdown(tcp::socket::shutdown_send, ec);
        co_return;
      }
      buf.erase(0, consumed);
    }
  }

  const Options& options_;
  const Responses& responses_;
};

int Run(const Options& options) {
  const Responses responses = BuildResponses();
  Server server(options, responses);
  const size_t threads = static_cast<size_t>(std::max(1, options.threads));

  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<std::atomic<uint64_t>> served(threads);
  uint16_t port = options.port;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) {
    std::fprintf(stderr, "sy_bench_upstream: bad --host %s: %s\n", options.host.c_str(),
                 ec.message().c_str());
    return 2;
  }
  for (size_t i = 0; i < threads; ++i) {
    loops.push_back(std::make_unique<asio::io_context>(1));
    tcp::acceptor acceptor(*loops.back());
    const tcp::endpoint endpoint(address, port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.set_option(ReusePort(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(4096, ec);
    if (ec) {
      std::fprintf(stderr, "sy_bench_upstream: cannot listen on %s:%u: %s\n", options.host.c_str(),
                   port, ec.message().c_str());
      return 1;
    }
    port = acceptor.local_endpoint().port();  // port 0: later loops share the chosen one
    asio::co_spawn(*loops.back(), server.Accept(std::move(acceptor), served[i]), asio::detached);
  }

  asio::signal_set signals(*loops.front(), SIGINT, SIGTERM);
  signals.async_wait([&loops](const boost::system::error_code&, int) {
    for (auto& loop : loops) loop->stop();
  });

  std::printf("sy_bench_upstream listening on %s:%u (threads=%zu delay_ms=%d chunk_delay_ms=%d)\n",
              options.host.c_str(), port, threads, options.delay_ms, options.chunk_delay_ms);
  std::fflush(stdout);

  std::vector<std::thread> workers;
  for (size_t i = 1; i < threads; ++i) workers.emplace_back([&loops, i] { loops[i]->run(); });
  loops.front()->run();
  for (auto& w : workers) w.join();

  uint64_t total = 0;
  for (const auto& s : served) total += s.load();
  std::printf("sy_bench_upstream served %llu requests\n", static_cast<unsigned long long>(total));
  return 0;
}

}  // namespace
}  // namespace switchyard::bench

int main(int argc, char** argv) {
  switchyard::bench::Options options;
  CLI::App app{"Loopback OpenAI-compatible upstream for the proxy benchmark"};
  app.add_option("--host", options.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port (0 = any free port)")->capture_default_str();
  app.add_option("--threads", options.threads, "Event-loop threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--delay-ms", options.delay_ms, "Delay before each response head")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--chunk-delay-ms", options.chunk_delay_ms, "Delay between streamed events")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return switchyard::bench::Run(options);
}
