#include "ledger/record_json.h"

#include <simdjson.h>

#include "core/json_writer.h"

namespace switchyard::ledger {

void AppendRecordJson(std::string& out, const Record& r) {
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("id", r.id);
  w.Field("ts_ms", r.ts_ms);
  w.Field("tenant", r.tenant);
  w.Field("task", r.task);
  w.Field("route", r.route);
  w.Key("stages_tried").BeginArray();
  for (const auto& s : r.stages_tried) w.String(s);
  w.EndArray();
  w.Field("answered_by", r.answered_by);
  w.Field("provider", r.provider);
  w.Field("model", r.model);
  w.Field("stream", r.stream);
  w.Field("attempts", r.attempts);
  w.Field("input_tokens", r.input_tokens);
  w.Field("cached_input_tokens", r.cached_input_tokens);
  w.Field("cache_write_tokens", r.cache_write_tokens);
  w.Field("output_tokens", r.output_tokens);
  w.Field("reasoning_tokens", r.reasoning_tokens);
  w.Field("usage_estimated", r.usage_estimated);
  w.Field("cost_usd", r.cost_usd);
  w.Field("first_byte_ms", r.first_byte_ms);
  w.Field("total_ms", r.total_ms);
  w.Field("status", r.status);
  w.Field("error_code", r.error_code);
  w.Field("escalated", r.escalated);
  w.Key("confidence");
  if (r.confidence) {
    w.Double(*r.confidence);
  } else {
    w.Null();
  }
  w.Field("template_hash", r.template_hash);
  w.Field("route_reason", r.route_reason);
  w.Field("request_body", r.request_body);
  w.Field("response_body", r.response_body);
  w.Field("pii_findings", r.pii_findings);
  w.EndObject();
}

namespace {

core::Status Bad(std::string_view what) {
  return core::InvalidArgument("ledger record: " + std::string(what));
}

core::Status WrongType(std::string_view key, std::string_view expected) {
  return Bad("\"" + std::string(key) + "\" must be " + std::string(expected));
}

}  // namespace

core::Result<Record> ParseRecordJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return Bad(std::string("invalid JSON (") + simdjson::error_message(err) + ")");
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) return Bad("expected a JSON object");

  Record r;
  for (auto field : obj) {
    const std::string_view key = field.key;
    const simdjson::dom::element v = field.value;
    auto str = [&](std::string& out) -> core::Status {
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) return WrongType(key, "a string");
      out.assign(s);
      return core::Status::Ok();
    };
    auto i64 = [&](int64_t& out) -> core::Status {
      if (v.get(out) != simdjson::SUCCESS) return WrongType(key, "an integer");
      return core::Status::Ok();
    };
    auto dbl = [&](double& out) -> core::Status {
      if (v.get(out) != simdjson::SUCCESS) return WrongType(key, "a number");
      return core::Status::Ok();
    };
    auto boolean = [&](bool& out) -> core::Status {
      if (v.get(out) != simdjson::SUCCESS) return WrongType(key, "a boolean");
      return core::Status::Ok();
    };
    core::Status st;
    if (key == "id") {
      st = str(r.id);
    } else if (key == "ts_ms") {
      st = i64(r.ts_ms);
    } else if (key == "tenant") {
      st = str(r.tenant);
    } else if (key == "task") {
      st = str(r.task);
    } else if (key == "route") {
      st = str(r.route);
    } else if (key == "stages_tried") {
      simdjson::dom::array arr;
      if (v.get(arr) != simdjson::SUCCESS) return WrongType(key, "an array of strings");
      for (auto item : arr) {
        std::string_view s;
        if (item.get(s) != simdjson::SUCCESS) return WrongType(key, "an array of strings");
        r.stages_tried.emplace_back(s);
      }
    } else if (key == "answered_by") {
      st = str(r.answered_by);
    } else if (key == "provider") {
      st = str(r.provider);
    } else if (key == "model") {
      st = str(r.model);
    } else if (key == "stream") {
      st = boolean(r.stream);
    } else if (key == "attempts") {
      int64_t a = 0;
      st = i64(a);
      r.attempts = static_cast<int>(a);
    } else if (key == "input_tokens") {
      st = i64(r.input_tokens);
    } else if (key == "cached_input_tokens") {
      st = i64(r.cached_input_tokens);
    } else if (key == "cache_write_tokens") {
      st = i64(r.cache_write_tokens);
    } else if (key == "output_tokens") {
      st = i64(r.output_tokens);
    } else if (key == "reasoning_tokens") {
      st = i64(r.reasoning_tokens);
    } else if (key == "usage_estimated") {
      st = boolean(r.usage_estimated);
    } else if (key == "cost_usd") {
      st = dbl(r.cost_usd);
    } else if (key == "first_byte_ms") {
      st = dbl(r.first_byte_ms);
    } else if (key == "total_ms") {
      st = dbl(r.total_ms);
    } else if (key == "status") {
      int64_t s = 0;
      st = i64(s);
      r.status = static_cast<int>(s);
    } else if (key == "error_code") {
      st = str(r.error_code);
    } else if (key == "escalated") {
      st = boolean(r.escalated);
    } else if (key == "confidence") {
      if (!v.is_null()) {
        double c = 0;
        st = dbl(c);
        r.confidence = c;
      }
    } else if (key == "template_hash") {
      st = str(r.template_hash);
    } else if (key == "route_reason") {
      st = str(r.route_reason);
    } else if (key == "request_body") {
      st = str(r.request_body);
    } else if (key == "response_body") {
      st = str(r.response_body);
    } else if (key == "pii_findings") {
      st = str(r.pii_findings);
    }
    if (!st.ok()) return st;
  }
  if (r.id.empty()) return Bad("missing \"id\"");
  return r;
}

}  // namespace switchyard::ledger
