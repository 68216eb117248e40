#include "config/config.h"

#include "core/ascii.h"
#include "core/json_writer.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <set>
#include <system_error>
#include <utility>

namespace switchyard::config {
namespace {

using core::Result;
using core::Status;

constexpr std::string_view kDefaultsSource = "<embedded defaults>";
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kLogFormats[] = {"text", "json"};

constexpr std::string_view kExpectName = "expected a non-empty name without \"/\"";
constexpr std::string_view kExpectUrl = "expected a URL starting with \"http://\" or \"https://\"";
constexpr std::string_view kExpectTargets =
    "expected a non-empty array of \"provider/model\" strings";

// ---------------------------------------------------------------------------
// Small text helpers.

// A double-quoted rendering of `s` that always stays on one line (JSON
// string escaping: quotes, backslashes and control characters).
std::string Quote(std::string_view s) {
  std::string out;
  core::AppendJsonString(out, s);
  return out;
}

bool IsBareKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "parent.key" with the key quoted when TOML would need quotes for it.
std::string KeyPath(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += IsBareKey(key) ? std::string(key) : Quote(key);
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "nothing";
  }
}

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// An env lookup that treats "" like unset and tolerates an empty function.
std::optional<std::string> GetEnv(const EnvLookup& env, std::string_view name) {
  if (!env) return std::nullopt;
  std::optional<std::string> value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "host:port" or "[v6]:port"; port 0..65535.
std::optional<std::pair<std::string, uint16_t>> ParseListen(std::string_view listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = listen.substr(0, colon);
  std::string_view port = listen.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;
    if (host.find_first_of("[]") != std::string_view::npos) return std::nullopt;
  } else if (host.empty() || host.find_first_of(":[]") != std::string_view::npos) {
    return std::nullopt;
  }
  if (host.find_first_of(" \t\r\n/") != std::string_view::npos) return std::nullopt;
  if (port.empty() || port.size() > 5) return std::nullopt;
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return std::make_pair(std::string(host), static_cast<uint16_t>(value));
}

// "http://" or "https://" followed by a host.
bool HasHttpScheme(std::string_view url) {
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme &&
        url[scheme.size()] != '/') {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Error collection: one line per error, at most one error per key.

using KeyNamer = std::function<std::string(const std::string& path)>;

class Errors {
 public:
  Errors(std::string source, KeyNamer namer)
      : source_(std::move(source)), namer_(std::move(namer)) {}

  // Records "<source>: <key>: <what>" unless `path` already has an error.
  void Add(const std::string& path, std::string_view what) {
    if (!bad_paths_.insert(path).second) return;
    std::string key = namer_ ? namer_(path) : path;
    lines_.push_back(source_ + ": " + key + ": " + std::string(what));
  }
  void UnknownKey(const std::string& path) {
    bad_paths_.insert(path);
    lines_.push_back(source_ + ": unknown key " + Quote(path));
  }
  bool Has(const std::string& path) const { return bad_paths_.count(path) != 0; }
  bool empty() const { return lines_.empty(); }

  Status ToStatus() const {
    std::string message;
    for (const std::string& line : lines_) {
      if (!message.empty()) message += '\n';
      message += line;
    }
    return core::FailedPrecondition(std::move(message));
  }

 private:
  std::string source_;
  KeyNamer namer_;
  std::vector<std::string> lines_;
  std::set<std::string> bad_paths_;
};

// ---------------------------------------------------------------------------
// TOML reading: type checks only; value rules live in Validate() so that the
// embedded defaults go through the same checks.

class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, Errors& errors)
      : table_(table), path_(std::move(path)), errors_(errors) {}

  std::string Path(std::string_view key) const { return KeyPath(path_, key); }

  // Marks `key` as known and returns its node, or nullptr when absent.
  const toml::node* Take(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  // Returns false (with an error) when the key is absent.
  bool Require(std::string_view key, std::string_view expected) {
    if (table_.get(key) != nullptr) return true;
    known_.insert(std::string(key));
    errors_.Add(Path(key), "missing; " + std::string(expected));
    return false;
  }

  void String(std::string_view key, std::string* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    if (const auto* v = node->as_string()) {
      *out = v->get();
    } else {
      errors_.Add(Path(key), "expected a string, got " + std::string(TypeName(*node)));
    }
  }

  void Bool(std::string_view key, bool* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    if (const auto* v = node->as_boolean()) {
      *out = v->get();
    } else {
      errors_.Add(Path(key), "expected a boolean, got " + std::string(TypeName(*node)));
    }
  }

  void Int(std::string_view key, int* out) {
    int64_t value = 0;
    if (!Integer(key, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), &value)) {
      return;
    }
    *out = static_cast<int>(value);
  }

  void Int64(std::string_view key, int64_t* out) {
    Integer(key, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), out);
  }

  // Sizes are positive byte counts; a negative one is reported here since
  // size_t cannot carry it to Validate().
  void Size(std::string_view key, size_t* out) {
    int64_t value = 0;
    if (!Integer(key, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                 &value)) {
      return;
    }
    if (value < 0) {
      errors_.Add(Path(key), "expected a positive integer, got " + std::to_string(value));
      return;
    }
    *out = static_cast<size_t>(value);
  }

  // Floats and integers both read as a double.
  void Double(std::string_view key, double* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    if (const auto* f = node->as_floating_point()) {
      *out = f->get();
    } else if (const auto* i = node->as_integer()) {
      *out = static_cast<double>(i->get());
    } else {
      errors_.Add(Path(key), "expected a number, got " + std::string(TypeName(*node)));
    }
  }

  void StringList(std::string_view key, std::vector<std::string>* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      errors_.Add(Path(key), "expected an array of strings, got " + std::string(TypeName(*node)));
      return;
    }
    std::vector<std::string> values;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      if (const auto* v = element.as_string()) {
        values.push_back(v->get());
      } else {
        errors_.Add(IndexPath(Path(key), i),
                    "expected a string, got " + std::string(TypeName(element)));
        values.emplace_back();  // keeps later indices aligned; the key already has its error
      }
    }
    *out = std::move(values);
  }

  void StringMap(std::string_view key, std::map<std::string, std::string>* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return;
    const toml::table* table = node->as_table();
    if (table == nullptr) {
      errors_.Add(Path(key), "expected a table of strings, got " + std::string(TypeName(*node)));
      return;
    }
    std::map<std::string, std::string> values;
    for (auto&& [k, v] : *table) {
      if (const auto* s = v.as_string()) {
        values[std::string(k.str())] = s->get();
      } else {
        errors_.Add(KeyPath(Path(key), k.str()),
                    "expected a string, got " + std::string(TypeName(v)));
      }
    }
    *out = std::move(values);
  }

  // Reports every key that no reader method asked for.
  void Finish() {
    for (auto&& [k, v] : table_) {
      if (known_.count(k.str()) == 0) errors_.UnknownKey(Path(k.str()));
    }
  }

 private:
  bool Integer(std::string_view key, int64_t min, int64_t max, int64_t* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return false;
    const auto* v = node->as_integer();
    if (v == nullptr) {
      errors_.Add(Path(key), "expected an integer, got " + std::string(TypeName(*node)));
      return false;
    }
    int64_t value = v->get();
    if (value > max) {
      errors_.Add(Path(key), "expected an integer <= " + std::to_string(max) + ", got " +
                                 std::to_string(value));
      return false;
    }
    if (value < min) {
      errors_.Add(Path(key), "expected an integer >= " + std::to_string(min) + ", got " +
                                 std::to_string(value));
      return false;
    }
    *out = value;
    return true;
  }

  const toml::table& table_;
  std::string path_;
  Errors& errors_;
  std::set<std::string, std::less<>> known_;
};

