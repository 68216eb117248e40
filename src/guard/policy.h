// PII policies per tenant and/or task, and the decision they imply for one
// request given its findings.
//
//   allow       findings are recorded, the request goes anywhere unchanged
//   redact      external targets get placeholders (redact.h), owned targets
//               the original text; originals are restored in the answer
//   local_only  a request with findings may only go to owned targets
//   block       a request with findings is refused
// A request without findings always proceeds unchanged.
//
// Rule resolution (PolicyTable::Resolve): the most specific rule wins —
// tenant+task, then task only, then tenant only, then the default.
//
// Threading: PolicyTable is immutable after construction (share it as
// shared_ptr<const>); Decide() is a pure function.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "guard/pii.h"

namespace switchyard::guard {

enum class PolicyAction { kAllow, kRedact, kLocalOnly, kBlock };

// "allow", "redact", "local_only", "block".
std::string_view PolicyActionName(PolicyAction action);
// The reverse. Errors: InvalidArgument
// `unknown PII policy "<text>" (expected allow, redact, local_only or block)`.
core::Result<PolicyAction> ParsePolicyAction(std::string_view text);

struct PolicyRule {
  std::string tenant;  // "" = any tenant
  std::string task;    // "" = any task
  PolicyAction action = PolicyAction::kAllow;
};

class PolicyTable {
 public:
  // Errors: InvalidArgument "duplicate PII policy rule for tenant '<t>' task
  // '<k>'" (empty shown as *).
  static core::Result<PolicyTable> Create(PolicyAction default_action,
                                          std::vector<PolicyRule> rules);
  PolicyTable() = default;

  PolicyAction Resolve(std::string_view tenant, std::string_view task) const;
  PolicyAction default_action() const { return default_action_; }

 private:
  PolicyAction default_action_ = PolicyAction::kAllow;
  std::vector<PolicyRule> rules_;
};

struct PolicyDecision {
  enum class Kind {
    kProceed,         // send the request as it is, to any target
    kRedactExternal,  // redact before any external target; owned ones get the original
    kOwnedOnly,       // only owned targets may serve it
  };
  Kind kind = Kind::kProceed;
  PolicyAction action = PolicyAction::kAllow;  // the policy that applied
  // The distinct finding names, sorted ("card", "email"); empty when none.
  std::vector<std::string> finding_names;
};

// The decision for a request with `findings` under `action`, where
// `owned_target_available` says whether the resolved route has at least one
// owned target that could serve it. Errors, PermissionDenied with error_code
// "pii_policy":
//   local_only, no owned target:
//     "request contains <names> and policy local_only allows only owned
//      targets; none can serve it"
//   block:
//     "request contains <names> and policy block refuses it"
// where <names> is the comma-separated sorted list ("card, email"). Never
// names or echoes the matched values.
core::Result<PolicyDecision> Decide(PolicyAction action, std::span<const Finding> findings,
                                    bool owned_target_available);

}  // namespace switchyard::guard
