// Status → HTTP status and OpenAI error object. The only place that decides
// which HTTP status a failure gets.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace switchyard::api {

int HttpStatusFor(core::StatusCode code);

// {"error":{"message":...,"type":...,"param":...,"code":...}}
std::string OpenAiErrorBody(const core::Status& status);
// Same shape from a bare HTTP status and message (server-level errors).
std::string OpenAiErrorBody(int http_status, std::string_view message);

// The OpenAI "type" for an HTTP status: invalid_request_error, authentication_error,
// permission_error, rate_limit_error, server_error, upstream_error, timeout_error.
std::string_view OpenAiErrorType(int http_status);

}  // namespace switchyard::api