const toml::table* AsTable(const toml::node& node, const std::string& path, Errors& errors) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    errors.Add(path, "expected a table, got " + std::string(TypeName(node)));
  }
  return table;
}

void ReadServer(const toml::table& table, ServerConfig& server, Errors& errors) {
  TableReader r(table, "server", errors);
  r.String("listen", &server.listen);
  r.Int("threads", &server.threads);
  r.Size("max_body_bytes", &server.max_body_bytes);
  r.Size("max_header_bytes", &server.max_header_bytes);
  r.Int("header_timeout_ms", &server.header_timeout_ms);
  r.Int("body_timeout_ms", &server.body_timeout_ms);
  r.Int("idle_timeout_ms", &server.idle_timeout_ms);
  r.Int("shutdown_grace_ms", &server.shutdown_grace_ms);
  r.Finish();
}

void ReadStorage(const toml::table& table, Config& config, Errors& errors) {
  TableReader r(table, "storage", errors);
  r.String("data_dir", &config.data_dir);
  r.Finish();
}

void ReadLog(const toml::table& table, LogConfig& log, Errors& errors) {
  TableReader r(table, "log", errors);
  r.String("level", &log.level);
  r.String("format", &log.format);
  r.Finish();
}

ProviderConfig ReadProvider(const toml::table& table, const std::string& path, Errors& errors) {
  ProviderConfig p;
  TableReader r(table, path, errors);
  if (r.Require("name", kExpectName)) r.String("name", &p.name);
  r.String("kind", &p.kind);
  if (p.kind != "replay" && r.Require("base_url", kExpectUrl)) r.String("base_url", &p.base_url);
  r.String("api_key_env", &p.api_key_env);
  if (r.Take("api_key") != nullptr) {
    errors.Add(r.Path("api_key"),
               "keys are not read from the config file; put the key in an environment "
               "variable and name that variable with api_key_env");
  }
  r.StringList("models", &p.models);
  r.Bool("owned", &p.owned);
  r.Int("connect_timeout_ms", &p.connect_timeout_ms);
  r.Int("first_byte_timeout_ms", &p.first_byte_timeout_ms);
  r.Int("total_timeout_ms", &p.total_timeout_ms);
  r.Int("max_retries", &p.max_retries);
  r.Int("retry_base_ms", &p.retry_base_ms);
  r.Int("retry_max_ms", &p.retry_max_ms);
  r.Int("max_retry_after_ms", &p.max_retry_after_ms);
  r.Int("breaker_failures", &p.breaker_failures);
  r.Int("breaker_cooldown_ms", &p.breaker_cooldown_ms);
  r.Int("max_idle_connections", &p.max_idle_connections);
  r.String("anthropic_version", &p.anthropic_version);
  r.Int64("default_max_tokens", &p.default_max_tokens);
  r.StringMap("headers", &p.headers);
  r.String("price_as", &p.price_as);
  r.Double("hourly_cost_usd", &p.hourly_cost_usd);
  r.Int("gpus", &p.gpus);
  r.Double("output_tokens_per_second", &p.output_tokens_per_second);
  r.Double("input_tokens_per_second", &p.input_tokens_per_second);
  r.Double("utilization", &p.utilization);
  r.String("trace", &p.trace);
  r.String("trace_input", &p.trace_input);
  r.String("trace_output", &p.trace_output);
  r.Int("latency_ms", &p.latency_ms);
  r.Finish();
  return p;
}

void ReadLedger(const toml::table& table, LedgerConfig& ledger, Errors& errors) {
  TableReader r(table, "ledger", errors);
  r.Bool("enabled", &ledger.enabled);
  r.String("path", &ledger.path);
  r.Size("queue_capacity", &ledger.queue_capacity);
  r.Int("batch_size", &ledger.batch_size);
  r.Int("flush_interval_ms", &ledger.flush_interval_ms);
  r.String("store_payloads", &ledger.store_payloads);
  r.Finish();
}

void ReadGuard(const toml::table& table, GuardConfig& guard, Errors& errors) {
  TableReader r(table, "guard", errors);
  r.String("auth", &guard.auth);
  r.String("admin_key_env", &guard.admin_key_env);
  r.String("keys_db", &guard.keys_db);
  r.String("audit_db", &guard.audit_db);
  r.String("pii_policy", &guard.pii_policy);
  r.Finish();
}

