// The operator dashboard: a static page (web/) compiled into the binary and
// served by the gateway at GET / and GET /dashboard/<file>. It reads the admin
// endpoints (admin_api.h) from the browser; with auth on it asks for the
// admin key and sends it as "Authorization: Bearer" (kept in sessionStorage).
//
// The assets are embedded at build time (src/app/embed_assets.cmake): no CDN,
// no files beside the binary, works offline.
// Thread-safety: the assets are immutable; every function may be called from
// any thread. Errors: none (an unknown path is not a dashboard path).
#pragma once

#include <span>
#include <string_view>

#include "http/asio.h"
#include "http/server.h"

namespace switchyard::app {

struct DashboardAsset {
  std::string_view name;  // file name in web/, e.g. "index.html"
  std::string_view content_type;
  std::string_view body;
};

// Every embedded asset (generated code).
std::span<const DashboardAsset> DashboardAssets();

// The asset a request path names: "/" -> index.html, "/dashboard/<name>" ->
// <name>; null for any other path. `path` has no query string.
const DashboardAsset* FindDashboardAsset(std::string_view path);

// Sends `asset` (200, its content type, no-cache so a new binary's page is
// picked up, and a restrictive Content-Security-Policy: same origin only).
http::awaitable<void> ServeDashboardAsset(const DashboardAsset& asset, http::ResponseWriter& w);

}  // namespace switchyard::app
