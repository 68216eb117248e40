#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace switchyard::config {
namespace {

using core::StatusCode;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

// Two providers and a route that later snippets can build on.
constexpr char kTwoProviders[] = R"(
[[providers]]
name = "openai"
kind = "openai"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
models = ["gpt-4o-mini", "gpt-4o"]

[[providers]]
name = "anthropic"
kind = "anthropic"
base_url = "https://api.anthropic.com/v1"
api_key_env = "ANTHROPIC_API_KEY"
models = ["claude-3-5-haiku-latest"]
)";

// Parses `text` as conf.toml, expecting failure; returns the message.
std::string ErrorOf(const std::string& text, const EnvLookup& env = FakeEnv({})) {
  core::Result<Config> result = ParseConfig(text, "conf.toml", env);
  if (result.ok()) return "<parsed OK>";
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  return result.status().message();
}

std::string WithProviders(const std::string& extra) {
  return std::string(kTwoProviders) + extra;
}

// One minimal provider named "p" followed by `fields` (further keys of it).
std::string OneProvider(const std::string& fields) {
  return "[[providers]]\nname = \"p\"\nbase_url = \"https://example.test\"\n" + fields;
}

// ---------------------------------------------------------------------------
// Parsing

TEST(ParseConfigTest, BriefExampleWithBothProvidersParsesExactly) {
  const std::string text = R"(
[server]
listen = "127.0.0.1:8080"
[[providers]]
name = "openai"
kind = "openai"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
models = ["gpt-4o-mini", "gpt-4o"]
[[providers]]
name = "anthropic"
kind = "anthropic"
base_url = "https://api.anthropic.com/v1"
api_key_env = "ANTHROPIC_API_KEY"
[[routes]]
name = "default"
targets = ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"]
)";
  auto result = ParseConfig(text, "conf.toml", FakeEnv({{"OPENAI_API_KEY", "sk-test"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  const Config& c = *result;
  EXPECT_EQ(c.source, "conf.toml");
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.data_dir, "./switchyard-data");
  ASSERT_EQ(c.providers.size(), 2u);
  const ProviderConfig& openai = c.providers[0];
  EXPECT_EQ(openai.name, "openai");
  EXPECT_EQ(openai.kind, "openai");
  EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(openai.api_key_env, "OPENAI_API_KEY");
  EXPECT_EQ(openai.api_key, "sk-test");
  EXPECT_EQ(openai.models, (std::vector<std::string>{"gpt-4o-mini", "gpt-4o"}));
  EXPECT_FALSE(openai.owned);
  const ProviderConfig& anthropic = c.providers[1];
  EXPECT_EQ(anthropic.name, "anthropic");
  EXPECT_EQ(anthropic.kind, "anthropic");
  EXPECT_EQ(anthropic.api_key, "");  // variable unset: not an error
  EXPECT_TRUE(anthropic.models.empty());
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].name, "default");
  EXPECT_EQ(c.routes[0].targets,
            (std::vector<std::string>{"openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"}));
}

TEST(ParseConfigTest, BriefExampleAloneNamesTheUndefinedProvider) {
  // The brief's example routes to "anthropic" without defining it.
  const std::string text = R"(
[server]
listen = "127.0.0.1:8080"
[[providers]]
name = "openai"
kind = "openai"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
models = ["gpt-4o-mini", "gpt-4o"]
[[routes]]
name = "default"
targets = ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"]
)";
  EXPECT_EQ(ErrorOf(text),
            "conf.toml: routes[0].targets[1]: unknown provider \"anthropic\" (expected "
            "\"provider/model\" with a provider defined in [[providers]])");
}

