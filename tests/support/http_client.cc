#include "support/http_client.h"

#include <utility>  // must precede Asio headers with Boost 1.74

#include <sys/socket.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "support/internal/socket_io.h"

namespace switchyard::testing {

namespace http = boost::beast::http;
using internal::Clock;
using internal::ErrorCode;
using internal::UniqueFd;

namespace {

using ResponseParser = http::response_parser<http::string_body>;

std::string Authority(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

core::Status TransportError(const ErrorCode& ec, std::string_view what, uint16_t port,
                            std::chrono::milliseconds timeout) {
  if (ec == boost::asio::error::timed_out) {
    return core::DeadlineExceeded("timed out after " + std::to_string(timeout.count()) +
                                  " ms waiting for " + Authority(port));
  }
  return core::Unavailable(std::string(what) + " " + Authority(port) + ": " + ec.message());
}

std::string BuildRequest(uint16_t port, std::string_view method, std::string_view target,
                         std::string_view body, const HeaderList& headers, bool one_shot) {
  bool has_host = false, has_length = false, has_connection = false;
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : headers) {
    std::string lower = internal::AsciiLower(name);
    has_host = has_host || lower == "host";
    has_length = has_length || lower == "content-length" || lower == "transfer-encoding";
    has_connection = has_connection || lower == "connection";
  }
  if (!has_host) out += "host: " + Authority(port) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    out += "content-length: " + std::to_string(body.size()) + "\r\n";
  }
  if (one_shot && !has_connection) out += "connection: close\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

template <class Fields>
std::map<std::string, std::string> LowerHeaders(const Fields& fields) {
  std::map<std::string, std::string> out;
  for (const auto& field : fields) {
    auto [it, inserted] =
        out.emplace(internal::AsciiLower(field.name_string()), std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());
  }
  return out;
}

void NewParser(std::optional<ResponseParser>& parser, bool is_head) {
  parser.emplace();
  // Not boost::none: Boost 1.74 compares `len > body_limit_` against the empty
  // optional and rejects every body with a Content-Length.
  parser->body_limit(std::uint64_t{1} << 40);
  parser->header_limit(1024 * 1024);
  if (is_head) parser->skip(true);
}

// Reads one complete response; keeps whatever arrived on failure.
void ReadResponse(internal::FdStream& stream, boost::beast::flat_buffer& buffer, bool is_head,
                  uint16_t port, std::chrono::milliseconds timeout, HttpResult& result,
                  bool& keep_alive) {
  std::optional<ResponseParser> parser;
  ErrorCode ec;
  // Skip interim 1xx responses (e.g. 100 Continue).
  for (;;) {
    NewParser(parser, is_head);
    http::read_header(stream, buffer, *parser, ec);
    if (ec || parser->get().result_int() >= 200) break;
  }
  if (!ec) http::read(stream, buffer, *parser, ec);
  if (parser->is_header_done()) {
    result.status = static_cast<int>(parser->get().result_int());
    result.headers = LowerHeaders(parser->get());
  }
  result.body = std::move(parser->get().body());
  keep_alive = !ec && parser->is_done() && parser->get().keep_alive();
  if (ec) result.error = TransportError(ec, "read response from", port, timeout);
}

StreamResult Stream(uint16_t port, std::string target, std::string body, HeaderList headers,
                    std::chrono::milliseconds timeout, std::optional<size_t> abort_after) {
  StreamResult result;
  result.started = Clock::now();
  const auto deadline = internal::DeadlineAfter(timeout);
  ErrorCode ec;
  UniqueFd fd = internal::ConnectLoopback(port, deadline, ec);
  if (ec) {
    result.error = TransportError(ec, "connect to", port, timeout);
    return result;
  }
  ec = internal::SendAll(fd.get(), BuildRequest(port, "POST", target, body, headers, true),
                         deadline, -1);
  if (ec) {
    result.error = TransportError(ec, "send request to", port, timeout);
    return result;
  }
  internal::FdStream stream(fd.get(), -1);
  stream.set_deadline(deadline);
  boost::beast::flat_buffer buffer;

  std::string current;  // chunk being assembled
  auto on_chunk = [&](std::uint64_t remain, std::string_view data, ErrorCode&) -> std::size_t {
    current.append(data);
    result.body.append(data);
    if (data.size() == remain) {
      result.pieces.push_back(std::move(current));
      result.arrival_times.push_back(Clock::now());
      current.clear();
    }
    return data.size();
  };
  std::optional<ResponseParser> parser;
  for (;;) {
    NewParser(parser, false);
    parser->on_chunk_body(on_chunk);
    http::read_header(stream, buffer, *parser, ec);
    if (ec || parser->get().result_int() >= 200) break;
  }
  if (!ec) {
    result.status = static_cast<int>(parser->get().result_int());
    result.headers = LowerHeaders(parser->get());
  }
  auto reached_abort = [&] { return abort_after && result.body.size() >= *abort_after; };
  while (!ec && !parser->is_done() && !reached_abort()) {
    http::read_some(stream, buffer, *parser, ec);
    if (!parser->chunked()) {
      const std::string& so_far = parser->get().body();
      if (so_far.size() > result.body.size()) {
        result.pieces.push_back(so_far.substr(result.body.size()));
        result.arrival_times.push_back(Clock::now());
        result.body = so_far;
      }
    }
  }
  if (!current.empty()) {  // an incomplete chunk when the stream broke or was aborted
    result.pieces.push_back(std::move(current));
    result.arrival_times.push_back(Clock::now());
  }
  if (ec) {
    result.error = TransportError(ec, "read response from", port, timeout);
  }
  return result;  // `fd` closes here: for an abort, while the response is still flowing
}

}  // namespace

HttpResult HttpRequest(uint16_t port, std::string method, std::string target, std::string body,
                       HeaderList headers, std::chrono::milliseconds timeout) {
  HttpResult result;
  const auto deadline = internal::DeadlineAfter(timeout);
  ErrorCode ec;
  UniqueFd fd = internal::ConnectLoopback(port, deadline, ec);
  if (ec) {
    result.error = TransportError(ec, "connect to", port, timeout);
    return result;
  }
  ec = internal::SendAll(fd.get(), BuildRequest(port, method, target, body, headers, true),
                         deadline, -1);
  if (ec) {
    result.error = TransportError(ec, "send request to", port, timeout);
    return result;
  }
  internal::FdStream stream(fd.get(), -1);
  stream.set_deadline(deadline);
  boost::beast::flat_buffer buffer;
  bool keep_alive = false;
  ReadResponse(stream, buffer, method == "HEAD", port, timeout, result, keep_alive);
  return result;
}

StreamResult HttpStream(uint16_t port, std::string target, std::string body, HeaderList headers,
                        std::chrono::milliseconds timeout) {
  return Stream(port, std::move(target), std::move(body), std::move(headers), timeout,
                std::nullopt);
}

StreamResult HttpStreamAbortAfter(uint16_t port, std::string target, std::string body,
                                  size_t abort_after_bytes, HeaderList headers,
                                  std::chrono::milliseconds timeout) {
  return Stream(port, std::move(target), std::move(body), std::move(headers), timeout,
                abort_after_bytes);
}

std::string RawExchange(uint16_t port, std::string_view raw, std::chrono::milliseconds timeout) {
  const auto deadline = internal::DeadlineAfter(timeout);
  ErrorCode ec;
  UniqueFd fd = internal::ConnectLoopback(port, deadline, ec);
  if (ec) return "";
  std::string out;
  // Keep reading even if the server closed before taking all of `raw`.
  (void)internal::SendAll(fd.get(), raw, deadline, -1);
  char buf[16 * 1024];
  for (;;) {
    std::size_t n = internal::RecvSome(fd.get(), buf, sizeof(buf), deadline, -1, ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

struct HttpConnection::State {
  uint16_t port = 0;
  UniqueFd fd;
  boost::beast::flat_buffer buffer;
};

HttpConnection::HttpConnection(std::unique_ptr<State> state) : state_(std::move(state)) {}
HttpConnection::~HttpConnection() = default;

core::Result<std::unique_ptr<HttpConnection>> HttpConnection::Connect(
    uint16_t port, std::chrono::milliseconds timeout) {
  ErrorCode ec;
  UniqueFd fd = internal::ConnectLoopback(port, internal::DeadlineAfter(timeout), ec);
  if (ec) return TransportError(ec, "connect to", port, timeout);
  auto state = std::make_unique<State>();
  state->port = port;
  state->fd = std::move(fd);
  return std::unique_ptr<HttpConnection>(new HttpConnection(std::move(state)));
}

bool HttpConnection::open() const {
  return state_->fd.valid();
}

HttpResult HttpConnection::Request(std::string method, std::string target, std::string body,
                                   HeaderList headers, std::chrono::milliseconds timeout) {
  HttpResult result;
  const uint16_t port = state_->port;
  if (!open()) {
    result.error = core::Unavailable("connection to " + Authority(port) + " is closed");
    return result;
  }
  const auto deadline = internal::DeadlineAfter(timeout);
  ErrorCode ec = internal::SendAll(
      state_->fd.get(), BuildRequest(port, method, target, body, headers, false), deadline, -1);
  if (ec) {
    result.error = TransportError(ec, "send request to", port, timeout);
    state_->fd.Reset();
    return result;
  }
  internal::FdStream stream(state_->fd.get(), -1);
  stream.set_deadline(deadline);
  bool keep_alive = false;
  ReadResponse(stream, state_->buffer, method == "HEAD", port, timeout, result, keep_alive);
  if (!keep_alive) state_->fd.Reset();
  return result;
}

}  // namespace switchyard::testing
