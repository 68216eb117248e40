#include "guard/policy.h"

#include <algorithm>

namespace switchyard::guard {

std::string_view PolicyActionName(PolicyAction action) {
  switch (action) {
    case PolicyAction::kAllow:
      return "allow";
    case PolicyAction::kRedact:
      return "redact";
    case PolicyAction::kLocalOnly:
      return "local_only";
    case PolicyAction::kBlock:
      return "block";
  }
  return "allow";
}

core::Result<PolicyAction> ParsePolicyAction(std::string_view text) {
  for (PolicyAction a : {PolicyAction::kAllow, PolicyAction::kRedact, PolicyAction::kLocalOnly,
                         PolicyAction::kBlock}) {
    if (PolicyActionName(a) == text) return a;
  }
  return core::InvalidArgument("unknown PII policy \"" + std::string(text) +
                               "\" (expected allow, redact, local_only or block)");
}

core::Result<PolicyTable> PolicyTable::Create(PolicyAction default_action,
                                              std::vector<PolicyRule> rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (rules[i].tenant == rules[j].tenant && rules[i].task == rules[j].task) {
        const auto show = [](const std::string& s) { return s.empty() ? std::string("*") : s; };
        return core::InvalidArgument("duplicate PII policy rule for tenant '" +
                                     show(rules[i].tenant) + "' task '" + show(rules[i].task) +
                                     "'");
      }
    }
  }
  PolicyTable t;
  t.default_action_ = default_action;
  t.rules_ = std::move(rules);
  return t;
}

PolicyAction PolicyTable::Resolve(std::string_view tenant, std::string_view task) const {
  // Specificity: tenant+task (3) > task (2) > tenant (1) > default (0).
  int best = -1;
  PolicyAction action = default_action_;
  for (const PolicyRule& r : rules_) {
    if (!r.tenant.empty() && r.tenant != tenant) continue;
    if (!r.task.empty() && r.task != task) continue;
    const int score = (r.tenant.empty() ? 0 : 1) + (r.task.empty() ? 0 : 2);
    if (score > best) {
      best = score;
      action = r.action;
    }
  }
  return action;
}

core::Result<PolicyDecision> Decide(PolicyAction action, std::span<const Finding> findings,
                                    bool owned_target_available) {
  PolicyDecision d;
  d.action = action;
  for (const Finding& f : findings) d.finding_names.emplace_back(f.name);
  std::sort(d.finding_names.begin(), d.finding_names.end());
  d.finding_names.erase(std::unique(d.finding_names.begin(), d.finding_names.end()),
                        d.finding_names.end());
  if (d.finding_names.empty() || action == PolicyAction::kAllow) return d;
  std::string names;
  for (const std::string& n : d.finding_names) {
    if (!names.empty()) names += ", ";
    names += n;
  }
  auto denied = [](std::string msg) {
    core::Status s(core::StatusCode::kPermissionDenied, std::move(msg));
    s.set_error_code("pii_policy");
    return s;
  };
  switch (action) {
    case PolicyAction::kAllow:
      return d;
    case PolicyAction::kRedact:
      d.kind = PolicyDecision::Kind::kRedactExternal;
      return d;
    case PolicyAction::kLocalOnly:
      if (!owned_target_available) {
        return denied("request contains " + names +
                      " and policy local_only allows only owned targets; none can serve it");
      }
      d.kind = PolicyDecision::Kind::kOwnedOnly;
      return d;
    case PolicyAction::kBlock:
      return denied("request contains " + names + " and policy block refuses it");
  }
  return d;
}

}  // namespace switchyard::guard
