// AdminApi: the operator's JSON endpoints under /admin/, served by the gateway.
//
//   GET /admin/ledger/stats?since=24h&by=model   same figures as `switchyard ledger stats --json`
//   GET /admin/ledger/tail?n=20                  the latest records as JSON
//
// Database reads run on a small thread pool of their own, never on an event
// loop; the answer is written back from the request's loop. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "http/asio.h"
#include "http/server.h"

namespace switchyard::app {

class AdminApi {
 public:
  explicit AdminApi(std::string ledger_path);
  ~AdminApi();

  // Handles a request whose path starts with /admin/.
  http::awaitable<void> Handle(http::ServerRequest& req, http::ResponseWriter& w);

 private:
  std::string ledger_path_;
  http::asio::thread_pool pool_{1};
};

}  // namespace switchyard::app
