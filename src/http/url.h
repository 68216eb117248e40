// Url: the parts of an upstream base URL the client needs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace switchyard::http {

struct Origin {
  bool tls = false;
  std::string host;  // name or address, without brackets for IPv6
  uint16_t port = 0;

  // "https://host:443" — the key of a connection pool.
  std::string Key() const;
  // The Host header value ("host" or "host:port" when the port is not the default).
  std::string HostHeader() const;
  bool operator==(const Origin&) const = default;
};

struct Url {
  Origin origin;
  std::string path;  // "/v1" (no trailing slash); "" for the root

  // Accepts http:// and https:// URLs with optional port and path. Errors:
  // InvalidArgument "expected an http:// or https:// URL, got \"...\"".
  static core::Result<Url> Parse(std::string_view text);
};

}  // namespace switchyard::http