TaskConfig ReadTask(const toml::table& table, const std::string& path, Errors& errors) {
  TaskConfig t;
  TableReader r(table, path, errors);
  if (r.Require("name", kExpectName)) r.String("name", &t.name);
  r.String("kind", &t.kind);
  r.StringList("labels", &t.labels);
  if (r.Require("teacher", "expected \"provider/model\" whose answers are the labels")) {
    r.String("teacher", &t.teacher);
  }
  r.Double("target_agreement", &t.target_agreement);
  r.String("input", &t.input);
  r.String("label_parse", &t.label_parse);
  r.String("label_field", &t.label_field);
  r.String("label_regex", &t.label_regex);
  r.Int("retrain_every", &t.retrain_every);
  r.Int("min_train_labels", &t.min_train_labels);
  r.Double("holdout_fraction", &t.holdout_fraction);
  r.Double("shadow_sample", &t.shadow_sample);
  r.Int("min_live_samples", &t.min_live_samples);
  r.String("pii_policy", &t.pii_policy);
  r.String("input_template", &t.input_template);
  r.Int("word_ngrams", &t.word_ngrams);
  r.Int("char_ngram_min", &t.char_ngram_min);
  r.Int("char_ngram_max", &t.char_ngram_max);
  r.Int("epochs", &t.epochs);
  r.Int("dim", &t.dim);
  r.Double("student_cost_usd", &t.student_cost_usd);
  r.Finish();
  return t;
}

PriceOverride ReadPrice(const toml::table& table, const std::string& path, Errors& errors) {
  PriceOverride price;
  TableReader r(table, path, errors);
  r.String("provider", &price.provider);
  if (r.Require("model", "expected the model name the price applies to")) {
    r.String("model", &price.model);
  }
  r.Double("input", &price.input);
  r.Double("cached_input", &price.cached_input);
  r.Double("cache_write", &price.cache_write);
  r.Double("output", &price.output);
  r.Finish();
  return price;
}

RouteConfig ReadRoute(const toml::table& table, const std::string& path, Errors& errors) {
  RouteConfig route;
  TableReader r(table, path, errors);
  if (r.Require("name", kExpectName)) r.String("name", &route.name);
  r.String("policy", &route.policy);
  // Required by "fallback"; other policies may omit them (derived from weak and strong).
  if (route.policy != "fallback" || r.Require("targets", kExpectTargets)) {
    r.StringList("targets", &route.targets);
  }
  r.String("weak", &route.weak);
  r.String("strong", &route.strong);
  r.String("model", &route.model);
  auto optional_double = [&r](std::string_view key, std::optional<double>* out) {
    if (r.Take(key) == nullptr) return;
    double value = 0;
    r.Double(key, &value);
    *out = value;
  };
  optional_double("threshold", &route.threshold);
  optional_double("target_pgr", &route.target_pgr);
  optional_double("max_strong_share", &route.max_strong_share);
  r.String("holdout", &route.holdout);
  r.Int("latency_slo_ms", &route.latency_slo_ms);
  r.Double("shadow_sample", &route.shadow_sample);
  r.Finish();
  return route;
}

// Reads an array of tables ([[name]] or name = [{...}]) with `read` per element.
template <typename T, typename ReadFn>
void ReadTableArray(const toml::node& node, const std::string& name, std::vector<T>& out,
                    Errors& errors, ReadFn read) {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    errors.Add(
        name, "expected an array of tables ([[" + name + "]]), got " + std::string(TypeName(node)));
    return;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const std::string path = IndexPath(name, i);
    const toml::node& element = *array->get(i);
    if (const toml::table* table = AsTable(element, path, errors)) {
      out.push_back(read(*table, path, errors));
    } else {
      out.push_back(T{});  // keeps indices in later messages aligned
    }
  }
}

void ReadDocument(const toml::table& root, Config& config, Errors& errors) {
  TableReader top(root, "", errors);
  if (const toml::node* n = top.Take("server")) {
    if (const toml::table* t = AsTable(*n, "server", errors)) ReadServer(*t, config.server, errors);
  }
  if (const toml::node* n = top.Take("storage")) {
    if (const toml::table* t = AsTable(*n, "storage", errors)) ReadStorage(*t, config, errors);
  }
  if (const toml::node* n = top.Take("log")) {
    if (const toml::table* t = AsTable(*n, "log", errors)) ReadLog(*t, config.log, errors);
  }
  if (const toml::node* n = top.Take("providers")) {
    ReadTableArray(*n, "providers", config.providers, errors, ReadProvider);
  }
  if (const toml::node* n = top.Take("routes")) {
    ReadTableArray(*n, "routes", config.routes, errors, ReadRoute);
  }
  if (const toml::node* n = top.Take("ledger")) {
    if (const toml::table* t = AsTable(*n, "ledger", errors)) ReadLedger(*t, config.ledger, errors);
  }
  if (const toml::node* n = top.Take("prices")) {
    ReadTableArray(*n, "prices", config.prices, errors, ReadPrice);
  }
  if (const toml::node* n = top.Take("tasks")) {
    ReadTableArray(*n, "tasks", config.tasks, errors, ReadTask);
  }
  if (const toml::node* n = top.Take("guard")) {
    if (const toml::table* t = AsTable(*n, "guard", errors)) ReadGuard(*t, config.guard, errors);
  }
  top.Finish();
}

// ---------------------------------------------------------------------------
// Validation and derivation, shared by files and embedded defaults.

void CheckMin(Errors& errors, const std::string& path, int64_t value, int64_t min) {
  if (value >= min) return;
  if (min == 1) {
    errors.Add(path, "expected a positive integer, got " + std::to_string(value));
  } else {
    errors.Add(path,
               "expected an integer >= " + std::to_string(min) + ", got " + std::to_string(value));
  }
}

void CheckName(Errors& errors, const std::string& path, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    errors.Add(path, std::string(kExpectName) + ", got " + Quote(name));
  }
}

template <size_t N>
void CheckOneOf(Errors& errors, const std::string& path, const std::string& value,
                const std::string_view (&allowed)[N]) {
  for (std::string_view a : allowed) {
    if (value == a) return;
  }
  std::string expected = "expected ";
  if (N == 2) {
    expected += Quote(allowed[0]) + " or " + Quote(allowed[1]);
  } else {
    expected += "one of ";
    for (size_t i = 0; i < N; ++i) {
      if (i > 0) expected += ", ";
      expected += Quote(allowed[i]);
    }
  }
  errors.Add(path, expected + ", got " + Quote(value));
}

