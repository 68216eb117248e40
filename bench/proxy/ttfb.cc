// sy_bench_ttfb: time to first streamed byte, for bench/proxy/run.sh.
//
// Sends N streamed chat requests one after another over one keep-alive
// connection (reconnecting only if the server closes it) and, for each, times
// from the first byte of the request written to (a) the first byte of the
// response body (the first streamed byte), (b) the first "data:" event, and
// (c) the end of the response. The first --warmup requests are not counted.
// Prints one line of medians and 90th percentiles in microseconds:
//
//   TTFB n=200 first_byte_p50_us=... first_byte_p90_us=... first_data_p50_us=...
//        first_data_p90_us=... total_p50_us=... total_p90_us=... errors=...
//
// Blocking POSIX sockets on one thread: the client adds the same constant cost
// to every target, which cancels in "proxy minus direct".
//
// Errors: bad flags exit 2; if the server cannot be reached or no request
// succeeds, exits 1 with the reason on stderr. A non-2xx answer counts as an
// error and is not timed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace switchyard::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/v1/chat/completions";
  std::string model = "gpt-4o-mini";
  std::vector<std::string> headers;
  int requests = 200;
  int warmup = 20;
};

struct Sample {
  double first_byte_us = 0;
  double first_data_us = 0;
  double total_us = 0;
};

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

class Client {
 public:
  explicit Client(const Options& o) : options_(o) {}
  ~Client() { Close(); }

