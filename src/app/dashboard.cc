#include "app/dashboard.h"

namespace switchyard::app {

const DashboardAsset* FindDashboardAsset(std::string_view path) {
  std::string_view name;
  if (path == "/" || path == "/dashboard" || path == "/dashboard/") {
    name = "index.html";
  } else if (path.starts_with("/dashboard/")) {
    name = path.substr(std::string_view("/dashboard/").size());
  } else {
    return nullptr;
  }
  for (const DashboardAsset& a : DashboardAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

http::awaitable<void> ServeDashboardAsset(const DashboardAsset& asset, http::ResponseWriter& w) {
  http::ResponseHeaders headers;
  headers.emplace_back("Cache-Control", "no-cache");
  headers.emplace_back("X-Content-Type-Options", "nosniff");
  headers.emplace_back("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                       "script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
  co_await w.Send(200, asset.content_type, asset.body, headers);
}

}  // namespace switchyard::app