void ValidateServer(ServerConfig& server, Errors& errors) {
  if (!errors.Has("server.listen")) {
    if (auto parsed = ParseListen(server.listen)) {
      server.host = parsed->first;
      server.port = parsed->second;
    } else {
      errors.Add("server.listen", "expected \"host:port\", got " + Quote(server.listen));
    }
  }
  CheckMin(errors, "server.threads", server.threads, 0);
  if (server.max_body_bytes == 0) {
    errors.Add("server.max_body_bytes", "expected a positive integer, got 0");
  }
  if (server.max_header_bytes == 0) {
    errors.Add("server.max_header_bytes", "expected a positive integer, got 0");
  }
  CheckMin(errors, "server.header_timeout_ms", server.header_timeout_ms, 1);
  CheckMin(errors, "server.body_timeout_ms", server.body_timeout_ms, 1);
  CheckMin(errors, "server.idle_timeout_ms", server.idle_timeout_ms, 1);
  CheckMin(errors, "server.shutdown_grace_ms", server.shutdown_grace_ms, 1);
}

// Validates one provider's own fields and resolves its key.
void ValidateProvider(ProviderConfig& p, const std::string& path, Errors& errors,
                      const EnvLookup& env) {
  CheckName(errors, path + ".name", p.name);
  static constexpr std::string_view kKinds[] = {"openai", "anthropic", "replay"};
  CheckOneOf(errors, path + ".kind", p.kind, kKinds);
  if (p.kind == "replay") {
    if (p.trace.empty()) {
      errors.Add(path + ".trace", "expected the path of a CSV or JSONL trace (kind = \"replay\")");
    }
    if (p.trace_input.empty()) errors.Add(path + ".trace_input", "expected a column or field name");
    if (p.trace_output.empty()) {
      errors.Add(path + ".trace_output", "expected a column or field name");
    }
    CheckMin(errors, path + ".latency_ms", p.latency_ms, 0);
    if (p.base_url.empty()) p.base_url = "http://replay.invalid";
  }
  // "https://host/v1/" and "https://host/v1" mean the same; keep the latter.
  while (HasHttpScheme(p.base_url) && p.base_url.back() == '/' &&
         HasHttpScheme(std::string_view(p.base_url).substr(0, p.base_url.size() - 1))) {
    p.base_url.pop_back();
  }
  if (!HasHttpScheme(p.base_url)) {
    errors.Add(path + ".base_url", std::string(kExpectUrl) + ", got " + Quote(p.base_url));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < p.models.size(); ++i) {
    const std::string model_path = IndexPath(path + ".models", i);
    if (p.models[i].empty()) {
      errors.Add(model_path, "expected a non-empty model name, got \"\"");
    } else if (!seen.insert(p.models[i]).second) {
      errors.Add(model_path, "duplicate model " + Quote(p.models[i]));
    }
  }
  CheckMin(errors, path + ".connect_timeout_ms", p.connect_timeout_ms, 1);
  CheckMin(errors, path + ".first_byte_timeout_ms", p.first_byte_timeout_ms, 1);
  CheckMin(errors, path + ".total_timeout_ms", p.total_timeout_ms, 1);
  CheckMin(errors, path + ".max_retries", p.max_retries, 0);
  CheckMin(errors, path + ".retry_base_ms", p.retry_base_ms, 1);
  CheckMin(errors, path + ".retry_max_ms", p.retry_max_ms, 1);
  if (p.retry_max_ms >= 1 && p.retry_base_ms >= 1 && p.retry_max_ms < p.retry_base_ms &&
      !errors.Has(path + ".retry_base_ms")) {
    errors.Add(path + ".retry_max_ms", "expected an integer >= retry_base_ms (" +
                                           std::to_string(p.retry_base_ms) + "), got " +
                                           std::to_string(p.retry_max_ms));
  }
  CheckMin(errors, path + ".max_retry_after_ms", p.max_retry_after_ms, 0);
  CheckMin(errors, path + ".breaker_failures", p.breaker_failures, 1);
  CheckMin(errors, path + ".breaker_cooldown_ms", p.breaker_cooldown_ms, 1);
  CheckMin(errors, path + ".max_idle_connections", p.max_idle_connections, 0);
  if (p.anthropic_version.empty()) {
    errors.Add(path + ".anthropic_version", "expected a non-empty string, got \"\"");
  }
  CheckMin(errors, path + ".default_max_tokens", p.default_max_tokens, 1);
  if (!p.price_as.empty()) {
    const size_t slash = p.price_as.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == p.price_as.size()) {
      errors.Add(path + ".price_as", "expected \"provider/model\", got " + Quote(p.price_as));
    }
  }
  if (p.hourly_cost_usd < 0) {
    errors.Add(path + ".hourly_cost_usd",
               "expected a number >= 0, got " + std::to_string(p.hourly_cost_usd));
  }
  CheckMin(errors, path + ".gpus", p.gpus, 1);
  if (p.output_tokens_per_second < 0) {
    errors.Add(path + ".output_tokens_per_second", "expected a number >= 0");
  }
  if (p.input_tokens_per_second < 0) {
    errors.Add(path + ".input_tokens_per_second", "expected a number >= 0");
  }
  if (!(p.utilization > 0 && p.utilization <= 1)) {
    errors.Add(path + ".utilization", "expected a number in (0, 1]");
  }
  if (p.hourly_cost_usd > 0 && p.output_tokens_per_second <= 0) {
    errors.Add(path + ".output_tokens_per_second",
               "expected a positive measured throughput when hourly_cost_usd is set");
  }
  for (const auto& [name, value] : p.headers) {
    const std::string header_path = KeyPath(path + ".headers", name);
    bool name_ok = !name.empty();
    for (char c : name) name_ok = name_ok && IsTokenChar(c);
    if (!name_ok) {
      errors.Add(
          header_path,
          "expected an HTTP header name (letters, digits and !#$%&'*+-.^_`|~), got " + Quote(name));
    } else if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      errors.Add(header_path, "expected a header value without CR, LF or NUL, got " + Quote(value));
    }
  }
  p.api_key.clear();
  if (!p.api_key_env.empty()) {
    if (auto key = GetEnv(env, p.api_key_env)) p.api_key = *key;
  }
}

