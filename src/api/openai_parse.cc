#include "api/openai_parse.h"

#include <cmath>

#include <simdjson.h>

#include "core/json_writer.h"

namespace switchyard::api {
namespace {

namespace od = simdjson::ondemand;
using core::Status;

// A request field's path ("messages[1].content"), made into text only for an
// error message: reading a valid request builds no path strings. A Path
// points at its parent, which must outlive it (paths live on the stack of
// the reader functions below).
class Path {
 public:
  Path(const char* name) : name_(name) {}       // NOLINT(google-explicit-constructor)
  Path(std::string_view name) : name_(name) {}  // NOLINT(google-explicit-constructor)
  Path(const Path& parent, std::string_view name) : parent_(&parent), name_(name) {}
  Path(const Path& parent, size_t index) : parent_(&parent), index_(index), is_index_(true) {}

  std::string str() const {
    std::string out = parent_ != nullptr ? parent_->str() : std::string();
    if (is_index_) {
      out += '[';
      out += std::to_string(index_);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += name_;
    }
    return out;
  }

 private:
  const Path* parent_ = nullptr;
  std::string_view name_;
  size_t index_ = 0;
  bool is_index_ = false;
};

Status Bad(std::string message, std::string param) {
  Status s = core::InvalidArgument(std::move(message));
  s.set_param(std::move(param));
  return s;
}
Status MustBe(const Path& path, std::string_view what) {
  std::string field = path.str();
  std::string message = "field '" + field + "' must be " + std::string(what);
  return Bad(std::move(message), std::move(field));
}
Status Missing(const Path& path) {
  std::string field = path.str();
  std::string message = "missing required field '" + field + "'";
  return Bad(std::move(message), std::move(field));
}
Status Malformed(simdjson::error_code err) {
  return Bad(std::string("request body is not valid JSON: ") + simdjson::error_message(err), "");
}

bool IsJsonSyntaxError(simdjson::error_code err) {
  return err != simdjson::SUCCESS && err != simdjson::INCORRECT_TYPE &&
         err != simdjson::NO_SUCH_FIELD && err != simdjson::NUMBER_OUT_OF_RANGE;
}

Status ReadString(od::value v, const Path& field, std::string& out) {
  std::string_view sv;
  auto err = v.get_string().get(sv);
  if (err) return IsJsonSyntaxError(err) ? Malformed(err) : MustBe(field, "a string");
  out.assign(sv);
  return Status::Ok();
}

Status ReadContentParts(od::array arr, const Path& field, core::Message& msg) {
  size_t i = 0;
  for (auto element : arr) {
    const Path pf(field, i++);
    od::object part;
    if (auto err = element.get_object().get(part)) {
      return IsJsonSyntaxError(err) ? Malformed(err) : MustBe(pf, "an object");
    }
    core::ContentPart cp;
    std::string type;
    std::string_view raw;
    if (auto err = part.raw_json().get(raw)) return Malformed(err);
    cp.raw_json.assign(raw);
    part.reset();
    for (auto f : part) {
      std::string_view key;
      if (auto err = f.unescaped_key().get(key)) return Malformed(err);
      if (key == "type") {
        if (auto s = ReadString(f.value(), Path(pf, "type"), type); !s.ok()) return s;
      } else if (key == "text") {
        if (auto s = ReadString(f.value(), Path(pf, "text"), cp.text); !s.ok()) return s;
      } else if (key == "image_url") {
        od::object img;
        if (auto err = f.value().get_object().get(img)) {
          return IsJsonSyntaxError(err) ? Malformed(err)
                                        : MustBe(Path(pf, "image_url"), "an object");
        }
        for (auto g : img) {
          std::string_view gk;
          if (auto err = g.unescaped_key().get(gk)) return Malformed(err);
          if (gk == "url") {
            if (auto s = ReadString(g.value(), Path(pf, "image_url.url"), cp.url); !s.ok())
              return s;
          }
        }
      }
    }
    if (type.empty()) return Missing(Path(pf, "type"));
    if (type == "text") {
      cp.kind = core::ContentPart::Kind::kText;
      if (!msg.content.empty()) msg.content.push_back('\n');
      msg.content += cp.text;
    } else if (type == "image_url") {
      cp.kind = core::ContentPart::Kind::kImageUrl;
      if (cp.url.empty()) return Missing(Path(pf, "image_url.url"));
    } else {
      cp.kind = core::ContentPart::Kind::kOther;
    }
    msg.parts.push_back(std::move(cp));
  }
  return Status::Ok();
}

Status ReadToolCalls(od::array arr, const Path& field, core::Message& msg) {
  size_t i = 0;
  for (auto element : arr) {
    const Path pf(field, i++);
    od::object call;
    if (auto err = element.get_object().get(call)) {
      return IsJsonSyntaxError(err) ? Malformed(err) : MustBe(pf, "an object");
    }
    core::ToolCall tc;
    for (auto f : call) {
      std::string_view key;
      if (auto err = f.unescaped_key().get(key)) return Malformed(err);
      if (key == "id") {
        if (auto s = ReadString(f.value(), Path(pf, "id"), tc.id); !s.ok()) return s;
      } else if (key == "function") {
        od::object fn;
        if (auto err = f.value().get_object().get(fn)) {
          return IsJsonSyntaxError(err) ? Malformed(err)
                                        : MustBe(Path(pf, "function"), "an object");
        }
        for (auto g : fn) {
          std::string_view gk;
          if (auto err = g.unescaped_key().get(gk)) return Malformed(err);
          if (gk == "name") {
            if (auto s = ReadString(g.value(), Path(pf, "function.name"), tc.name); !s.ok())
              return s;
          } else if (gk == "arguments") {
            if (auto s = ReadString(g.value(), Path(pf, "function.arguments"), tc.arguments);
                !s.ok()) {
              return s;
            }
          }
        }
      }
    }
    msg.tool_calls.push_back(std::move(tc));
  }
  return Status::Ok();
}

Status ReadMessage(od::value v, const Path& field, core::Message& msg) {
  od::object obj;
  if (auto err = v.get_object().get(obj)) {
    return IsJsonSyntaxError(err) ? Malformed(err) : MustBe(field, "an object");
  }
  bool has_content = false;
  for (auto f : obj) {
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return Malformed(err);
    od::value val;
    if (auto err = f.value().get(val)) return Malformed(err);
    if (key == "role") {
      if (auto s = ReadString(val, Path(field, "role"), msg.role); !s.ok()) return s;
    } else if (key == "content") {
      has_content = true;
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::string) {
        if (auto s = ReadString(val, Path(field, "content"), msg.content); !s.ok()) return s;
      } else if (type == od::json_type::array) {
        od::array arr;
        if (auto err = val.get_array().get(arr)) return Malformed(err);
        if (auto s = ReadContentParts(arr, Path(field, "content"), msg); !s.ok()) return s;
      } else if (type == od::json_type::null) {
        bool is_null = false;
        if (auto err = val.is_null().get(is_null)) return Malformed(err);
        msg.content_is_null = true;
      } else {
        return MustBe(Path(field, "content"), "a string, an array of content parts, or null");
      }
    } else if (key == "name") {
      if (auto s = ReadString(val, Path(field, "name"), msg.name); !s.ok()) return s;
    } else if (key == "tool_call_id") {
      if (auto s = ReadString(val, Path(field, "tool_call_id"), msg.tool_call_id); !s.ok())
        return s;
    } else if (key == "tool_calls") {
      od::array arr;
      if (auto err = val.get_array().get(arr)) {
        return IsJsonSyntaxError(err) ? Malformed(err)
                                      : MustBe(Path(field, "tool_calls"), "an array");
      }
      if (auto s = ReadToolCalls(arr, Path(field, "tool_calls"), msg); !s.ok()) return s;
    }
  }
  if (msg.role.empty()) return Missing(Path(field, "role"));
  if (msg.role != "system" && msg.role != "developer" && msg.role != "user" &&
      msg.role != "assistant" && msg.role != "tool" && msg.role != "function") {
    std::string role = Path(field, "role").str();
    std::string message = "field '" + role +
                          "' must be one of system, developer, user, assistant, tool; got \"" +
                          msg.role + "\"";
    return Bad(std::move(message), std::move(role));
  }
  if (!has_content && msg.tool_calls.empty() && msg.role != "assistant") {
    return Missing(Path(field, "content"));
  }
  if (!has_content) msg.content_is_null = true;
  return Status::Ok();
}

Status ReadNumber(od::value v, const Path& field, double lo, double hi,
                  std::optional<double>& out) {
  double d = 0;
  auto err = v.get_double().get(d);
  if (err) return IsJsonSyntaxError(err) ? Malformed(err) : MustBe(field, "a number");
  if (!std::isfinite(d) || d < lo || d > hi) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "a number between %g and %g", lo, hi);
    return MustBe(field, buf);
  }
  out = d;
  return Status::Ok();
}

}  // namespace

