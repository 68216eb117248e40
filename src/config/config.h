// Config: the validated, immutable snapshot of switchyard's settings.
//
// Parsed once from TOML (or built from embedded defaults plus the environment),
// validated, then shared read-only (std::shared_ptr<const Config>). Every field
// has a default; docs/CONFIG.md lists each key with its default. Errors name the
// file, the key and what was expected, in one line.
//
// Errors: every config problem comes back as kFailedPrecondition whose message
// holds one line per problem ("<source>: <key>: <expected...>"); all problems
// found are reported, not just the first. Nothing here throws.
// Thread-safety: the functions are pure apart from the injected EnvLookup (and
// the file read); a Config is a plain value, safe to share once built.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::config {

// Reads an environment variable; injected so tests never touch the real
// environment. Returns nullopt when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (the composition root passes this).
EnvLookup ProcessEnv();

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";            // [server] listen, "host:port"
  std::string host = "127.0.0.1";                   // derived from listen
  uint16_t port = 8080;                             // derived from listen; 0 = any free port
  int threads = 0;                                  // event-loop threads; 0 = one per core
  size_t max_body_bytes = size_t{8} * 1024 * 1024;  // larger request bodies get 413
  size_t max_header_bytes = size_t{16} * 1024;      // larger request heads get 431
  int header_timeout_ms = 10'000;                   // time to receive a request's head
  int body_timeout_ms = 30'000;                     // time to receive a request's body
  int idle_timeout_ms = 60'000;                     // keep-alive connection idle limit
  int shutdown_grace_ms = 10'000;  // SIGTERM: how long in-flight requests may finish
};

struct ProviderConfig {
  std::string name;                 // used in "name/model"
  std::string kind = "openai";      // "openai" | "anthropic"
  std::string base_url;             // e.g. https://api.openai.com/v1
  std::string api_key_env;          // env var holding the key ("" = no key)
  std::string api_key;              // resolved from api_key_env at load time
  std::vector<std::string> models;  // bare names that resolve to this provider
  bool owned = false;               // runs inside the operator's boundary
  int connect_timeout_ms = 5'000;
  int first_byte_timeout_ms = 60'000;            // until the response head arrives
  int total_timeout_ms = 600'000;                // whole exchange, stream included
  int max_retries = 2;                           // extra attempts on the same target
  int retry_base_ms = 100;                       // backoff = base * 2^n, jittered
  int retry_max_ms = 5'000;                      // backoff cap
  int max_retry_after_ms = 20'000;               // a longer Retry-After falls back instead
  int breaker_failures = 5;                      // consecutive failures that open the circuit
  int breaker_cooldown_ms = 30'000;              // open → half-open after this long
  int max_idle_connections = 64;                 // per event loop
  std::string anthropic_version = "2023-06-01";  // anthropic kind only
  int64_t default_max_tokens = 4096;             // anthropic kind: when the request sets none
  std::map<std::string, std::string> headers;    // extra headers sent upstream

  // Pricing. An external provider is priced from the price book by
  // (provider name, model); `price_as` = "provider/model" charges another
  // entry instead (e.g. a proxy in front of a hosted model). An owned provider
  // with hourly_cost_usd > 0 is priced per token from its hourly cost and
  // measured throughput; an owned provider without it is recorded as unpriced.
  std::string price_as;
  double hourly_cost_usd = 0;  // per GPU-hour
  int gpus = 1;
  double output_tokens_per_second = 0;  // measured generation throughput, whole deployment
  double input_tokens_per_second = 0;   // measured prefill throughput; 0 = input not charged
  double utilization = 1.0;             // (0, 1]: share of paid time spent serving

  // kind = "replay": answers from a recorded trace (CSV with a header row, or
  // JSONL), looked up by the request's last user message.
  std::string trace;                      // file path
  std::string trace_input = "input";      // column / field holding the input text
  std::string trace_output = "response";  // column / field holding the answer
  int latency_ms = 0;                     // simulated time to answer
};