// A route's policy keys (router and cascade); derives route.targets = {weak, strong}.
void ValidateRoutePolicy(const Config& config, RouteConfig& route, const std::string& path,
                         Errors& errors, bool providers_complete) {
  static constexpr std::string_view kPolicies[] = {"fallback", "router", "cascade"};
  CheckOneOf(errors, path + ".policy", route.policy, kPolicies);
  if (errors.Has(path + ".policy")) return;
  const std::string needed = " (required by policy " + Quote(route.policy) + ")";
  if (!route.targets.empty() && !errors.Has(path + ".targets")) {
    errors.Add(path + ".targets", "not used with policy " + Quote(route.policy) +
                                      " (weak and strong are the targets)");
  }
  auto check_target = [&](const char* key, const std::string& target) {
    const std::string key_path = path + "." + key;
    if (errors.Has(key_path)) return false;
    const size_t slash = target.find('/');
    if (target.empty()) {
      errors.Add(key_path, "expected \"provider/model\"" + needed);
      return false;
    }
    if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
      errors.Add(key_path, "expected \"provider/model\", got " + Quote(target));
      return false;
    }
    const ProviderConfig* provider = config.FindProvider(target.substr(0, slash));
    if (provider == nullptr) {
      if (providers_complete) {
        errors.Add(key_path,
                   "unknown provider " + Quote(target.substr(0, slash)) +
                       " (expected \"provider/model\" with a provider defined in [[providers]])");
      }
      return false;
    }
    const std::string model = target.substr(slash + 1);
    bool listed = provider->models.empty();
    for (const std::string& m : provider->models) listed = listed || m == model;
    if (!listed) {
      errors.Add(key_path,
                 "provider " + Quote(provider->name) + " does not list model " + Quote(model));
      return false;
    }
    return true;
  };
  const bool weak_ok = check_target("weak", route.weak);
  const bool strong_ok = check_target("strong", route.strong);
  if (weak_ok && strong_ok) {
    if (route.weak == route.strong) {
      errors.Add(path + ".strong", "expected a target other than weak, got " + Quote(route.strong));
    } else {
      route.targets = {route.weak, route.strong};
    }
  }
  if (route.model.empty() && !errors.Has(path + ".model")) {
    errors.Add(path + ".model",
               "expected the path of a model file from `switchyard router train`" + needed);
  }
  const int chosen = static_cast<int>(route.threshold.has_value()) +
                     static_cast<int>(route.target_pgr.has_value()) +
                     static_cast<int>(route.max_strong_share.has_value());
  if (chosen == 0) {
    errors.Add(path, "expected one of threshold, target_pgr or max_strong_share" + needed);
  } else if (chosen > 1) {
    errors.Add(path, "expected only one of threshold, target_pgr and max_strong_share");
  }
  if (route.threshold && !std::isfinite(*route.threshold) && !errors.Has(path + ".threshold")) {
    errors.Add(path + ".threshold", "expected a finite number");
  }
  if (route.target_pgr && !(*route.target_pgr > 0 && *route.target_pgr <= 1) &&
      !errors.Has(path + ".target_pgr")) {
    errors.Add(path + ".target_pgr", "expected a number in (0, 1]");
  }
  if (route.max_strong_share && !(*route.max_strong_share >= 0 && *route.max_strong_share <= 1) &&
      !errors.Has(path + ".max_strong_share")) {
    errors.Add(path + ".max_strong_share", "expected a number in [0, 1]");
  }
  const bool from_target = route.target_pgr.has_value() || route.max_strong_share.has_value();
  if (chosen == 1 && from_target && route.holdout.empty() && !errors.Has(path + ".holdout")) {
    errors.Add(path + ".holdout",
               "expected the path of a held-out CSV with outcomes, to set the threshold from " +
                   std::string(route.target_pgr ? "target_pgr" : "max_strong_share"));
  } else if (!from_target && !route.holdout.empty()) {
    errors.Add(path + ".holdout", "only used with target_pgr or max_strong_share");
  }
  CheckMin(errors, path + ".latency_slo_ms", route.latency_slo_ms, 0);
  if (!(route.shadow_sample >= 0 && route.shadow_sample <= 1) &&
      !errors.Has(path + ".shadow_sample")) {
    errors.Add(path + ".shadow_sample", "expected a number in [0, 1]");
  }
}

// Policy keys on a fallback route: each is an error naming the key.
void CheckFallbackRoute(const RouteConfig& route, const std::string& path, Errors& errors) {
  const std::string what = "only used with policy \"router\" or \"cascade\"";
  if (!route.weak.empty()) errors.Add(path + ".weak", what);
  if (!route.strong.empty()) errors.Add(path + ".strong", what);
  if (!route.model.empty()) errors.Add(path + ".model", what);
  if (route.threshold) errors.Add(path + ".threshold", what);
  if (route.target_pgr) errors.Add(path + ".target_pgr", what);
  if (route.max_strong_share) errors.Add(path + ".max_strong_share", what);
  if (!route.holdout.empty()) errors.Add(path + ".holdout", what);
  if (route.latency_slo_ms != 0) errors.Add(path + ".latency_slo_ms", what);
  if (route.shadow_sample != 0) errors.Add(path + ".shadow_sample", what);
}

void ValidateRoutes(Config& config, Errors& errors, bool providers_complete) {
  // Bare model name -> index of the provider that lists it.
  std::map<std::string, size_t, std::less<>> model_owner;
  for (size_t i = 0; i < config.providers.size(); ++i) {
    for (const std::string& m : config.providers[i].models) {
      if (!m.empty()) model_owner.emplace(m, i);
    }
  }
  std::set<std::string> route_names;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    RouteConfig& route = config.routes[i];
    const std::string path = IndexPath("routes", i);
    if (errors.Has(path)) continue;  // not a table
    const std::string name_path = path + ".name";
    CheckName(errors, name_path, route.name);
    if (!errors.Has(name_path)) {
      auto owner = model_owner.find(route.name);
      if (!route_names.insert(route.name).second) {
        errors.Add(name_path, "duplicate route name " + Quote(route.name));
      } else if (config.FindProvider(route.name) != nullptr) {
        errors.Add(name_path, "route name " + Quote(route.name) + " is also a provider name");
      } else if (owner != model_owner.end()) {
        errors.Add(name_path, "route name " + Quote(route.name) +
                                  " is also a model listed by provider " +
                                  Quote(config.providers[owner->second].name));
      }
    }
    const std::string targets_path = path + ".targets";
    if (route.policy != "fallback") {
      ValidateRoutePolicy(config, route, path, errors, providers_complete);
      continue;
    }
    CheckFallbackRoute(route, path, errors);
    if (route.targets.empty()) {
      errors.Add(targets_path, std::string(kExpectTargets) + ", got []");
    }
    std::set<std::string> seen;
    for (size_t t = 0; t < route.targets.size(); ++t) {
      const std::string& target = route.targets[t];
      const std::string target_path = IndexPath(targets_path, t);
      size_t slash = target.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
        errors.Add(target_path, "expected \"provider/model\", got " + Quote(target));
        continue;
      }
      if (!seen.insert(target).second) {
        errors.Add(target_path, "duplicate target " + Quote(target));
        continue;
      }
      const std::string provider_name = target.substr(0, slash);
      const std::string model = target.substr(slash + 1);
      const ProviderConfig* provider = config.FindProvider(provider_name);
      if (provider == nullptr) {
        if (providers_complete) {
          errors.Add(target_path,
                     "unknown provider " + Quote(provider_name) +
                         " (expected \"provider/model\" with a provider defined in [[providers]])");
        }
        continue;
      }
      if (provider->models.empty()) continue;  // any model
      bool listed = false;
      for (const std::string& m : provider->models) listed = listed || m == model;
      if (!listed) {
        errors.Add(target_path,
                   "provider " + Quote(provider_name) + " does not list model " + Quote(model));
      }
    }
  }
}

