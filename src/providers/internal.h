// Helpers shared by the provider adapters (not part of the Provider contract).
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/status.h"
#include "http/client.h"
#include "http/url.h"
#include "providers/provider.h"

namespace switchyard::providers {

// The upstream's error message from {"error":{"message":...}} or similar;
// the start of the body when it is not JSON.
std::string ExtractErrorMessage(std::string_view body);

// `s` with its message prefixed by "provider '<name>': ", detail kept.
core::Status NameProvider(std::string_view provider, const core::Status& s);

// Sends `body` to `target` on the provider's upstream with its timeouts and
// returns the response once its head arrived and it is a 2xx. Connection
// failures and non-2xx answers come back as a Status naming the provider
// (UpstreamHttpError), the upstream's error body read and summarised.
http::awaitable<core::Result<http::UpstreamResponse>> SendToUpstream(
    const config::ProviderConfig& cfg, const http::Url& url, std::string_view target,
    const http::HeaderList& headers, std::string_view body, const CallContext& ctx);

// Largest non-streamed answer we accept from an upstream.
inline constexpr size_t kMaxUpstreamBody = size_t{64} * 1024 * 1024;
// Largest error body we read from an upstream.
inline constexpr size_t kMaxErrorBody = size_t{64} * 1024;

}  // namespace switchyard::providers
