#include "api/errors.h"

#include "core/json_writer.h"

namespace switchyard::api {

int HttpStatusFor(core::StatusCode code) {
  using core::StatusCode;
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kMethodNotAllowed:
      return 405;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnavailable:
      return 502;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kFailedPrecondition:
      return 500;
  }
  return 500;
}

std::string_view OpenAiErrorType(int http_status) {
  switch (http_status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 429:
      return "rate_limit_error";
    case 502:
      return "upstream_error";
    case 504:
      return "timeout_error";
    default:
      return http_status >= 500 ? "server_error" : "invalid_request_error";
  }
}

namespace {
std::string Body(int http_status, std::string_view message, std::string_view param,
                 std::string_view code) {
  std::string out;
  out.reserve(96 + message.size());
  core::JsonWriter w(out);
  w.BeginObject().Key("error").BeginObject();
  w.Field("message", message);
  w.Field("type", OpenAiErrorType(http_status));
  w.Key("param");
  if (param.empty()) {
    w.Null();
  } else {
    w.String(param);
  }
  w.Key("code");
  if (code.empty()) {
    w.Null();
  } else {
    w.String(code);
  }
  w.EndObject().EndObject();
  return out;
}
}  // namespace

std::string OpenAiErrorBody(const core::Status& status) {
  return Body(HttpStatusFor(status.code()), status.message(), status.param(), status.error_code());
}

std::string OpenAiErrorBody(int http_status, std::string_view message) {
  return Body(http_status, message, "", "");
}

}  // namespace switchyard::api
