#include "http/url.h"

#include <charconv>

namespace switchyard::http {

std::string Origin::Key() const {
  std::string k = tls ? "https://" : "http://";
  k += host;
  k += ':';
  k += std::to_string(port);
  return k;
}

std::string Origin::HostHeader() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  if ((tls && port != 443) || (!tls && port != 80)) {
    h += ':';
    h += std::to_string(port);
  }
  return h;
}

core::Result<Url> Url::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    std::string msg = "expected an http:// or https:// URL, got \"";
    msg += text;
    msg += '"';
    if (!why.empty()) {
      msg += " (";
      msg += why;
      msg += ')';
    }
    return core::InvalidArgument(std::move(msg));
  };
  Url url;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    url.origin.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad("");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.empty()) return bad("no host");
  if (authority.find('@') != std::string_view::npos)
    return bad("credentials in URLs are not supported");
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return bad("no host");
  url.origin.host = std::string(host);
  url.origin.port = url.origin.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad("bad port");
    }
    url.origin.port = static_cast<uint16_t>(port);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);
  return url;
}

}  // namespace switchyard::http