TEST(ParseConfigTest, EmptyTextGivesDefaults) {
  auto result = ParseConfig("", "empty.toml", FakeEnv({}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  const Config& c = *result;
  const ServerConfig defaults;
  EXPECT_EQ(c.source, "empty.toml");
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.threads, 0);
  EXPECT_EQ(c.server.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(c.data_dir, "./switchyard-data");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, "text");
  EXPECT_TRUE(c.providers.empty());
  EXPECT_TRUE(c.routes.empty());
}

TEST(ParseConfigTest, EveryKeyIsRead) {
  const std::string text = R"(
[server]
listen = "0.0.0.0:9000"
threads = 3
max_body_bytes = 1000
max_header_bytes = 2000
header_timeout_ms = 11
body_timeout_ms = 12
idle_timeout_ms = 13
shutdown_grace_ms = 14

[storage]
data_dir = "/var/lib/sy"

[log]
level = "debug"
format = "json"

[[providers]]
name = "vllm"
kind = "openai"
base_url = "http://10.0.0.5:8000/v1/"
api_key_env = "VLLM_KEY"
models = ["llama-3-8b", "meta-llama/Llama-3-70B"]
owned = true
connect_timeout_ms = 21
first_byte_timeout_ms = 22
total_timeout_ms = 23
max_retries = 0
retry_base_ms = 24
retry_max_ms = 25
max_retry_after_ms = 0
breaker_failures = 26
breaker_cooldown_ms = 27
max_idle_connections = 0
anthropic_version = "2024-01-01"
default_max_tokens = 8192
headers = { "X-Team" = "search", "OpenAI-Organization" = "org-1" }

[[routes]]
name = "cheap"
targets = ["vllm/llama-3-8b", "vllm/meta-llama/Llama-3-70B"]
)";
  auto result = ParseConfig(text, "conf.toml", FakeEnv({{"VLLM_KEY", "k-1"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  const Config& c = *result;
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.threads, 3);
  EXPECT_EQ(c.server.max_body_bytes, 1000u);
  EXPECT_EQ(c.server.max_header_bytes, 2000u);
  EXPECT_EQ(c.server.header_timeout_ms, 11);
  EXPECT_EQ(c.server.body_timeout_ms, 12);
  EXPECT_EQ(c.server.idle_timeout_ms, 13);
  EXPECT_EQ(c.server.shutdown_grace_ms, 14);
  EXPECT_EQ(c.data_dir, "/var/lib/sy");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  ASSERT_EQ(c.providers.size(), 1u);
  const ProviderConfig& p = c.providers[0];
  EXPECT_EQ(p.base_url, "http://10.0.0.5:8000/v1");  // trailing slash dropped
  EXPECT_EQ(p.api_key, "k-1");
  EXPECT_EQ(p.models, (std::vector<std::string>{"llama-3-8b", "meta-llama/Llama-3-70B"}));
  EXPECT_TRUE(p.owned);
  EXPECT_EQ(p.connect_timeout_ms, 21);
  EXPECT_EQ(p.first_byte_timeout_ms, 22);
  EXPECT_EQ(p.total_timeout_ms, 23);
  EXPECT_EQ(p.max_retries, 0);
  EXPECT_EQ(p.retry_base_ms, 24);
  EXPECT_EQ(p.retry_max_ms, 25);
  EXPECT_EQ(p.max_retry_after_ms, 0);
  EXPECT_EQ(p.breaker_failures, 26);
  EXPECT_EQ(p.breaker_cooldown_ms, 27);
  EXPECT_EQ(p.max_idle_connections, 0);
  EXPECT_EQ(p.anthropic_version, "2024-01-01");
  EXPECT_EQ(p.default_max_tokens, 8192);
  EXPECT_EQ(p.headers, (std::map<std::string, std::string>{{"X-Team", "search"},
                                                           {"OpenAI-Organization", "org-1"}}));
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].targets[1], "vllm/meta-llama/Llama-3-70B");
  EXPECT_EQ(c.FindProvider("vllm"), &c.providers[0]);
  EXPECT_EQ(c.FindProvider("nope"), nullptr);
}

TEST(ParseConfigTest, ProviderDefaultsApplyWhenKeysAreAbsent) {
  auto result = ParseConfig(R"(
[[providers]]
name = "p"
base_url = "https://example.test"
)",
                            "conf.toml", FakeEnv({}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  const ProviderConfig& p = result->providers[0];
  const ProviderConfig defaults;
  EXPECT_EQ(p.kind, "openai");
  EXPECT_EQ(p.api_key_env, "");
  EXPECT_EQ(p.api_key, "");
  EXPECT_EQ(p.total_timeout_ms, defaults.total_timeout_ms);
  EXPECT_EQ(p.max_retries, defaults.max_retries);
  EXPECT_EQ(p.anthropic_version, "2023-06-01");
  EXPECT_EQ(p.default_max_tokens, 4096);
  EXPECT_TRUE(p.headers.empty());
}

TEST(ParseConfigTest, InlineArrayOfProviderTablesIsAccepted) {
  auto result = ParseConfig(R"(providers = [{ name = "p", base_url = "https://example.test" }])",
                            "conf.toml", FakeEnv({}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->providers[0].name, "p");
}

TEST(ParseConfigTest, ListenForms) {
  struct Case {
    std::string listen;
    std::string host;
    uint16_t port;
  };
  for (const Case& c :
       {Case{"[::1]:8080", "::1", 8080}, Case{"[::]:0", "::", 0},
        Case{"localhost:65535", "localhost", 65535}, Case{"127.0.0.1:0", "127.0.0.1", 0}}) {
    auto result =
        ParseConfig("[server]\nlisten = \"" + c.listen + "\"\n", "conf.toml", FakeEnv({}));
    ASSERT_TRUE(result.ok()) << c.listen << ": " << result.status().message();
    EXPECT_EQ(result->server.listen, c.listen);
    EXPECT_EQ(result->server.host, c.host) << c.listen;
    EXPECT_EQ(result->server.port, c.port) << c.listen;
  }
}

TEST(ParseConfigTest, BadListenValues) {
  for (std::string listen : {"localhost", "::1:8080", "[::1]", "host:", ":8080", "host:65536",
                             "host:80a", "[]:80", "[127.0.0.1]:80", "host:-1", "a b:80"}) {
    EXPECT_EQ(ErrorOf("[server]\nlisten = \"" + listen + "\"\n"),
              "conf.toml: server.listen: expected \"host:port\", got \"" + listen + "\"");
  }
}

TEST(ParseConfigTest, ApiKeyComesFromTheNamedVariable) {
  auto with_key = ParseConfig(kTwoProviders, "conf.toml",
                              FakeEnv({{"OPENAI_API_KEY", "sk-a"}, {"ANTHROPIC_API_KEY", ""}}));
  ASSERT_TRUE(with_key.ok()) << with_key.status().message();
  EXPECT_EQ(with_key->providers[0].api_key, "sk-a");
  EXPECT_EQ(with_key->providers[1].api_key, "");
}

// ---------------------------------------------------------------------------
// Errors

TEST(ParseConfigErrorTest, SyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(
      ErrorOf("[server]\nthreads = 2\nlisten = \n"),
      "conf.toml:3:10: TOML syntax error: Error while parsing key-value pair: expected value, "
      "saw '\\n'");
  EXPECT_EQ(ErrorOf("[server]\n[server]\n"),
            "conf.toml:2:1: TOML syntax error: Error while parsing table header: cannot redefine "
            "existing table 'server'");
}

TEST(ParseConfigErrorTest, WrongTypes) {
  EXPECT_EQ(ErrorOf("[server]\nthreads = \"4\"\n"),
            "conf.toml: server.threads: expected an integer, got a string");
  EXPECT_EQ(ErrorOf("[server]\nidle_timeout_ms = 1.5\n"),
            "conf.toml: server.idle_timeout_ms: expected an integer, got a float");
  EXPECT_EQ(ErrorOf("[server]\nlisten = 8080\n"),
            "conf.toml: server.listen: expected a string, got an integer");
  EXPECT_EQ(ErrorOf("server = 1\n"), "conf.toml: server: expected a table, got an integer");
  EXPECT_EQ(ErrorOf("storage = \"x\"\n"), "conf.toml: storage: expected a table, got a string");
  EXPECT_EQ(ErrorOf("[log]\nlevel = true\n"),
            "conf.toml: log.level: expected a string, got a boolean");
  EXPECT_EQ(ErrorOf("[providers]\nname = \"x\"\n"),
            "conf.toml: providers: expected an array of tables ([[providers]]), got a table");
  EXPECT_EQ(ErrorOf("providers = [1]\n"),
            "conf.toml: providers[0]: expected a table, got an integer");
  EXPECT_EQ(ErrorOf("routes = 2\n"),
            "conf.toml: routes: expected an array of tables ([[routes]]), got an integer");
  EXPECT_EQ(ErrorOf(WithProviders("owned = \"yes\"\n")),
            "conf.toml: providers[1].owned: expected a boolean, got a string");
  EXPECT_EQ(ErrorOf(OneProvider("models = \"gpt\"\n")),
            "conf.toml: providers[0].models: expected an array of strings, got a string");
  EXPECT_EQ(ErrorOf(OneProvider("models = [\"a\", 2, \"a\"]\n")),
            "conf.toml: providers[0].models[1]: expected a string, got an integer\n"
            "conf.toml: providers[0].models[2]: duplicate model \"a\"");
  EXPECT_EQ(ErrorOf(OneProvider("headers = [\"X-A: b\"]\n")),
            "conf.toml: providers[0].headers: expected a table of strings, got an array");
  EXPECT_EQ(ErrorOf(OneProvider("headers = { X-A = 1 }\n")),
            "conf.toml: providers[0].headers.X-A: expected a string, got an integer");
  EXPECT_EQ(ErrorOf(OneProvider("default_max_tokens = 1e3\n")),
            "conf.toml: providers[0].default_max_tokens: expected an integer, got a float");
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\nname = \"r\"\ntargets = [\"openai/gpt-4o\", 5]\n")),
            "conf.toml: routes[0].targets[1]: expected a string, got an integer");
  EXPECT_EQ(ErrorOf("[server]\nlisten = 1979-05-27\n"),
            "conf.toml: server.listen: expected a string, got a date");
}