constexpr std::string_view kPiiPolicies[] = {"allow", "redact", "local_only", "block"};

// A task name becomes a directory name (the student's model files): the same
// rule as learn::ValidateTaskName.
void CheckTaskName(Errors& errors, const std::string& path, const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 && name.front() != '.' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                  });
  if (!ok) {
    errors.Add(path,
               "expected 1-64 letters, digits, '.', '_' or '-' (not starting with '.'), got " +
                   Quote(name));
  }
}

// [[tasks]] input: last_user | json_field:<name> | template_var:<name> with
// input_template (parsed into t.parsed_template).
void ValidateTaskInput(Errors& errors, const std::string& path, TaskConfig& t) {
  constexpr std::string_view kJson = "json_field:";
  constexpr std::string_view kVar = "template_var:";
  const bool json = t.input.starts_with(kJson) && t.input.size() > kJson.size();
  const bool var = t.input.starts_with(kVar) && t.input.size() > kVar.size();
  if (t.input != "last_user" && !json && !var) {
    errors.Add(path + ".input",
               "expected \"last_user\", \"json_field:<name>\" or \"template_var:<name>\", got " +
                   Quote(t.input));
    return;
  }
  const std::string tpath = path + ".input_template";
  if (!var) {
    if (!t.input_template.empty()) {
      errors.Add(tpath, "is read only with input = \"template_var:<name>\" (input is " +
                            Quote(t.input) + ")");
    }
    return;
  }
  const std::string name = t.input.substr(kVar.size());
  if (t.input_template.empty()) {
    errors.Add(tpath, "expected the prompt template containing {{" + name +
                          "}} (input = " + Quote(t.input) + ")");
    return;
  }
  auto parsed = PromptTemplate::Parse(t.input_template);
  if (!parsed.ok()) {
    errors.Add(tpath, parsed.status().message());
    return;
  }
  if (std::find(parsed->vars.begin(), parsed->vars.end(), name) == parsed->vars.end()) {
    std::string vars;
    for (const auto& v : parsed->vars) vars += (vars.empty() ? "" : ", ") + v;
    errors.Add(tpath, "has no variable {{" + name +
                          "}} (variables: " + (vars.empty() ? std::string("none") : vars) + ")");
    return;
  }
  t.parsed_template = std::move(*parsed);
}

// [[tasks]] student settings: fastText n-grams, epochs, dim; cost per answer.
void ValidateTaskStudent(Errors& errors, const std::string& path, const TaskConfig& t) {
  const auto in_range = [&](const char* key, int value, int min, int max) {
    if (value < min || value > max) {
      errors.Add(path + "." + key, "expected an integer in [" + std::to_string(min) + ", " +
                                       std::to_string(max) + "], got " + std::to_string(value));
    }
  };
  in_range("word_ngrams", t.word_ngrams, 1, 5);
  in_range("char_ngram_min", t.char_ngram_min, 0, 10);
  in_range("char_ngram_max", t.char_ngram_max, 0, 10);
  if (!errors.Has(path + ".char_ngram_min") && !errors.Has(path + ".char_ngram_max") &&
      (t.char_ngram_min > 0 || t.char_ngram_max > 0) &&
      (t.char_ngram_min < 1 || t.char_ngram_min > t.char_ngram_max)) {
    errors.Add(path + ".char_ngram_min",
               "expected 1 <= char_ngram_min <= char_ngram_max (both 0 for none), got " +
                   std::to_string(t.char_ngram_min) + " and " + std::to_string(t.char_ngram_max));
  }
  in_range("epochs", t.epochs, 0, 1000);
  in_range("dim", t.dim, 1, 1000);
  if (!(t.student_cost_usd >= 0 && t.student_cost_usd < 1e6)) {
    errors.Add(path + ".student_cost_usd", "expected a number >= 0 (USD per student answer)");
  }
}

