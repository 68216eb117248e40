// ReadParsed: feeds one of Beast's HTTP parsers from a connection's buffer,
// reading from the stream only when the buffered bytes are not enough.
//
// Beast's async_read_some / async_read_header / async_read do the same with the
// same parser, but when the buffer already holds what they were asked for (a
// request that arrived in one segment; an upstream head and body read together)
// they post their completion through the event loop: three scheduler trips per
// proxied request, each also a chance for the loop to poll epoll. Here those
// cases return at once. Parsing stays Beast's; the loop mirrors its read_some
// (read size, end-of-stream and partial-message rules), so the error codes
// callers see are Beast's own:
//   bhttp::error::end_of_stream   the stream ended before any byte of a message
//   bhttp::error::partial_message the stream ended inside a message
//   bhttp::error::header_limit / body_limit / bad_* from the parser
//   bhttp::error::buffer_overflow the buffer cannot grow
//   bhttp::error::need_buffer     (kSome with a buffer_body) the body buffer is full
//   any error of the stream's async_read_some (operation_aborted, ...)
#pragma once

#include <cstddef>

#include "http/asio.h"

namespace switchyard::http {

enum class ReadUntil {
  kSome,     // some progress: parse what arrived, read only while nothing parses
  kHeader,   // the head is complete (the body is left in the buffer)
  kMessage,  // the whole message is complete
};

// The part of ReadParsed that reads nothing: parses what `buffer` holds. True
// when that settles the call (what `until` asks for is there, or an error is in
// `ec`); false when a read is needed. Callers on a hot path try it before
// ReadParsed to skip the coroutine frame (an allocation) when nothing needs reading:
//   if (!ParseBuffered(buffer, parser, until, ec)) co_await ReadParsed(...);
template <bool kIsRequest>
bool ParseBuffered(beast::flat_buffer& buffer, bhttp::basic_parser<kIsRequest>& parser,
                   ReadUntil until, boost::system::error_code& ec) {
  ec = {};
  if (until == ReadUntil::kHeader) parser.eager(false);
  if (until == ReadUntil::kMessage) parser.eager(true);
  for (;;) {
    if (until == ReadUntil::kHeader && parser.is_header_done()) return true;
    if (until == ReadUntil::kMessage && parser.is_done()) return true;
    if (buffer.size() == 0) return false;
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == bhttp::error::need_more) {
      ec = {};
      return false;
    }
    if (ec || until == ReadUntil::kSome) return true;
  }
}

template <class Stream, bool kIsRequest>
awaitable<void> ReadParsed(Stream& stream, beast::flat_buffer& buffer,
                           bhttp::basic_parser<kIsRequest>& parser, ReadUntil until,
                           boost::system::error_code& ec) {
  // Beast's read size cap for one read_some.
  constexpr size_t kMaxRead = 65536;
  while (!ParseBuffered(buffer, parser, until, ec)) {
    const size_t size = beast::read_size(buffer, kMaxRead);
    if (size == 0) {
      ec = bhttp::error::buffer_overflow;
      co_return;
    }
    const size_t n = co_await stream.async_read_some(buffer.prepare(size), Redirect(ec));
    buffer.commit(n);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) {
        ec = bhttp::error::end_of_stream;
        co_return;
      }
      // A message without a length ends with the stream; any other one is cut short
      // (put_eof says which: partial_message).
      ec = {};
      parser.put_eof(ec);
      co_return;
    }
    if (ec) co_return;
  }
}

}  // namespace switchyard::http