TEST(ParseConfigErrorTest, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(ErrorOf("[servr]\nlisten = \"127.0.0.1:1\"\n"), "conf.toml: unknown key \"servr\"");
  EXPECT_EQ(ErrorOf("[server]\ntreads = 4\n"), "conf.toml: unknown key \"server.treads\"");
  EXPECT_EQ(ErrorOf("[storage]\ndir = \"x\"\n"), "conf.toml: unknown key \"storage.dir\"");
  EXPECT_EQ(ErrorOf("[log]\ncolour = \"x\"\n"), "conf.toml: unknown key \"log.colour\"");
  EXPECT_EQ(ErrorOf(OneProvider("modles = [\"x\"]\n")),
            "conf.toml: unknown key \"providers[0].modles\"");
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\nname = \"r\"\ntargets = [\"openai/gpt-4o\"]\n"
                                  "[[routes]]\nname = \"s\"\ntarget = [\"openai/gpt-4o\"]\n")),
            "conf.toml: routes[1].targets: missing; expected a non-empty array of "
            "\"provider/model\" strings\n"
            "conf.toml: unknown key \"routes[1].target\"");
  EXPECT_EQ(ErrorOf("[server.tls]\ncert = \"x\"\n"), "conf.toml: unknown key \"server.tls\"");
  EXPECT_EQ(ErrorOf("\"odd key\" = 1\n"), "conf.toml: unknown key \"\\\"odd key\\\"\"");
}

TEST(ParseConfigErrorTest, ApiKeyInTheFileIsRefused) {
  EXPECT_EQ(ErrorOf(OneProvider("api_key = \"sk-live\"\n")),
            "conf.toml: providers[0].api_key: keys are not read from the config file; put the "
            "key in an environment variable and name that variable with api_key_env");
}

TEST(ParseConfigErrorTest, ProviderKind) {
  EXPECT_EQ(ErrorOf(WithProviders(R"(
[[providers]]
name = "x"
kind = "foo"
base_url = "https://x.test"
)")),
            "conf.toml: providers[2].kind: expected one of \"openai\", \"anthropic\", \"replay\", "
            "got \"foo\"");
}

TEST(ParseConfigErrorTest, ProviderNames) {
  EXPECT_EQ(ErrorOf("[[providers]]\nbase_url = \"https://x.test\"\n"),
            "conf.toml: providers[0].name: missing; expected a non-empty name without \"/\"");
  EXPECT_EQ(ErrorOf("[[providers]]\nname = \"\"\nbase_url = \"https://x.test\"\n"),
            "conf.toml: providers[0].name: expected a non-empty name without \"/\", got \"\"");
  EXPECT_EQ(ErrorOf("[[providers]]\nname = \"a/b\"\nbase_url = \"https://x.test\"\n"),
            "conf.toml: providers[0].name: expected a non-empty name without \"/\", got \"a/b\"");
  EXPECT_EQ(
      ErrorOf(WithProviders("[[providers]]\nname = \"openai\"\nbase_url = \"https://x.test\"\n")),
      "conf.toml: providers[2].name: duplicate provider name \"openai\" (also providers[0])");
}

TEST(ParseConfigErrorTest, ProviderBaseUrl) {
  EXPECT_EQ(ErrorOf("[[providers]]\nname = \"p\"\n"),
            "conf.toml: providers[0].base_url: missing; expected a URL starting with \"http://\" "
            "or \"https://\"");
  for (std::string url : {"ftp://x.test", "api.openai.com/v1", "https://", "http:///v1", ""}) {
    EXPECT_EQ(ErrorOf("[[providers]]\nname = \"p\"\nbase_url = \"" + url + "\"\n"),
              "conf.toml: providers[0].base_url: expected a URL starting with \"http://\" or "
              "\"https://\", got \"" +
                  url + "\"");
  }
}

TEST(ParseConfigErrorTest, ProviderModels) {
  EXPECT_EQ(ErrorOf(OneProvider("models = [\"a\", \"\"]\n")),
            "conf.toml: providers[0].models[1]: expected a non-empty model name, got \"\"");
  EXPECT_EQ(ErrorOf(WithProviders(R"(
[[providers]]
name = "azure"
base_url = "https://azure.test"
models = ["o1", "gpt-4o"]
)")),
            "conf.toml: providers[2].models[1]: model \"gpt-4o\" is also listed by provider "
            "\"openai\" (a bare model name must resolve to one provider)");
}

TEST(ParseConfigErrorTest, ProviderHeaders) {
  EXPECT_EQ(ErrorOf(OneProvider("headers = { \"X Bad\" = \"v\" }\n")),
            "conf.toml: providers[0].headers.\"X Bad\": expected an HTTP header name (letters, "
            "digits and !#$%&'*+-.^_`|~), got \"X Bad\"");
  EXPECT_EQ(ErrorOf(OneProvider("headers = { X-A = \"a\\r\\nHost: evil\" }\n")),
            "conf.toml: providers[0].headers.X-A: expected a header value without CR, LF or NUL, "
            "got \"a\\r\\nHost: evil\"");
}

TEST(ParseConfigErrorTest, NumericLimits) {
  struct Case {
    std::string toml;
    std::string message;
  };
  const Case cases[] = {
      {"[server]\nthreads = -1\n", "server.threads: expected an integer >= 0, got -1"},
      {"[server]\nmax_body_bytes = 0\n",
       "server.max_body_bytes: expected a positive integer, got 0"},
      {"[server]\nmax_body_bytes = -5\n",
       "server.max_body_bytes: expected a positive integer, got -5"},
      {"[server]\nmax_header_bytes = 0\n",
       "server.max_header_bytes: expected a positive integer, got 0"},
      {"[server]\nheader_timeout_ms = 0\n",
       "server.header_timeout_ms: expected a positive integer, got 0"},
      {"[server]\nbody_timeout_ms = -3\n",
       "server.body_timeout_ms: expected a positive integer, got -3"},
      {"[server]\nidle_timeout_ms = 0\n",
       "server.idle_timeout_ms: expected a positive integer, got 0"},
      {"[server]\nshutdown_grace_ms = 0\n",
       "server.shutdown_grace_ms: expected a positive integer, got 0"},
      {"[server]\nidle_timeout_ms = 3000000000\n",
       "server.idle_timeout_ms: expected an integer <= 2147483647, got 3000000000"},
      {"[server]\nthreads = -3000000000\n",
       "server.threads: expected an integer >= -2147483648, got -3000000000"},
      {OneProvider("connect_timeout_ms = 0\n"),
       "providers[0].connect_timeout_ms: expected a positive integer, got 0"},
      {OneProvider("first_byte_timeout_ms = 0\n"),
       "providers[0].first_byte_timeout_ms: expected a positive integer, got 0"},
      {OneProvider("total_timeout_ms = 0\n"),
       "providers[0].total_timeout_ms: expected a positive integer, got 0"},
      {OneProvider("max_retries = -1\n"),
       "providers[0].max_retries: expected an integer >= 0, got -1"},
      {OneProvider("retry_base_ms = 0\n"),
       "providers[0].retry_base_ms: expected a positive integer, got 0"},
      {OneProvider("retry_max_ms = 0\n"),
       "providers[0].retry_max_ms: expected a positive integer, got 0"},
      {OneProvider("retry_base_ms = 500\nretry_max_ms = 100\n"),
       "providers[0].retry_max_ms: expected an integer >= retry_base_ms (500), got 100"},
      {OneProvider("max_retry_after_ms = -1\n"),
       "providers[0].max_retry_after_ms: expected an integer >= 0, got -1"},
      {OneProvider("breaker_failures = 0\n"),
       "providers[0].breaker_failures: expected a positive integer, got 0"},
      {OneProvider("breaker_cooldown_ms = 0\n"),
       "providers[0].breaker_cooldown_ms: expected a positive integer, got 0"},
      {OneProvider("max_idle_connections = -1\n"),
       "providers[0].max_idle_connections: expected an integer >= 0, got -1"},
      {OneProvider("default_max_tokens = 0\n"),
       "providers[0].default_max_tokens: expected a positive integer, got 0"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ErrorOf(c.toml), "conf.toml: " + c.message) << c.toml;
  }
}

TEST(ParseConfigErrorTest, StringSettings) {
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"verbose\"\n"),
            "conf.toml: log.level: expected one of \"trace\", \"debug\", \"info\", \"warn\", "
            "\"error\", got \"verbose\"");
  EXPECT_EQ(ErrorOf("[log]\nformat = \"xml\"\n"),
            "conf.toml: log.format: expected \"text\" or \"json\", got \"xml\"");
  EXPECT_EQ(ErrorOf("[storage]\ndata_dir = \"\"\n"),
            "conf.toml: storage.data_dir: expected a non-empty path, got \"\"");
  EXPECT_EQ(ErrorOf(OneProvider("anthropic_version = \"\"\n")),
            "conf.toml: providers[0].anthropic_version: expected a non-empty string, got \"\"");
}