void Validate(Config& config, Errors& errors, const EnvLookup& env) {
  ValidateServer(config.server, errors);
  if (config.data_dir.empty()) {
    errors.Add("storage.data_dir", "expected a non-empty path, got \"\"");
  }
  CheckOneOf(errors, "log.level", config.log.level, kLogLevels);
  CheckOneOf(errors, "log.format", config.log.format, kLogFormats);

  bool providers_complete = !errors.Has("providers");
  std::map<std::string, size_t> names;  // provider name -> index
  std::map<std::string, size_t> model_owner;
  for (size_t i = 0; i < config.providers.size(); ++i) {
    ProviderConfig& p = config.providers[i];
    const std::string path = IndexPath("providers", i);
    if (errors.Has(path)) {  // not a table: nothing to check
      providers_complete = false;
      continue;
    }
    if (errors.Has(path + ".name")) providers_complete = false;
    ValidateProvider(p, path, errors, env);
    if (!p.name.empty() && !errors.Has(path + ".name")) {
      auto [it, inserted] = names.emplace(p.name, i);
      if (!inserted) {
        errors.Add(path + ".name", "duplicate provider name " + Quote(p.name) + " (also " +
                                       IndexPath("providers", it->second) + ")");
      }
    }
    for (size_t m = 0; m < p.models.size(); ++m) {
      const std::string& model = p.models[m];
      if (model.empty()) continue;
      auto [it, inserted] = model_owner.emplace(model, i);
      if (!inserted && it->second != i) {
        errors.Add(IndexPath(path + ".models", m),
                   "model " + Quote(model) + " is also listed by provider " +
                       Quote(config.providers[it->second].name) +
                       " (a bare model name must resolve to one provider)");
      }
    }
  }
  ValidateRoutes(config, errors, providers_complete);

  static constexpr std::string_view kPayloadModes[] = {"none", "errors", "all"};
  CheckOneOf(errors, "ledger.store_payloads", config.ledger.store_payloads, kPayloadModes);
  if (config.ledger.queue_capacity == 0) {
    errors.Add("ledger.queue_capacity", "expected a positive integer, got 0");
  }
  CheckMin(errors, "ledger.batch_size", config.ledger.batch_size, 1);
  CheckMin(errors, "ledger.flush_interval_ms", config.ledger.flush_interval_ms, 1);
  std::set<std::string> task_names;
  for (size_t i = 0; i < config.tasks.size(); ++i) {
    TaskConfig& t = config.tasks[i];
    const std::string path = IndexPath("tasks", i);
    if (errors.Has(path)) continue;
    CheckTaskName(errors, path + ".name", t.name);
    if (!t.name.empty() && !task_names.insert(t.name).second) {
      errors.Add(path + ".name", "duplicate task name " + Quote(t.name));
    }
    static constexpr std::string_view kTaskKinds[] = {"classify", "generate"};
    CheckOneOf(errors, path + ".kind", t.kind, kTaskKinds);
    if (t.kind == "classify" && t.labels.size() < 2 && !errors.Has(path + ".labels")) {
      errors.Add(path + ".labels", "expected at least two labels for a classify task");
    }
    const size_t slash = t.teacher.find('/');
    if (!errors.Has(path + ".teacher")) {
      if (slash == std::string::npos || slash == 0 || slash + 1 == t.teacher.size()) {
        errors.Add(path + ".teacher", "expected \"provider/model\", got " + Quote(t.teacher));
      } else if (providers_complete && config.FindProvider(t.teacher.substr(0, slash)) == nullptr) {
        errors.Add(path + ".teacher", "unknown provider " + Quote(t.teacher.substr(0, slash)) +
                                          " (expected a provider defined in [[providers]])");
      }
    }
    if (!(t.target_agreement > 0 && t.target_agreement < 1)) {
      errors.Add(path + ".target_agreement", "expected a number in (0, 1)");
    }
    ValidateTaskInput(errors, path, t);
    static constexpr std::string_view kParse[] = {"exact", "case_insensitive", "json_field",
                                                  "regex"};
    CheckOneOf(errors, path + ".label_parse", t.label_parse, kParse);
    if (t.label_parse == "regex" && t.label_regex.empty()) {
      errors.Add(path + ".label_regex", "expected a regex with one capture group");
    }
    CheckMin(errors, path + ".retrain_every", t.retrain_every, 1);
    CheckMin(errors, path + ".min_train_labels", t.min_train_labels, 10);
    if (!(t.holdout_fraction > 0 && t.holdout_fraction < 1)) {
      errors.Add(path + ".holdout_fraction", "expected a number in (0, 1)");
    }
    if (!(t.shadow_sample >= 0 && t.shadow_sample <= 1)) {
      errors.Add(path + ".shadow_sample", "expected a number in [0, 1]");
    }
    CheckMin(errors, path + ".min_live_samples", t.min_live_samples, 1);
    if (!t.pii_policy.empty()) CheckOneOf(errors, path + ".pii_policy", t.pii_policy, kPiiPolicies);
    ValidateTaskStudent(errors, path, t);
  }
  static constexpr std::string_view kAuthModes[] = {"off", "keys"};
  CheckOneOf(errors, "guard.auth", config.guard.auth, kAuthModes);
  CheckOneOf(errors, "guard.pii_policy", config.guard.pii_policy, kPiiPolicies);
  if (!config.guard.admin_key_env.empty() && !errors.Has("guard.admin_key_env")) {
    if (auto key = GetEnv(env, config.guard.admin_key_env)) {
      config.guard.admin_key = *key;
    } else if (config.guard.auth == "keys") {
      errors.Add("guard.admin_key_env",
                 "environment variable " + Quote(config.guard.admin_key_env) + " is not set");
    }
  }
  for (size_t i = 0; i < config.prices.size(); ++i) {
    const PriceOverride& price = config.prices[i];
    const std::string path = IndexPath("prices", i);
    if (errors.Has(path)) continue;
    if (price.model.empty() && !errors.Has(path + ".model")) {
      errors.Add(path + ".model", "expected a non-empty model name, got \"\"");
    }
    if (price.input < 0 && price.output < 0) {
      errors.Add(path, "expected at least one of input or output (USD per million tokens)");
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

namespace {}  // namespace

Result<PromptTemplate> PromptTemplate::Parse(std::string_view text) {
  PromptTemplate t;
  text = core::TrimAsciiSpace(text);
  std::string literal;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      literal.append(text.substr(pos));
      break;
    }
    literal.append(text.substr(pos, open - pos));
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return core::InvalidArgument("unclosed \"{{\" at byte " + std::to_string(open));
    }
    const std::string_view name = core::TrimAsciiSpace(text.substr(open + 2, close - open - 2));
    if (name.empty()) {
      return core::InvalidArgument("empty variable name at byte " + std::to_string(open));
    }
    const bool word = std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!word) {
      return core::InvalidArgument("variable name " + Quote(name) + " at byte " +
                                   std::to_string(open) + " must be letters, digits or '_'");
    }
    if (!t.vars.empty() && literal.empty()) {
      return core::InvalidArgument("variables {{" + t.vars.back() + "}} and {{" +
                                   std::string(name) + "}} must be separated by literal text");
    }
    if (std::find(t.vars.begin(), t.vars.end(), name) != t.vars.end()) {
      return core::InvalidArgument("variable {{" + std::string(name) + "}} appears twice");
    }
    t.literals.push_back(std::move(literal));
    literal.clear();
    t.vars.emplace_back(name);
    pos = close + 2;
  }
  t.literals.push_back(std::move(literal));
  return t;
}

