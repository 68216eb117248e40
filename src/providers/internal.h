// Helpers shared by the provider adapters (not part of the Provider contract).
#pragma once

#include <string>
#include <string_view>

namespace switchyard::providers {

// The upstream's error message from {"error":{"message":...}} or similar;
// the start of the body when it is not JSON.
std::string ExtractErrorMessage(std::string_view body);

// Largest non-streamed answer we accept from an upstream.
inline constexpr size_t kMaxUpstreamBody = 64 * 1024 * 1024;
// Largest error body we read from an upstream.
inline constexpr size_t kMaxErrorBody = 64 * 1024;

}  // namespace switchyard::providers