TEST(ParseConfigErrorTest, RouteTargets) {
  auto route = [](const std::string& targets) {
    return WithProviders("[[routes]]\nname = \"r\"\ntargets = " + targets + "\n");
  };
  EXPECT_EQ(ErrorOf(route(R"(["openai/gpt-4o", "nope/x"])")),
            "conf.toml: routes[0].targets[1]: unknown provider \"nope\" (expected "
            "\"provider/model\" with a provider defined in [[providers]])");
  EXPECT_EQ(ErrorOf(route(R"(["gpt-4o"])")),
            "conf.toml: routes[0].targets[0]: expected \"provider/model\", got \"gpt-4o\"");
  EXPECT_EQ(ErrorOf(route(R"(["openai/"])")),
            "conf.toml: routes[0].targets[0]: expected \"provider/model\", got \"openai/\"");
  EXPECT_EQ(ErrorOf(route(R"(["/gpt-4o"])")),
            "conf.toml: routes[0].targets[0]: expected \"provider/model\", got \"/gpt-4o\"");
  EXPECT_EQ(ErrorOf(route(R"(["openai/gpt-5"])")),
            "conf.toml: routes[0].targets[0]: provider \"openai\" does not list model \"gpt-5\"");
  EXPECT_EQ(ErrorOf(route(R"(["openai/gpt-4o", "openai/gpt-4o"])")),
            "conf.toml: routes[0].targets[1]: duplicate target \"openai/gpt-4o\"");
  EXPECT_EQ(ErrorOf(route("[]")),
            "conf.toml: routes[0].targets: expected a non-empty array of \"provider/model\" "
            "strings, got []");
  EXPECT_EQ(ErrorOf(route("\"openai/gpt-4o\"")),
            "conf.toml: routes[0].targets: expected an array of strings, got a string");
}

TEST(ParseConfigTest, ProviderWithoutModelsAcceptsAnyModel) {
  auto result =
      ParseConfig(OneProvider("") + "[[routes]]\nname = \"r\"\ntargets = [\"p/anything\"]\n",
                  "conf.toml", FakeEnv({}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->routes[0].targets[0], "p/anything");
}

TEST(ParseConfigErrorTest, RouteNames) {
  const std::string ok_targets = "targets = [\"openai/gpt-4o\"]\n";
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\n" + ok_targets)),
            "conf.toml: routes[0].name: missing; expected a non-empty name without \"/\"");
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\nname = \"a/b\"\n" + ok_targets)),
            "conf.toml: routes[0].name: expected a non-empty name without \"/\", got \"a/b\"");
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\nname = \"r\"\n" + ok_targets +
                                  "[[routes]]\nname = \"r\"\n" + ok_targets)),
            "conf.toml: routes[1].name: duplicate route name \"r\"");
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\nname = \"anthropic\"\n" + ok_targets)),
            "conf.toml: routes[0].name: route name \"anthropic\" is also a provider name");
  EXPECT_EQ(ErrorOf(WithProviders("[[routes]]\nname = \"gpt-4o-mini\"\n" + ok_targets)),
            "conf.toml: routes[0].name: route name \"gpt-4o-mini\" is also a model listed by "
            "provider \"openai\"");
}

TEST(ParseConfigErrorTest, AllProblemsAreReportedOnePerLine) {
  EXPECT_EQ(ErrorOf("[server]\nlisten = \"nohost\"\nthreads = -2\n[log]\nlevel = \"loud\"\n"
                    "[extra]\n"),
            "conf.toml: unknown key \"extra\"\n"
            "conf.toml: server.listen: expected \"host:port\", got \"nohost\"\n"
            "conf.toml: server.threads: expected an integer >= 0, got -2\n"
            "conf.toml: log.level: expected one of \"trace\", \"debug\", \"info\", \"warn\", "
            "\"error\", got \"loud\"");
}

TEST(ParseConfigErrorTest, ABrokenProviderDoesNotCascade) {
  // Targets are not blamed for a provider list that could not be read.
  EXPECT_EQ(ErrorOf("providers = 1\n[[routes]]\nname = \"r\"\ntargets = [\"openai/gpt-4o\"]\n"),
            "conf.toml: providers: expected an array of tables ([[providers]]), got an integer");
  EXPECT_EQ(ErrorOf("[[providers]]\nname = 7\nbase_url = \"https://x.test\"\n"),
            "conf.toml: providers[0].name: expected a string, got an integer");
}

TEST(ParseConfigErrorTest, ValueInMessagesStaysOnOneLine) {
  EXPECT_EQ(ErrorOf("[log]\nformat = \"a\\nb\\\"c\"\n"),
            "conf.toml: log.format: expected \"text\" or \"json\", got \"a\\nb\\\"c\"");
}

// ---------------------------------------------------------------------------
// Embedded defaults

TEST(DefaultConfigTest, NoEnvironmentMeansNoProviders) {
  auto result = DefaultConfig(FakeEnv({}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->source, "<embedded defaults>");
  EXPECT_EQ(result->server.listen, "127.0.0.1:8080");
  EXPECT_EQ(result->server.host, "127.0.0.1");
  EXPECT_EQ(result->server.port, 8080);
  EXPECT_EQ(result->data_dir, "./switchyard-data");
  EXPECT_TRUE(result->providers.empty());
  EXPECT_TRUE(result->routes.empty());
}

TEST(DefaultConfigTest, NullEnvLookupIsLikeAnEmptyEnvironment) {
  auto result = DefaultConfig(EnvLookup());
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->providers.empty());
}