std::optional<std::string_view> PromptTemplate::Extract(std::string_view message,
                                                        std::string_view var) const {
  const auto it = std::find(vars.begin(), vars.end(), var);
  if (it == vars.end() || literals.size() != vars.size() + 1) return std::nullopt;
  const size_t want = static_cast<size_t>(it - vars.begin());
  message = core::TrimAsciiSpace(message);
  if (!message.starts_with(literals.front())) return std::nullopt;
  size_t pos = literals.front().size();
  std::optional<std::string_view> found;
  for (size_t k = 0; k < vars.size(); ++k) {
    const std::string& next = literals[k + 1];
    size_t end;
    if (k + 1 == vars.size()) {
      // The last variable runs up to the final literal, which ends the message.
      if (!message.ends_with(next) || message.size() - next.size() < pos) return std::nullopt;
      end = message.size() - next.size();
    } else {
      end = message.find(next, pos);
      if (end == std::string_view::npos) return std::nullopt;
    }
    if (k == want) found = core::TrimAsciiSpace(message.substr(pos, end - pos));
    pos = end + next.size();
  }
  return found;
}

const TaskConfig* Config::FindTask(std::string_view name) const {
  for (const TaskConfig& t : tasks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string Config::LedgerPath() const {
  if (!ledger.path.empty()) return ledger.path;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/ledger.db";
}

std::string Config::KeysDbPath() const {
  if (!guard.keys_db.empty()) return guard.keys_db;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/keys.db";
}

std::string Config::AuditDbPath() const {
  if (!guard.audit_db.empty()) return guard.audit_db;
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/audit.db";
}

const ProviderConfig* Config::FindProvider(std::string_view name) const {
  for (const ProviderConfig& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

core::Result<Config> ParseConfig(std::string_view toml_text, const std::string& source,
                                 const EnvLookup& env) {
  try {
    toml::table root;
    try {
      root = toml::parse(toml_text, std::string_view(source));
    } catch (const toml::parse_error& e) {
      std::string description(e.description());
      for (char& c : description) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      return core::FailedPrecondition(source + ":" + std::to_string(e.source().begin.line) + ":" +
                                      std::to_string(e.source().begin.column) +
                                      ": TOML syntax error: " + description);
    }
    Config config;
    config.source = source;
    Errors errors(source, nullptr);
    ReadDocument(root, config, errors);
    Validate(config, errors, env);
    if (!errors.empty()) return errors.ToStatus();
    return config;
  } catch (const std::exception& e) {
    return core::Internal(source + ": unexpected error while reading the config: " + e.what());
  }
}

core::Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  auto fail = [&path](int err) {
    return core::FailedPrecondition(
        path + ": cannot read file: " + std::error_code(err, std::generic_category()).message());
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (file == nullptr) return fail(errno);
  std::string text;
  char buffer[64 * 1024];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get()) != 0) return fail(errno != 0 ? errno : EIO);
  return ParseConfig(text, path, env);
}

core::Result<Config> LoadConfigOrDefaults(const std::string& path, const EnvLookup& env) {
  return path.empty() ? DefaultConfig(env) : LoadConfigFile(path, env);
}

core::Result<Config> DefaultConfig(const EnvLookup& env) {
  Config config;
  config.source = std::string(kDefaultsSource);
  if (auto listen = GetEnv(env, "SWITCHYARD_LISTEN")) config.server.listen = *listen;
  if (auto dir = GetEnv(env, "SWITCHYARD_DATA_DIR")) config.data_dir = *dir;

  std::vector<std::string> targets;
  if (GetEnv(env, "OPENAI_API_KEY")) {
    ProviderConfig p;
    p.name = "openai";
    p.kind = "openai";
    p.base_url = "https://api.openai.com/v1";
    p.api_key_env = "OPENAI_API_KEY";
    p.models = {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "o4-mini"};
    config.providers.push_back(std::move(p));
    targets.push_back("openai/gpt-4o-mini");
  }
  if (GetEnv(env, "ANTHROPIC_API_KEY")) {
    ProviderConfig p;
    p.name = "anthropic";
    p.kind = "anthropic";
    p.base_url = "https://api.anthropic.com/v1";
    p.api_key_env = "ANTHROPIC_API_KEY";
    p.models = {"claude-3-5-haiku-latest", "claude-sonnet-4-5", "claude-opus-4-1"};
    config.providers.push_back(std::move(p));
    targets.push_back("anthropic/claude-3-5-haiku-latest");
  }
  std::string local_path = "-";  // matches no key unless a local provider exists
  if (auto url = GetEnv(env, "SWITCHYARD_LOCAL_URL")) {
    ProviderConfig p;
    p.name = "local";
    p.kind = "openai";
    p.owned = true;
    p.base_url = *url;
    p.api_key_env = "SWITCHYARD_LOCAL_API_KEY";
    if (auto models = GetEnv(env, "SWITCHYARD_LOCAL_MODELS")) {
      std::string_view rest = *models;
      while (true) {
        size_t comma = rest.find(',');
        std::string model = Trim(rest.substr(0, comma));
        if (!model.empty()) p.models.push_back(std::move(model));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
    // The owned backend is tried first.
    if (!p.models.empty()) targets.insert(targets.begin(), "local/" + p.models.front());
    local_path = IndexPath("providers", config.providers.size());
    config.providers.push_back(std::move(p));
  }
  if (!targets.empty()) {
    config.routes.push_back(RouteConfig{"default", std::move(targets)});
  }

  // Name the environment variable when a value came from one.
  KeyNamer namer = [local_path](const std::string& path) -> std::string {
    if (path == "server.listen") return "SWITCHYARD_LISTEN";
    if (path == "storage.data_dir") return "SWITCHYARD_DATA_DIR";
    if (path == local_path + ".base_url") return "SWITCHYARD_LOCAL_URL";
    if (path.rfind(local_path + ".models", 0) == 0) return "SWITCHYARD_LOCAL_MODELS";
    return path;
  };
  Errors errors(config.source, namer);
  Validate(config, errors, env);
  if (!errors.empty()) return errors.ToStatus();
  return config;
}

}  // namespace switchyard::config
