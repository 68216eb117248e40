#include "guard/policy.h"

#include <gtest/gtest.h>

namespace switchyard::guard {
namespace {

std::vector<Finding> Findings(std::initializer_list<const char*> names) {
  std::vector<Finding> out;
  size_t pos = 0;
  for (const char* n : names) {
    Finding f;
    f.name = n;
    f.detector = n;
    f.start = pos;
    f.end = pos + 3;
    pos += 4;
    out.push_back(f);
  }
  return out;
}

TEST(PolicyTest, ParseAndName) {
  for (const char* n : {"allow", "redact", "local_only", "block"}) {
    auto a = ParsePolicyAction(n);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(PolicyActionName(*a), n);
  }
  auto bad = ParsePolicyAction("deny");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown PII policy \"deny\" (expected allow, redact, local_only or block)");
}

TEST(PolicyTest, MostSpecificRuleWins) {
  auto table = PolicyTable::Create(PolicyAction::kAllow, {{"acme", "", PolicyAction::kRedact},
                                                          {"", "medical", PolicyAction::kLocalOnly},
                                                          {"acme", "medical", PolicyAction::kBlock},
                                                          {"beta", "", PolicyAction::kBlock}});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->Resolve("acme", "medical"), PolicyAction::kBlock);
  EXPECT_EQ(table->Resolve("acme", "chat"), PolicyAction::kRedact);
  EXPECT_EQ(table->Resolve("other", "medical"), PolicyAction::kLocalOnly);
  EXPECT_EQ(table->Resolve("beta", "medical"), PolicyAction::kLocalOnly);  // task beats tenant
  EXPECT_EQ(table->Resolve("other", "chat"), PolicyAction::kAllow);
  auto dup = PolicyTable::Create(
      PolicyAction::kAllow, {{"", "x", PolicyAction::kRedact}, {"", "x", PolicyAction::kBlock}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "duplicate PII policy rule for tenant '*' task 'x'");
}

TEST(PolicyTest, NoFindingsAlwaysProceeds) {
  for (PolicyAction a : {PolicyAction::kAllow, PolicyAction::kRedact, PolicyAction::kLocalOnly,
                         PolicyAction::kBlock}) {
    auto d = Decide(a, {}, false);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->kind, PolicyDecision::Kind::kProceed);
  }
}

TEST(PolicyTest, Decisions) {
  const auto f = Findings({"email", "card", "email"});
  auto allow = Decide(PolicyAction::kAllow, f, false);
  ASSERT_TRUE(allow.ok());
  EXPECT_EQ(allow->kind, PolicyDecision::Kind::kProceed);
  EXPECT_EQ(allow->finding_names, (std::vector<std::string>{"card", "email"}));

  auto redact = Decide(PolicyAction::kRedact, f, false);
  ASSERT_TRUE(redact.ok());
  EXPECT_EQ(redact->kind, PolicyDecision::Kind::kRedactExternal);

  auto local = Decide(PolicyAction::kLocalOnly, f, true);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->kind, PolicyDecision::Kind::kOwnedOnly);

  auto refused = Decide(PolicyAction::kLocalOnly, f, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), core::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().error_code(), "pii_policy");
  EXPECT_EQ(refused.status().message(),
            "request contains card, email and policy local_only allows only owned targets; none "
            "can serve it");

  auto blocked = Decide(PolicyAction::kBlock, Findings({"ssn"}), true);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), core::StatusCode::kPermissionDenied);
  EXPECT_EQ(blocked.status().message(), "request contains ssn and policy block refuses it");
}

}  // namespace
}  // namespace switchyard::guard