// A task's prompt template (input_template): literal text with {{name}}
// variables ({{ name }} also reads; names are letters, digits and '_').
// Extract matches a message against the template's literal parts (byte for
// byte; leading and trailing whitespace of both ignored; each variable takes
// the shortest text up to the next literal part) and returns the text of one
// variable.
struct PromptTemplate {
  std::vector<std::string> literals;  // the texts around the variables: vars.size() + 1
  std::vector<std::string> vars;      // variable names, in order

  // InvalidArgument: "unclosed \"{{\" at byte N", "empty variable name at byte
  // N", "variable name \"X\" at byte N must be letters, digits or '_'",
  // "variables {{a}} and {{b}} must be separated by literal text",
  // "variable {{a}} appears twice".
  static core::Result<PromptTemplate> Parse(std::string_view text);
  // The text of variable `var` in `message` (whitespace-trimmed), or nullopt
  // when the message does not have the template's shape or `var` is unknown.
  std::optional<std::string_view> Extract(std::string_view message, std::string_view var) const;
};

// A task: a named, stable request type whose teacher's answers train a student.
struct TaskConfig {
  std::string name;                 // requests say model = "task:<name>" or x-switchyard-task
  std::string kind = "classify";    // classify (students); generate (no student)
  std::vector<std::string> labels;  // classify: the label set
  std::string teacher;              // "provider/model" whose answers are the labels
  double target_agreement = 0.95;   // the student answers only where it agrees this often
  // What the student reads: last_user | json_field:<name> | template_var:<name>.
  std::string input = "last_user";
  std::string input_template;      // input = "template_var:<name>": the prompt, with {{<name>}}
  PromptTemplate parsed_template;  // filled from input_template by validation
  std::string label_parse = "case_insensitive";  // exact | case_insensitive | json_field | regex
  std::string label_field = "label";             // label_parse = json_field
  std::string label_regex;                       // label_parse = regex (first capture group)
  int retrain_every = 200;                       // retrain after this many new labels
  int min_train_labels = 100;                    // no student before this many labels
  double holdout_fraction = 0.2;  // labels held out for calibration and the threshold
  double shadow_sample = 0.1;     // share of teacher answers also shown to the student
  int min_live_samples = 200;     // live comparisons before demotion can trigger
  // The student's fastText settings (defaults = learn::ModelOptions's).
  int word_ngrams = 2;             // 1 = words only, 2 = + word bigrams, ... up to 5
  int char_ngram_min = 0;          // character n-grams of each word: both 0 = none,
  int char_ngram_max = 0;          // else 1 <= min <= max <= 10
  int epochs = 0;                  // passes over the labels; 0 = auto (more for few labels)
  int dim = 25;                    // embedding size
  double student_cost_usd = 1e-7;  // charged per student answer (ledger, x-switchyard-cost-usd)
  std::string pii_policy;  // "" = [guard] pii_policy; else allow | redact | local_only | block
};

struct RouteConfig {
  std::string name;                  // requests may say model = "<name>"
  std::vector<std::string> targets;  // "provider/model", tried in order
  // How the target is chosen (docs/CONFIG.md, gateway/policies.h):
  //   fallback  targets in order (the default);
  //   router    a prompt router model scores the request: strong when
  //             score >= threshold, else weak;
  //   cascade   the weak target answers first; a cascade model scores its
  //             answer and escalates to strong when score >= threshold.
  // For router and cascade, `targets` is derived: {weak, strong}.
  std::string policy = "fallback";
  std::string weak;    // "provider/model" (router, cascade)
  std::string strong;  // "provider/model" (router, cascade)
  std::string model;   // router model file written by `switchyard router train`
  // Exactly one of: a fixed threshold, or a target the threshold is set from
  // at startup on the held-out CSV `holdout` (outcome columns required).
  std::optional<double> threshold;
  std::optional<double> target_pgr;        // (0, 1]: smallest strong share reaching it
  std::optional<double> max_strong_share;  // [0, 1]: at most this share goes strong
  std::string holdout;                     // held-out CSV for target_pgr / max_strong_share
  int latency_slo_ms = 0;                  // > 0: prefer weak while strong's recent p95 exceeds it
  // [0, 1]: share of answered requests whose other target is called too, off
  // the client's path, to keep both answers as router training rows
  // (gateway/shadow.h).
  double shadow_sample = 0;
};