TEST(DefaultConfigTest, OpenAiOnly) {
  auto result = DefaultConfig(FakeEnv({{"OPENAI_API_KEY", "sk-o"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->providers.size(), 1u);
  const ProviderConfig& p = result->providers[0];
  EXPECT_EQ(p.name, "openai");
  EXPECT_EQ(p.kind, "openai");
  EXPECT_EQ(p.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(p.api_key_env, "OPENAI_API_KEY");
  EXPECT_EQ(p.api_key, "sk-o");
  EXPECT_FALSE(p.owned);
  EXPECT_EQ(p.models, (std::vector<std::string>{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1",
                                                "o4-mini"}));
  ASSERT_EQ(result->routes.size(), 1u);
  EXPECT_EQ(result->routes[0].name, "default");
  EXPECT_EQ(result->routes[0].targets, (std::vector<std::string>{"openai/gpt-4o-mini"}));
}

TEST(DefaultConfigTest, AnthropicOnly) {
  auto result = DefaultConfig(FakeEnv({{"ANTHROPIC_API_KEY", "sk-ant"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->providers.size(), 1u);
  const ProviderConfig& p = result->providers[0];
  EXPECT_EQ(p.name, "anthropic");
  EXPECT_EQ(p.kind, "anthropic");
  EXPECT_EQ(p.base_url, "https://api.anthropic.com/v1");
  EXPECT_EQ(p.api_key_env, "ANTHROPIC_API_KEY");
  EXPECT_EQ(p.api_key, "sk-ant");
  EXPECT_EQ(p.models, (std::vector<std::string>{"claude-3-5-haiku-latest", "claude-sonnet-4-5",
                                                "claude-opus-4-1"}));
  ASSERT_EQ(result->routes.size(), 1u);
  EXPECT_EQ(result->routes[0].targets,
            (std::vector<std::string>{"anthropic/claude-3-5-haiku-latest"}));
}

TEST(DefaultConfigTest, LocalWithModels) {
  auto result = DefaultConfig(FakeEnv({{"SWITCHYARD_LOCAL_URL", "http://127.0.0.1:8000/v1"},
                                       {"SWITCHYARD_LOCAL_MODELS", " llama-3-8b , ,qwen-7b,"},
                                       {"SWITCHYARD_LOCAL_API_KEY", "local-key"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->providers.size(), 1u);
  const ProviderConfig& p = result->providers[0];
  EXPECT_EQ(p.name, "local");
  EXPECT_EQ(p.kind, "openai");
  EXPECT_TRUE(p.owned);
  EXPECT_EQ(p.base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(p.api_key_env, "SWITCHYARD_LOCAL_API_KEY");
  EXPECT_EQ(p.api_key, "local-key");
  EXPECT_EQ(p.models, (std::vector<std::string>{"llama-3-8b", "qwen-7b"}));
  ASSERT_EQ(result->routes.size(), 1u);
  EXPECT_EQ(result->routes[0].targets, (std::vector<std::string>{"local/llama-3-8b"}));
}

TEST(DefaultConfigTest, LocalWithoutModelsAcceptsAnyModelButMakesNoRoute) {
  auto result = DefaultConfig(FakeEnv({{"SWITCHYARD_LOCAL_URL", "http://127.0.0.1:8000/v1"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->providers.size(), 1u);
  EXPECT_TRUE(result->providers[0].models.empty());
  EXPECT_EQ(result->providers[0].api_key, "");
  EXPECT_TRUE(result->routes.empty());
}

TEST(DefaultConfigTest, AllThreeInOrder) {
  auto result = DefaultConfig(FakeEnv({{"OPENAI_API_KEY", "a"},
                                       {"ANTHROPIC_API_KEY", "b"},
                                       {"SWITCHYARD_LOCAL_URL", "http://gpu-box:8000/v1"},
                                       {"SWITCHYARD_LOCAL_MODELS", "llama"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->providers.size(), 3u);
  EXPECT_EQ(result->providers[0].name, "openai");
  EXPECT_EQ(result->providers[1].name, "anthropic");
  EXPECT_EQ(result->providers[2].name, "local");
  ASSERT_EQ(result->routes.size(), 1u);
  EXPECT_EQ(result->routes[0].targets,
            (std::vector<std::string>{"local/llama", "openai/gpt-4o-mini",
                                      "anthropic/claude-3-5-haiku-latest"}));
}

TEST(DefaultConfigTest, CloudPlusLocalWithoutModels) {
  auto result = DefaultConfig(
      FakeEnv({{"ANTHROPIC_API_KEY", "b"}, {"SWITCHYARD_LOCAL_URL", "http://gpu-box:8000/v1"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->providers.size(), 2u);
  EXPECT_EQ(result->routes[0].targets,
            (std::vector<std::string>{"anthropic/claude-3-5-haiku-latest"}));
}

TEST(DefaultConfigTest, ListenAndDataDirFromEnvironment) {
  auto result = DefaultConfig(
      FakeEnv({{"SWITCHYARD_LISTEN", "[::1]:0"}, {"SWITCHYARD_DATA_DIR", "/tmp/sy-data"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->server.listen, "[::1]:0");
  EXPECT_EQ(result->server.host, "::1");
  EXPECT_EQ(result->server.port, 0);
  EXPECT_EQ(result->data_dir, "/tmp/sy-data");
}

TEST(DefaultConfigTest, EmptyVariablesCountAsUnset) {
  auto result = DefaultConfig(FakeEnv({{"OPENAI_API_KEY", ""}, {"SWITCHYARD_LISTEN", ""}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->providers.empty());
  EXPECT_EQ(result->server.listen, "127.0.0.1:8080");
}

TEST(DefaultConfigTest, BadEnvironmentValuesNameTheVariable) {
  auto bad_listen = DefaultConfig(FakeEnv({{"SWITCHYARD_LISTEN", "8080"}}));
  ASSERT_FALSE(bad_listen.ok());
  EXPECT_EQ(bad_listen.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad_listen.status().message(),
            "<embedded defaults>: SWITCHYARD_LISTEN: expected \"host:port\", got \"8080\"");

  auto bad_url = DefaultConfig(FakeEnv({{"SWITCHYARD_LOCAL_URL", "localhost:8000"}}));
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.status().message(),
            "<embedded defaults>: SWITCHYARD_LOCAL_URL: expected a URL starting with \"http://\" "
            "or \"https://\", got \"localhost:8000\"");

  auto clash = DefaultConfig(FakeEnv({{"OPENAI_API_KEY", "a"},
                                      {"SWITCHYARD_LOCAL_URL", "http://gpu:8000"},
                                      {"SWITCHYARD_LOCAL_MODELS", "llama,gpt-4o"}}));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "<embedded defaults>: SWITCHYARD_LOCAL_MODELS: model \"gpt-4o\" is also listed by "
            "provider \"openai\" (a bare model name must resolve to one provider)");

  auto duplicate = DefaultConfig(FakeEnv(
      {{"SWITCHYARD_LOCAL_URL", "http://gpu:8000"}, {"SWITCHYARD_LOCAL_MODELS", "llama,llama"}}));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().message(),
            "<embedded defaults>: SWITCHYARD_LOCAL_MODELS: duplicate model \"llama\"");
}

// ---------------------------------------------------------------------------
// Files and the process environment

class LoadConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("sy_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(LoadConfigFileTest, ReadsAndParses) {
  std::string path =
      Write("switchyard.toml", std::string(kTwoProviders) + "[server]\nlisten = \"127.0.0.1:0\"\n");
  auto result = LoadConfigFile(path, FakeEnv({{"ANTHROPIC_API_KEY", "sk-ant"}}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->source, path);
  EXPECT_EQ(result->server.port, 0);
  EXPECT_EQ(result->providers.size(), 2u);
  EXPECT_EQ(result->providers[1].api_key, "sk-ant");
}

TEST_F(LoadConfigFileTest, ErrorsNameThePath) {
  std::string path = Write("bad.toml", "[server]\nthreads = \"x\"\n");
  auto result = LoadConfigFile(path, FakeEnv({}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            path + ": server.threads: expected an integer, got a string");

  std::string syntax = Write("syntax.toml", "a = \n");
  auto syntax_result = LoadConfigFile(syntax, FakeEnv({}));
  ASSERT_FALSE(syntax_result.ok());
  EXPECT_EQ(syntax_result.status().message(),
            syntax +
                ":1:5: TOML syntax error: Error while parsing key-value pair: expected value, saw "
                "'\\n'");
}

TEST_F(LoadConfigFileTest, MissingFile) {
  std::string path = (dir_ / "absent.toml").string();
  auto result = LoadConfigFile(path, FakeEnv({}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(), path + ": cannot read file: No such file or directory");
}

TEST_F(LoadConfigFileTest, DirectoryIsNotAFile) {
  auto result = LoadConfigFile(dir_.string(), FakeEnv({}));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(), dir_.string() + ": cannot read file: Is a directory");
}

TEST(DocsTest, ExampleInConfigMdParses) {
  std::ifstream in(std::string(SWITCHYARD_SOURCE_DIR) + "/docs/CONFIG.md");
  ASSERT_TRUE(in.good());
  std::string line;
  std::string example;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```toml") {
      inside = true;
    } else if (inside && line == "```") {
      break;
    } else if (inside) {
      example += line + "\n";
    }
  }
  ASSERT_FALSE(example.empty());
  auto result = ParseConfig(example, "CONFIG.md", FakeEnv({}));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->providers.size(), 3u);
  EXPECT_EQ(result->log.format, "json");
}

TEST(ProcessEnvTest, ReadsTheRealEnvironment) {
  constexpr char kName[] = "SWITCHYARD_CONFIG_TEST_ONLY_VARIABLE";
  EnvLookup env = ProcessEnv();
  ::unsetenv(kName);
  EXPECT_EQ(env(kName), std::nullopt);
  ::setenv(kName, "", 1);
  EXPECT_EQ(env(kName), std::nullopt);
  ::setenv(kName, "value", 1);
  EXPECT_EQ(env(kName), std::optional<std::string>("value"));
  ::unsetenv(kName);
}

}  // namespace
}  // namespace switchyard::config

namespace switchyard::config {
namespace {

TEST(LedgerAndPricesConfigTest, DefaultsAndLedgerPath) {
  auto cfg = ParseConfig("", "conf.toml", FakeEnv({}));
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_TRUE(cfg->ledger.enabled);
  EXPECT_EQ(cfg->ledger.store_payloads, "none");
  EXPECT_EQ(cfg->ledger.queue_capacity, 65536u);
  EXPECT_EQ(cfg->LedgerPath(), "./switchyard-data/ledger.db");
  auto custom = ParseConfig("[storage]\ndata_dir = \"/var/sy/\"\n", "conf.toml", FakeEnv({}));
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->LedgerPath(), "/var/sy/ledger.db");
}

TEST(LedgerAndPricesConfigTest, ReadsLedgerPricesAndSelfHostedPricing) {
  auto cfg = ParseConfig(OneProvider("owned = true\nhourly_cost_usd = 3.99\ngpus = 2\n"
                                     "output_tokens_per_second = 15220\nutilization = 0.5\n") +
                             "[ledger]\npath = \"/tmp/x.db\"\nbatch_size = 100\n"
                             "store_payloads = \"errors\"\n"
                             "[[prices]]\nprovider = \"openai\"\nmodel = \"ft:gpt-4o-mini:acme\"\n"
                             "input = 0.3\noutput = 1.2\n",
                         "conf.toml", FakeEnv({}));
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->LedgerPath(), "/tmp/x.db");
  EXPECT_EQ(cfg->ledger.batch_size, 100);
  EXPECT_EQ(cfg->ledger.store_payloads, "errors");
  ASSERT_EQ(cfg->prices.size(), 1u);
  EXPECT_EQ(cfg->prices[0].model, "ft:gpt-4o-mini:acme");
  EXPECT_DOUBLE_EQ(cfg->prices[0].input, 0.3);
  EXPECT_DOUBLE_EQ(cfg->prices[0].output, 1.2);
  EXPECT_DOUBLE_EQ(cfg->prices[0].cached_input, -1);
  EXPECT_DOUBLE_EQ(cfg->providers[0].hourly_cost_usd, 3.99);
  EXPECT_EQ(cfg->providers[0].gpus, 2);
  EXPECT_DOUBLE_EQ(cfg->providers[0].output_tokens_per_second, 15220);
  EXPECT_DOUBLE_EQ(cfg->providers[0].utilization, 0.5);
}

TEST(LedgerAndPricesConfigTest, BadValuesNameTheKey) {
  EXPECT_EQ(ErrorOf("[ledger]\nstore_payloads = \"some\"\n"),
            "conf.toml: ledger.store_payloads: expected one of \"none\", \"errors\", \"all\", "
            "got \"some\"");
  EXPECT_EQ(ErrorOf("[ledger]\nbatch_size = 0\n"),
            "conf.toml: ledger.batch_size: expected a positive integer, got 0");
  EXPECT_EQ(ErrorOf("[[prices]]\nmodel = \"m\"\n"),
            "conf.toml: prices[0]: expected at least one of input or output (USD per million "
            "tokens)");
  EXPECT_EQ(ErrorOf("[[prices]]\ninput = 1\n"),
            "conf.toml: prices[0].model: missing; expected the model name the price applies to");
  EXPECT_EQ(ErrorOf("[[prices]]\nmodel = \"m\"\ninput = \"cheap\"\noutput = 1\n"),
            "conf.toml: prices[0].input: expected a number, got a string");
  EXPECT_EQ(ErrorOf(OneProvider("utilization = 1.5\n")),
            "conf.toml: providers[0].utilization: expected a number in (0, 1]");
  EXPECT_EQ(ErrorOf(OneProvider("hourly_cost_usd = 2.0\n")),
            "conf.toml: providers[0].output_tokens_per_second: expected a positive measured "
            "throughput when hourly_cost_usd is set");
  EXPECT_EQ(ErrorOf(OneProvider("price_as = \"gpt-4o\"\n")),
            "conf.toml: providers[0].price_as: expected \"provider/model\", got \"gpt-4o\"");
}

}  // namespace
}  // namespace switchyard::config

namespace switchyard::config {
namespace {

constexpr char kReplayAndTask[] = R"(
[[providers]]
name = "teacher"
kind = "replay"
trace = "trace.csv"
trace_input = "text"
trace_output = "label"
latency_ms = 5
price_as = "openai/gpt-4o-mini"

[[tasks]]
name = "headlines"
kind = "classify"
labels = ["up", "down", "neutral", "none"]
teacher = "teacher/gpt-4o-mini"
target_agreement = 0.95
)";

TEST(TasksConfigTest, ReplayProviderAndTaskParse) {
  auto cfg = ParseConfig(kReplayAndTask, "conf.toml", FakeEnv({}));
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  ASSERT_EQ(cfg->providers.size(), 1u);
  EXPECT_EQ(cfg->providers[0].kind, "replay");
  EXPECT_EQ(cfg->providers[0].trace, "trace.csv");
  EXPECT_EQ(cfg->providers[0].trace_input, "text");
  EXPECT_EQ(cfg->providers[0].trace_output, "label");
  EXPECT_EQ(cfg->providers[0].latency_ms, 5);
  const TaskConfig* task = cfg->FindTask("headlines");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->labels.size(), 4u);
  EXPECT_EQ(task->teacher, "teacher/gpt-4o-mini");
  EXPECT_DOUBLE_EQ(task->target_agreement, 0.95);
  EXPECT_EQ(task->label_parse, "case_insensitive");
  EXPECT_EQ(cfg->FindTask("nope"), nullptr);
}

TEST(TasksConfigTest, BadTasksNameTheKey) {
  EXPECT_EQ(ErrorOf("[[providers]]\nname = \"r\"\nkind = \"replay\"\n"),
            "conf.toml: providers[0].trace: expected the path of a CSV or JSONL trace (kind = "
            "\"replay\")");
  const std::string provider =
      "[[providers]]\nname = \"t\"\nkind = \"replay\"\ntrace = \"x.csv\"\n";
  EXPECT_EQ(ErrorOf(provider + "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\nteacher = "
                               "\"nope/m\"\n"),
            "conf.toml: tasks[0].teacher: unknown provider \"nope\" (expected a provider defined "
            "in [[providers]])");
  EXPECT_EQ(ErrorOf(provider + "[[tasks]]\nname = \"a\"\nlabels = [\"x\"]\nteacher = \"t/m\"\n"),
            "conf.toml: tasks[0].labels: expected at least two labels for a classify task");
  EXPECT_EQ(ErrorOf(provider + "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\nteacher = "
                               "\"t/m\"\ntarget_agreement = 1.5\n"),
            "conf.toml: tasks[0].target_agreement: expected a number in (0, 1)");
  EXPECT_EQ(ErrorOf(provider + "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\nteacher = "
                               "\"t/m\"\nlabel_parse = \"regex\"\n"),
            "conf.toml: tasks[0].label_regex: expected a regex with one capture group");
  EXPECT_EQ(ErrorOf(provider + "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\n"),
            "conf.toml: tasks[0].teacher: missing; expected \"provider/model\" whose answers are "
            "the labels");
}

// [[tasks]]: the student's input from a prompt template, fastText settings,
// cost per student answer.
const std::string kTaskHead =
    "[[providers]]\nname = \"t\"\nkind = \"replay\"\ntrace = \"x.csv\"\n"
    "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\nteacher = \"t/m\"\n";

TEST(TasksConfigTest, StudentSettingsDefaultAndParse) {
  auto defaults = ParseConfig(kTaskHead, "conf.toml", FakeEnv({}));
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  const TaskConfig& d = defaults->tasks[0];
  EXPECT_EQ(d.input, "last_user");
  EXPECT_EQ(d.word_ngrams, 2);
  EXPECT_EQ(d.char_ngram_min, 0);
  EXPECT_EQ(d.char_ngram_max, 0);
  EXPECT_EQ(d.epochs, 0);
  EXPECT_EQ(d.dim, 25);
  EXPECT_DOUBLE_EQ(d.student_cost_usd, 1e-7);

  auto cfg =
      ParseConfig(kTaskHead +
                      "word_ngrams = 3\nchar_ngram_min = 2\nchar_ngram_max = 5\n"
                      "epochs = 12\ndim = 50\nstudent_cost_usd = 0.00002\n"
                      "input = \"template_var:ticket\"\n"
                      "input_template = \"\"\"\nFrom {{ sender }}:\n{{ticket}}\nQueue?\n\"\"\"\n",
                  "conf.toml", FakeEnv({}));
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  const TaskConfig& t = cfg->tasks[0];
  EXPECT_EQ(t.word_ngrams, 3);
  EXPECT_EQ(t.char_ngram_min, 2);
  EXPECT_EQ(t.char_ngram_max, 5);
  EXPECT_EQ(t.epochs, 12);
  EXPECT_EQ(t.dim, 50);
  EXPECT_DOUBLE_EQ(t.student_cost_usd, 0.00002);
  EXPECT_EQ(t.input, "template_var:ticket");
  EXPECT_EQ(t.parsed_template.vars, (std::vector<std::string>{"sender", "ticket"}));
  EXPECT_EQ(t.parsed_template.literals, (std::vector<std::string>{"From ", ":\n", "\nQueue?"}));
  EXPECT_EQ(t.parsed_template.Extract("From ann:\nmy parcel is late\nQueue?\n", "ticket"),
            "my parcel is late");
}

TEST(TasksConfigTest, BadStudentSettingsNameTheKey) {
  EXPECT_EQ(ErrorOf(kTaskHead + "word_ngrams = 0\n"),
            "conf.toml: tasks[0].word_ngrams: expected an integer in [1, 5], got 0");
  EXPECT_EQ(ErrorOf(kTaskHead + "char_ngram_max = 11\n"),
            "conf.toml: tasks[0].char_ngram_max: expected an integer in [0, 10], got 11");
  EXPECT_EQ(ErrorOf(kTaskHead + "char_ngram_min = 4\nchar_ngram_max = 3\n"),
            "conf.toml: tasks[0].char_ngram_min: expected 1 <= char_ngram_min <= "
            "char_ngram_max (both 0 for none), got 4 and 3");
  EXPECT_EQ(ErrorOf(kTaskHead + "char_ngram_max = 3\n"),
            "conf.toml: tasks[0].char_ngram_min: expected 1 <= char_ngram_min <= "
            "char_ngram_max (both 0 for none), got 0 and 3");
  EXPECT_EQ(ErrorOf(kTaskHead + "epochs = -1\n"),
            "conf.toml: tasks[0].epochs: expected an integer in [0, 1000], got -1");
  EXPECT_EQ(ErrorOf(kTaskHead + "dim = 0\n"),
            "conf.toml: tasks[0].dim: expected an integer in [1, 1000], got 0");
  EXPECT_EQ(ErrorOf(kTaskHead + "student_cost_usd = -0.1\n"),
            "conf.toml: tasks[0].student_cost_usd: expected a number >= 0 (USD per student "
            "answer)");
  EXPECT_EQ(ErrorOf(kTaskHead + "dim = \"big\"\n"),
            "conf.toml: tasks[0].dim: expected an integer, got a string");
}

TEST(TasksConfigTest, BadTaskNamesAreRejected) {
  const std::string head =
      "[[providers]]\nname = \"t\"\nkind = \"replay\"\ntrace = \"x.csv\"\n"
      "[[tasks]]\nlabels = [\"x\", \"y\"]\nteacher = \"t/m\"\nname = ";
  for (const std::string& name :
       std::vector<std::string>{"my tickets", ".hidden", "a/b", "", std::string(65, 'n')}) {
    EXPECT_EQ(ErrorOf(head + "\"" + name + "\"\n"),
              "conf.toml: tasks[0].name: expected 1-64 letters, digits, '.', '_' or '-' (not "
              "starting with '.'), got \"" +
                  name + "\"");
  }
  EXPECT_EQ(ErrorOf(head + "\"Tickets_v2.en-GB\"\n"), "<parsed OK>");
  EXPECT_EQ(ErrorOf(head + "\"a\"\n[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\n"
                           "teacher = \"t/m\"\n"),
            "conf.toml: tasks[1].name: duplicate task name \"a\"");
}

TEST(TasksConfigTest, BadInputsAndTemplatesNameTheKey) {
  EXPECT_EQ(ErrorOf(kTaskHead + "input = \"first_user\"\n"),
            "conf.toml: tasks[0].input: expected \"last_user\", \"json_field:<name>\" or "
            "\"template_var:<name>\", got \"first_user\"");
  EXPECT_EQ(ErrorOf(kTaskHead + "input = \"json_field:\"\n"),
            "conf.toml: tasks[0].input: expected \"last_user\", \"json_field:<name>\" or "
            "\"template_var:<name>\", got \"json_field:\"");
  EXPECT_EQ(ErrorOf(kTaskHead + "input = \"template_var:t\"\n"),
            "conf.toml: tasks[0].input_template: expected the prompt template containing {{t}} "
            "(input = \"template_var:t\")");
  EXPECT_EQ(ErrorOf(kTaskHead + "input_template = \"Say {{t}}\"\n"),
            "conf.toml: tasks[0].input_template: is read only with input = "
            "\"template_var:<name>\" (input is \"last_user\")");
  const std::string var = kTaskHead + "input = \"template_var:t\"\ninput_template = ";
  EXPECT_EQ(ErrorOf(var + "\"Classify: {{text}}\"\n"),
            "conf.toml: tasks[0].input_template: has no variable {{t}} (variables: text)");
  EXPECT_EQ(ErrorOf(var + "\"Classify this\"\n"),
            "conf.toml: tasks[0].input_template: has no variable {{t}} (variables: none)");
  EXPECT_EQ(ErrorOf(var + "\"Classify: {{t\"\n"),
            "conf.toml: tasks[0].input_template: unclosed \"{{\" at byte 10");
  EXPECT_EQ(ErrorOf(var + "\"Classify: {{ }} {{t}}\"\n"),
            "conf.toml: tasks[0].input_template: empty variable name at byte 10");
  EXPECT_EQ(ErrorOf(var + "\"Classify: {{a b}} {{t}}\"\n"),
            "conf.toml: tasks[0].input_template: variable name \"a b\" at byte 10 must be "
            "letters, digits or '_'");
  EXPECT_EQ(ErrorOf(var + "\"Classify: {{a}}{{t}}\"\n"),
            "conf.toml: tasks[0].input_template: variables {{a}} and {{t}} must be separated by "
            "literal text");
  EXPECT_EQ(ErrorOf(var + "\"{{t}} and {{t}}\"\n"),
            "conf.toml: tasks[0].input_template: variable {{t}} appears twice");
}

TEST(PromptTemplateTest, ExtractMatchesTheLiteralParts) {
  auto t = PromptTemplate::Parse("  Ticket from {{who}}: {{text}} -- answer with a queue\n");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->literals,
            (std::vector<std::string>{"Ticket from ", ": ", " -- answer with a queue"}));
  // Whitespace around the message and around a variable's text is ignored.
  EXPECT_EQ(t->Extract("\nTicket from ann: my box is late  -- answer with a queue\n", "text"),
            "my box is late");
  // A variable takes the shortest text up to the next literal part.
  EXPECT_EQ(t->Extract("Ticket from bob: ok: really -- answer with a queue", "who"), "bob");
  EXPECT_EQ(t->Extract("Ticket from bob: ok: really -- answer with a queue", "text"), "ok: really");
  EXPECT_EQ(t->Extract("Ticket from : x -- answer with a queue", "who"), "");
  // Not the template's shape, or an unknown variable: nullopt.
  EXPECT_EQ(t->Extract("Ticket for bob: x -- answer with a queue", "text"), std::nullopt);
  EXPECT_EQ(t->Extract("Ticket from bob: x -- answer", "text"), std::nullopt);
  EXPECT_EQ(t->Extract("Ticket from bob -- answer with a queue", "text"), std::nullopt);
  EXPECT_EQ(t->Extract("Ticket from bob: x -- answer with a queue", "nope"), std::nullopt);
  // The final literal may not overlap the first one.
  auto same = PromptTemplate::Parse("ab{{x}}ab");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->Extract("abab", "x"), "");
  EXPECT_EQ(same->Extract("aba", "x"), std::nullopt);
  // A template that is only the variable takes the whole message.
  auto whole = PromptTemplate::Parse("{{x}}");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->Extract("  anything at all ", "x"), "anything at all");
}

TEST(GuardConfigTest, DefaultsParseAndErrors) {
  auto defaults = ParseConfig("", "conf.toml", FakeEnv({}));
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->guard.auth, "off");
  EXPECT_EQ(defaults->guard.pii_policy, "allow");
  EXPECT_EQ(defaults->KeysDbPath(), "./switchyard-data/keys.db");
  EXPECT_EQ(defaults->AuditDbPath(), "./switchyard-data/audit.db");

  auto cfg = ParseConfig(
      "[storage]\ndata_dir = \"/d/\"\n[guard]\nauth = \"keys\"\nadmin_key_env = \"ADM\"\n"
      "pii_policy = \"local_only\"\n"
      "[[providers]]\nname = \"t\"\nkind = \"replay\"\ntrace = \"x.csv\"\n"
      "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\nteacher = \"t/m\"\n"
      "pii_policy = \"block\"\n",
      "conf.toml", FakeEnv({{"ADM", "admin-secret"}}));
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->guard.auth, "keys");
  EXPECT_EQ(cfg->guard.admin_key, "admin-secret");
  EXPECT_EQ(cfg->guard.pii_policy, "local_only");
  EXPECT_EQ(cfg->KeysDbPath(), "/d/keys.db");
  EXPECT_EQ(cfg->AuditDbPath(), "/d/audit.db");
  auto own =
      ParseConfig("[guard]\naudit_db = \"/var/lib/sy/egress.db\"\n", "conf.toml", FakeEnv({}));
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->AuditDbPath(), "/var/lib/sy/egress.db");
  EXPECT_EQ(cfg->tasks[0].pii_policy, "block");

  EXPECT_EQ(ErrorOf("[guard]\nauth = \"on\"\n"),
            "conf.toml: guard.auth: expected \"off\" or \"keys\", got \"on\"");
  EXPECT_EQ(ErrorOf("[guard]\npii_policy = \"mask\"\n"),
            "conf.toml: guard.pii_policy: expected one of \"allow\", \"redact\", "
            "\"local_only\", \"block\", got \"mask\"");
  EXPECT_EQ(ErrorOf("[guard]\nauth = \"keys\"\nadmin_key_env = \"NOPE\"\n"),
            "conf.toml: guard.admin_key_env: environment variable \"NOPE\" is not set");
  EXPECT_EQ(ErrorOf("[guard]\nkeys = 1\n"), "conf.toml: unknown key \"guard.keys\"");
  EXPECT_EQ(ErrorOf("[[providers]]\nname = \"t\"\nkind = \"replay\"\ntrace = \"x.csv\"\n"
                    "[[tasks]]\nname = \"a\"\nlabels = [\"x\", \"y\"]\nteacher = \"t/m\"\n"
                    "pii_policy = \"nope\"\n"),
            "conf.toml: tasks[0].pii_policy: expected one of \"allow\", \"redact\", "
            "\"local_only\", \"block\", got \"nope\"");
}

}  // namespace
}  // namespace switchyard::config