struct ChatRequestParser::Impl {
  od::parser parser;
};

ChatRequestParser::ChatRequestParser() : impl_(std::make_unique<Impl>()) {}
ChatRequestParser::~ChatRequestParser() = default;

core::Result<core::ChatRequest> ChatRequestParser::Parse(std::string& body) {
  const size_t len = body.size();
  if (body.capacity() < len + simdjson::SIMDJSON_PADDING) {
    body.reserve(len + simdjson::SIMDJSON_PADDING);
  }
  if (len == 0) return Bad("request body is empty; expected a JSON object", "");
  od::document doc;
  if (auto err = impl_->parser.iterate(body.data(), len, body.capacity()).get(doc)) {
    return Malformed(err);
  }
  od::object obj;
  if (auto err = doc.get_object().get(obj)) {
    return IsJsonSyntaxError(err) ? Malformed(err) : Bad("request body must be a JSON object", "");
  }
  core::ChatRequest req;
  bool has_model = false;
  bool has_messages = false;
  for (auto f : obj) {
    std::string_view key;
    if (auto err = f.unescaped_key().get(key)) return Malformed(err);
    od::value val;
    if (auto err = f.value().get(val)) return Malformed(err);
    if (key == "model") {
      std::string_view token = val.raw_json_token();
      if (auto s = ReadString(val, "model", req.model); !s.ok()) return s;
      if (req.model.empty()) return Bad("field 'model' must not be empty", "model");
      has_model = true;
      // raw_json_token may include trailing whitespace; the string ends at the
      // last quote.
      while (!token.empty() && token.back() != '"') token.remove_suffix(1);
      req.model_value_offset = static_cast<size_t>(token.data() - body.data());
      req.model_value_length = token.size();
    } else if (key == "messages") {
      od::array arr;
      if (auto err = val.get_array().get(arr)) {
        return IsJsonSyntaxError(err) ? Malformed(err) : MustBe("messages", "an array");
      }
      const Path messages("messages");
      size_t i = 0;
      req.messages.reserve(4);  // a system and a user message, mostly: one allocation
      for (auto element : arr) {
        od::value ev;
        if (auto err = element.get(ev)) return Malformed(err);
        core::Message msg;
        if (auto s = ReadMessage(ev, Path(messages, i++), msg); !s.ok()) {
          return s;
        }
        req.messages.push_back(std::move(msg));
      }
      has_messages = true;
    } else if (key == "stream") {
      if (auto err = val.get_bool().get(req.stream)) {
        return IsJsonSyntaxError(err) ? Malformed(err) : MustBe("stream", "a boolean");
      }
    } else if (key == "stream_options") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      od::object so;
      if (auto err = val.get_object().get(so)) {
        return IsJsonSyntaxError(err) ? Malformed(err) : MustBe("stream_options", "an object");
      }
      req.has_stream_options = true;
      for (auto g : so) {
        std::string_view gk;
        if (auto err = g.unescaped_key().get(gk)) return Malformed(err);
        if (gk == "include_usage") {
          if (auto err = g.value().get_bool().get(req.include_usage)) {
            return IsJsonSyntaxError(err) ? Malformed(err)
                                          : MustBe("stream_options.include_usage", "a boolean");
          }
        }
      }
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      const Path field(key);
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      int64_t n = 0;
      if (auto err = val.get_int64().get(n)) {
        return IsJsonSyntaxError(err) ? Malformed(err) : MustBe(field, "a positive integer");
      }
      if (n <= 0) return MustBe(field, "a positive integer");
      req.max_tokens = n;
    } else if (key == "temperature") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      if (auto s = ReadNumber(val, "temperature", 0, 2, req.temperature); !s.ok()) return s;
    } else if (key == "top_p") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      if (auto s = ReadNumber(val, "top_p", 0, 1, req.top_p); !s.ok()) return s;
    } else if (key == "stop") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      if (type == od::json_type::string) {
        std::string s;
        if (auto st = ReadString(val, "stop", s); !st.ok()) return st;
        req.stop.push_back(std::move(s));
      } else if (type == od::json_type::array) {
        od::array arr;
        if (auto err = val.get_array().get(arr)) return Malformed(err);
        const Path stop("stop");
        size_t i = 0;
        for (auto element : arr) {
          od::value ev;
          if (auto err = element.get(ev)) return Malformed(err);
          std::string s;
          if (auto st = ReadString(ev, Path(stop, i++), s); !st.ok()) {
            return st;
          }
          req.stop.push_back(std::move(s));
        }
      } else {
        return MustBe("stop", "a string or an array of strings");
      }
    } else if (key == "tools") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      if (type != od::json_type::array) return MustBe("tools", "an array");
      od::array arr;
      std::string_view raw;
      if (auto err = val.get_array().get(arr)) return Malformed(err);
      if (auto err = arr.raw_json().get(raw)) return Malformed(err);
      req.tools_json.assign(raw);
    } else if (key == "tool_choice") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      if (type != od::json_type::string && type != od::json_type::object) {
        return MustBe("tool_choice", "a string or an object");
      }
      std::string_view raw;
      if (type == od::json_type::string) {
        raw = val.raw_json_token();
        while (!raw.empty() && raw.back() != '"') raw.remove_suffix(1);
      } else {
        od::object choice;
        if (auto err = val.get_object().get(choice)) return Malformed(err);
        if (auto err = choice.raw_json().get(raw)) return Malformed(err);
      }
      req.tool_choice_json.assign(raw);
    } else if (key == "user") {
      od::json_type type;
      if (auto err = val.type().get(type)) return Malformed(err);
      if (type == od::json_type::null) continue;
      if (auto s = ReadString(val, "user", req.user); !s.ok()) return s;
    }
  }
  if (const char* loc = nullptr; !doc.current_location().get(loc)) {
    return Bad("request body has content after the JSON object", "");
  }
  if (!has_model) return Missing("model");
  if (!has_messages) return Missing("messages");
  if (req.messages.empty()) {
    return Bad("field 'messages' must contain at least one message", "messages");
  }
  return req;
}

std::string RewriteForUpstream(std::string_view body, const core::ChatRequest& req,
                               std::string_view upstream_model, bool add_include_usage) {
  std::string out;
  out.reserve(body.size() + upstream_model.size() + 48);
  const bool inject = add_include_usage && !req.has_stream_options;
  size_t pos = 0;
  if (inject) {
    const size_t brace = body.find('{');
    out.append(body.substr(0, brace + 1));
    out.append(R"("stream_options":{"include_usage":true},)");
    pos = brace + 1;
  }
  out.append(body.substr(pos, req.model_value_offset - pos));
  core::AppendJsonString(out, upstream_model);
  out.append(body.substr(req.model_value_offset + req.model_value_length));
  return out;
}

}  // namespace switchyard::api