  bool Connect(std::string& error) {
    Close();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return Fail(error, "socket");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options_.port);
    if (::inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) {
      error = "bad host " + options_.host;
      return false;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Fail(error, "connect");
    }
    buf_.clear();
    return true;
  }

  // One request; false with `error` set on a transport or HTTP failure.
  bool Exchange(const std::string& request, Sample& sample, std::string& error) {
    if (fd_ < 0 && !Connect(error)) return false;
    const auto start = Clock::now();
    if (!WriteAll(request, error)) {
      // A kept-alive connection the server closed meanwhile: retry once.
      if (!Connect(error) || !WriteAll(request, error)) return false;
    }
    // Head.
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(error)) return false;
    }
    std::string_view head(buf_.data(), head_end);
    int status = 0;
    if (head.size() > 12) std::from_chars(head.data() + 9, head.data() + 12, status);
    bool chunked = false;
    bool close = false;
    long long length = -1;
    size_t eol = head.find("\r\n");
    while (eol != std::string_view::npos) {
      size_t start_line = eol + 2;
      eol = head.find("\r\n", start_line);
      std::string_view field =
          head.substr(start_line, eol == std::string_view::npos ? eol : eol - start_line);
      size_t colon = field.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = field.substr(0, colon);
      std::string_view value = field.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (IEquals(name, "transfer-encoding")) {
        chunked = value.find("chunked") != std::string_view::npos;
      } else if (IEquals(name, "content-length")) {
        std::from_chars(value.data(), value.data() + value.size(), length);
      } else if (IEquals(name, "connection")) {
        close = value.find("close") != std::string_view::npos;
      }
    }
    const size_t body_start = head_end + 4;
    // First body byte.
    while (buf_.size() <= body_start) {
      if (!Fill(error)) return false;
    }
    const auto first_byte = Clock::now();
    auto first_data = first_byte;
    bool saw_data = buf_.find("data:", body_start) != std::string::npos;
    // Rest of the body.
    size_t end = 0;
    for (;;) {
      if (!saw_data && buf_.find("data:", body_start) != std::string::npos) {
        saw_data = true;
        first_data = Clock::now();
      }
      if (chunked) {
        end = ChunkedEnd(body_start);
      } else if (length >= 0) {
        end = buf_.size() >= body_start + static_cast<size_t>(length)
                  ? body_start + static_cast<size_t>(length)
                  : 0;
      }
      if (end != 0) break;
      if (!Fill(error)) {
        if (!chunked && length < 0 && error == "server closed the connection") {
          end = buf_.size();  // body delimited by close
          close = true;
          break;
        }
        return false;
      }
    }
    const auto done = Clock::now();
    buf_.erase(0, end);
    if (close) Close();
    if (status < 200 || status > 299) {
      error = "HTTP status " + std::to_string(status);
      return false;
    }
    auto us = [&](Clock::time_point t) {
      return std::chrono::duration<double, std::micro>(t - start).count();
    };
    sample.first_byte_us = us(first_byte);
    sample.first_data_us = us(first_data);
    sample.total_us = us(done);
    return true;
  }

 private:
  bool Fail(std::string& error, const char* what) {
    error = std::string(what) + ": " + std::strerror(errno);
    Close();
    return false;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }

  bool WriteAll(std::string_view data, std::string& error) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail(error, "send");
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  bool Fill(std::string& error) {
    char tmp[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(error, "recv");
      if (n == 0) {
        error = "server closed the connection";
        return false;
      }
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
  }

  // Offset just past a complete chunked body starting at `pos`, else 0.
  size_t ChunkedEnd(size_t pos) const {
    for (;;) {
      size_t eol = buf_.find("\r\n", pos);
      if (eol == std::string::npos) return 0;
      size_t size = 0;
      auto [p, ec] = std::from_chars(buf_.data() + pos, buf_.data() + eol, size, 16);
      if (ec != std::errc()) return 0;
      pos = eol + 2;
      if (size == 0) {
        for (;;) {
          size_t end = buf_.find("\r\n", pos);
          if (end == std::string::npos) return 0;
          if (end == pos) return end + 2;
          pos = end + 2;
        }
      }
      if (buf_.size() < pos + size + 2) return 0;
      pos += size + 2;
    }
  }

  const Options& options_;
  int fd_ = -1;
  std::string buf_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

int Run(const Options& options) {
  const std::string body = R"({"model":")" + options.model +
                           R"(","stream":true,"stream_options":{"include_usage":true},)"
                           R"("messages":[{"role":"user","content":"Say hello."}]})";
  std::string request = "POST " + options.path + " HTTP/1.1\r\nHost: " + options.host + ":" +
                        std::to_string(options.port) +
                        "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n"
                        "Authorization: Bearer sk-bench\r\n";
  for (const auto& h : options.headers) request += h + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;

  Client client(options);
  std::string error;
  if (!client.Connect(error)) {
    std::fprintf(stderr, "sy_bench_ttfb: %s:%u: %s\n", options.host.c_str(), options.port,
                 error.c_str());
    return 1;
  }
  std::vector<double> first_byte, first_data, total;
  int errors = 0;
  std::string last_error;
  for (int i = 0; i < options.warmup + options.requests; ++i) {
    Sample s;
    if (!client.Exchange(request, s, error)) {
      ++errors;
      last_error = error;
      continue;
    }
    if (i < options.warmup) continue;
    first_byte.push_back(s.first_byte_us);
    first_data.push_back(s.first_data_us);
    total.push_back(s.total_us);
  }
  if (first_byte.empty()) {
    std::fprintf(stderr, "sy_bench_ttfb: no request succeeded (%d errors; last: %s)\n", errors,
                 last_error.c_str());
    return 1;
  }
  std::printf(
      "TTFB n=%zu first_byte_p50_us=%.1f first_byte_p90_us=%.1f first_data_p50_us=%.1f "
      "first_data_p90_us=%.1f total_p50_us=%.1f total_p90_us=%.1f errors=%d\n",
      first_byte.size(), Percentile(first_byte, 50), Percentile(first_byte, 90),
      Percentile(first_data, 50), Percentile(first_data, 90), Percentile(total, 50),
      Percentile(total, 90), errors);
  if (errors > 0) std::fprintf(stderr, "sy_bench_ttfb: last error: %s\n", last_error.c_str());
  return 0;
}

}  // namespace
}  // namespace switchyard::bench

int main(int argc, char** argv) {
  switchyard::bench::Options options;
  CLI::App app{"Time to first streamed byte over sequential streamed chat requests"};
  app.add_option("--host", options.host, "Server IPv4 address")->capture_default_str();
  app.add_option("--port", options.port, "Server port")->required();
  app.add_option("--path", options.path, "Request path")->capture_default_str();
  app.add_option("--model", options.model, "Model in the request body")->capture_default_str();
  app.add_option("-H,--header", options.headers, "Extra request header \"Name: value\"");
  app.add_option("-n,--requests", options.requests, "Timed requests")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup, "Untimed requests first")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return switchyard::bench::Run(options);
}