struct LedgerConfig {
  bool enabled = true;                  // record one row per request
  std::string path;                     // "" = <data_dir>/ledger.db
  size_t queue_capacity = 65'536;       // records waiting for the writer; overflow spills to a file
  int batch_size = 512;                 // records per transaction
  int flush_interval_ms = 50;           // longest a record waits before its batch commits
  std::string store_payloads = "none";  // none | errors | all: keep request/response bodies
};

// A price from config: replaces or adds a price-book entry. USD per million
// tokens; a negative value means "not set" (cached_input and cache_write then
// cost the input price).
struct PriceOverride {
  std::string provider;  // "" = any provider
  std::string model;
  double input = -1;
  double cached_input = -1;
  double cache_write = -1;
  double output = -1;
};

struct LogConfig {
  std::string level = "info";   // trace | debug | info | warn | error
  std::string format = "text";  // text | json
};

// [guard]: API keys, limits and the PII policy on the request path.
struct GuardConfig {
  std::string auth = "off";          // off | keys (Authorization: Bearer KEY on chat requests)
  std::string admin_key_env;         // env var holding the admin key for /admin/* (auth = keys)
  std::string admin_key;             // resolved from admin_key_env at load time
  std::string keys_db;               // "" = <data_dir>/keys.db
  std::string audit_db;              // egress audit; "" = <data_dir>/audit.db
  std::string pii_policy = "allow";  // allow | redact | local_only | block
};

struct Config {
  std::string source = "<embedded defaults>";  // file path, for messages
  std::string data_dir = "./switchyard-data";  // [storage] data_dir
  ServerConfig server;
  LogConfig log;
  std::vector<ProviderConfig> providers;
  std::vector<RouteConfig> routes;
  LedgerConfig ledger;
  std::vector<PriceOverride> prices;
  std::vector<TaskConfig> tasks;
  GuardConfig guard;

  const TaskConfig* FindTask(std::string_view name) const;

  // <data_dir>/ledger.db unless [ledger] path is set.
  std::string LedgerPath() const;

  // <data_dir>/keys.db unless [guard] keys_db is set.
  std::string KeysDbPath() const;

  // <data_dir>/audit.db unless [guard] audit_db is set.
  std::string AuditDbPath() const;

  // The provider with this name, or nullptr. Points into `providers`.
  const ProviderConfig* FindProvider(std::string_view name) const;
};

// Parses TOML text. `source` names the file in error messages.
core::Result<Config> ParseConfig(std::string_view toml_text, const std::string& source,
                                 const EnvLookup& env);

// Reads and parses a file; `path` is the source in messages. An unreadable
// file gives "<path>: cannot read file: <strerror>".
core::Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env);

// Embedded defaults: listen 127.0.0.1:8080, data in ./switchyard-data, and the
// providers whose environment variables are set (OPENAI_API_KEY,
// ANTHROPIC_API_KEY, SWITCHYARD_LOCAL_URL [+ SWITCHYARD_LOCAL_MODELS]), with a
// "default" route over them.
core::Result<Config> DefaultConfig(const EnvLookup& env);

// LoadConfigFile(path) when `path` is not empty, else DefaultConfig: what
// every command's -c/--config means.
core::Result<Config> LoadConfigOrDefaults(const std::string& path, const EnvLookup& env);

}  // namespace switchyard::config
