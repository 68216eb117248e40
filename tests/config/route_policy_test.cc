// [[routes]] policy keys: router and cascade routes, their validation errors.
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace switchyard::config {
namespace {

constexpr char kProviders[] = R"(
[[providers]]
name = "local"
base_url = "http://127.0.0.1:8000/v1"
owned = true
models = ["small"]

[[providers]]
name = "cloud"
base_url = "https://api.example.test/v1"
)";

EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

core::Result<Config> Parse(const std::string& routes) {
  return ParseConfig(std::string(kProviders) + routes, "conf.toml", NoEnv());
}

std::string ErrorOf(const std::string& routes) {
  auto result = Parse(routes);
  if (result.ok()) return "<parsed OK>";
  EXPECT_EQ(result.status().code(), core::StatusCode::kFailedPrecondition);
  return result.status().message();
}

TEST(RoutePolicyConfigTest, FallbackIsTheDefault) {
  auto cfg = Parse("[[routes]]\nname = \"r\"\ntargets = [\"local/small\"]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const RouteConfig& r = cfg->routes[0];
  EXPECT_EQ(r.policy, "fallback");
  EXPECT_EQ(r.targets, std::vector<std::string>{"local/small"});
  EXPECT_FALSE(r.threshold.has_value());
  EXPECT_EQ(r.latency_slo_ms, 0);
  EXPECT_EQ(r.shadow_sample, 0);
}

TEST(RoutePolicyConfigTest, CascadeWithThresholdDerivesTheTargets) {
  auto cfg = Parse(R"(
[[routes]]
name = "math"
policy = "cascade"
weak = "local/small"
strong = "cloud/big"
model = "gsm8k.model"
threshold = 0.25
latency_slo_ms = 1500
shadow_sample = 0.05
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const RouteConfig& r = cfg->routes[0];
  EXPECT_EQ(r.policy, "cascade");
  EXPECT_EQ(r.weak, "local/small");
  EXPECT_EQ(r.strong, "cloud/big");
  EXPECT_EQ(r.model, "gsm8k.model");
  ASSERT_TRUE(r.threshold.has_value());
  EXPECT_DOUBLE_EQ(*r.threshold, 0.25);
  EXPECT_EQ(r.latency_slo_ms, 1500);
  EXPECT_DOUBLE_EQ(r.shadow_sample, 0.05);
  EXPECT_EQ(r.targets, (std::vector<std::string>{"local/small", "cloud/big"}));
}

TEST(RoutePolicyConfigTest, RouterWithTargetPgrAndHoldout) {
  auto cfg = Parse(R"(
[[routes]]
name = "qa"
policy = "router"
weak = "local/small"
strong = "cloud/big"
model = "mmlu.model"
target_pgr = 0.8
holdout = "mmlu_holdout.csv"
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_DOUBLE_EQ(*cfg->routes[0].target_pgr, 0.8);
  EXPECT_EQ(cfg->routes[0].holdout, "mmlu_holdout.csv");
  EXPECT_FALSE(cfg->routes[0].max_strong_share.has_value());
}

TEST(RoutePolicyConfigTest, UnknownPolicy) {
  EXPECT_EQ(ErrorOf("[[routes]]\nname = \"r\"\npolicy = \"magic\"\n"),
            "conf.toml: routes[0].policy: expected one of \"fallback\", \"router\", \"cascade\", "
            "got \"magic\"");
}

TEST(RoutePolicyConfigTest, RouterNeedsWeakStrongModelAndAThreshold) {
  EXPECT_EQ(ErrorOf("[[routes]]\nname = \"r\"\npolicy = \"router\"\n"),
            "conf.toml: routes[0].weak: expected \"provider/model\" (required by policy "
            "\"router\")\n"
            "conf.toml: routes[0].strong: expected \"provider/model\" (required by policy "
            "\"router\")\n"
            "conf.toml: routes[0].model: expected the path of a model file from `switchyard "
            "router train` (required by policy \"router\")\n"
            "conf.toml: routes[0]: expected one of threshold, target_pgr or max_strong_share "
            "(required by policy \"router\")");
}

TEST(RoutePolicyConfigTest, BadWeakAndStrongTargets) {
  const std::string head =
      "[[routes]]\nname = \"r\"\npolicy = \"cascade\"\nmodel = \"m\"\nthreshold = 0\n";
  EXPECT_EQ(ErrorOf(head + "weak = \"small\"\nstrong = \"nowhere/big\"\n"),
            "conf.toml: routes[0].weak: expected \"provider/model\", got \"small\"\n"
            "conf.toml: routes[0].strong: unknown provider \"nowhere\" (expected "
            "\"provider/model\" with a provider defined in [[providers]])");
  EXPECT_EQ(ErrorOf(head + "weak = \"local/large\"\nstrong = \"cloud/big\"\n"),
            "conf.toml: routes[0].weak: provider \"local\" does not list model \"large\"");
  EXPECT_EQ(ErrorOf(head + "weak = \"cloud/big\"\nstrong = \"cloud/big\"\n"),
            "conf.toml: routes[0].strong: expected a target other than weak, got \"cloud/big\"");
  EXPECT_EQ(ErrorOf(head + "weak = \"local/small\"\nstrong = \"cloud/big\"\n"
                           "targets = [\"local/small\"]\n"),
            "conf.toml: routes[0].targets: not used with policy \"cascade\" (weak and strong are "
            "the targets)");
}

TEST(RoutePolicyConfigTest, ThresholdChoices) {
  const std::string head =
      "[[routes]]\nname = \"r\"\npolicy = \"router\"\nmodel = \"m\"\n"
      "weak = \"local/small\"\nstrong = \"cloud/big\"\n";
  EXPECT_EQ(ErrorOf(head + "threshold = 0.1\ntarget_pgr = 0.5\n"),
            "conf.toml: routes[0]: expected only one of threshold, target_pgr and "
            "max_strong_share");
  EXPECT_EQ(ErrorOf(head + "target_pgr = 1.5\nholdout = \"h.csv\"\n"),
            "conf.toml: routes[0].target_pgr: expected a number in (0, 1]");
  EXPECT_EQ(ErrorOf(head + "target_pgr = 0\nholdout = \"h.csv\"\n"),
            "conf.toml: routes[0].target_pgr: expected a number in (0, 1]");
  EXPECT_EQ(ErrorOf(head + "max_strong_share = -0.1\nholdout = \"h.csv\"\n"),
            "conf.toml: routes[0].max_strong_share: expected a number in [0, 1]");
  EXPECT_EQ(ErrorOf(head + "threshold = nan\n"),
            "conf.toml: routes[0].threshold: expected a finite number");
  EXPECT_EQ(ErrorOf(head + "threshold = \"high\"\n"),
            "conf.toml: routes[0].threshold: expected a number, got a string");
  EXPECT_EQ(ErrorOf(head + "target_pgr = 0.9\n"),
            "conf.toml: routes[0].holdout: expected the path of a held-out CSV with outcomes, to "
            "set the threshold from target_pgr");
  EXPECT_EQ(ErrorOf(head + "max_strong_share = 0.3\n"),
            "conf.toml: routes[0].holdout: expected the path of a held-out CSV with outcomes, to "
            "set the threshold from max_strong_share");
  EXPECT_EQ(ErrorOf(head + "threshold = 0.3\nholdout = \"h.csv\"\n"),
            "conf.toml: routes[0].holdout: only used with target_pgr or max_strong_share");
  EXPECT_EQ(ErrorOf(head + "threshold = 0.3\nlatency_slo_ms = -1\n"),
            "conf.toml: routes[0].latency_slo_ms: expected an integer >= 0, got -1");
  EXPECT_EQ(ErrorOf(head + "threshold = 0.3\nshadow_sample = 1.5\n"),
            "conf.toml: routes[0].shadow_sample: expected a number in [0, 1]");
  EXPECT_EQ(ErrorOf(head + "threshold = 0.3\nshadow_sample = -0.1\n"),
            "conf.toml: routes[0].shadow_sample: expected a number in [0, 1]");
}

TEST(RoutePolicyConfigTest, PolicyKeysOnAFallbackRouteAreErrors) {
  EXPECT_EQ(ErrorOf("[[routes]]\nname = \"r\"\ntargets = [\"local/small\"]\n"
                    "weak = \"local/small\"\nthreshold = 0.5\nlatency_slo_ms = 100\n"
                    "shadow_sample = 0.1\n"),
            "conf.toml: routes[0].weak: only used with policy \"router\" or \"cascade\"\n"
            "conf.toml: routes[0].threshold: only used with policy \"router\" or \"cascade\"\n"
            "conf.toml: routes[0].latency_slo_ms: only used with policy \"router\" or "
            "\"cascade\"\n"
            "conf.toml: routes[0].shadow_sample: only used with policy \"router\" or "
            "\"cascade\"");
}

TEST(RoutePolicyConfigTest, UnknownRouteKeyIsStillReported) {
  EXPECT_EQ(ErrorOf("[[routes]]\nname = \"r\"\ntargets = [\"local/small\"]\nthreshhold = 1\n"),
            "conf.toml: unknown key \"routes[0].threshhold\"");
}

}  // namespace
}  // namespace switchyard::config
