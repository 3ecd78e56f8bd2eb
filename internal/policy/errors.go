package policy

import (
	"strings"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// NotAuthorized is the refusal Authorize returns; the API layer answers it
// with HTTP 403 and the body
//
//	{"NeutronError": {"type": e.Type(), "message": e.Error(), "detail": ""}}
//
// as neutron-lib's FAULT_MAP maps oslo_policy.PolicyNotAuthorized and
// oslo_policy.InvalidScope to HTTPForbidden. (For update/delete/action
// requests Neutron answers 404 instead when the caller may not even see the
// resource, i.e. Enforce("get_<resource>", ...) is false; that choice is
// the caller's.)
type NotAuthorized struct {
	// Action is the API action, e.g. "create_network".
	Action string
	// Rule is the checked rule as oslo prints it: "rule:create_network" or,
	// when attribute rules were added,
	// "(rule:create_network and rule:create_network:shared)".
	Rule string
	// TokenScope is set ("system", "domain" or "project") when the request
	// was refused by enforce_scope; ScopeTypes are the rule's scope types.
	TokenScope string
	ScopeTypes []string
	// Err is the error a check ran into (a Resolver failure), if any.
	Err error
}

// Type is the NeutronError type: the name of the oslo exception Neutron
// raises, "PolicyNotAuthorized" or "InvalidScope".
func (e *NotAuthorized) Type() string {
	if e.TokenScope != "" {
		return "InvalidScope"
	}
	return "PolicyNotAuthorized"
}

// Error is the NeutronError message, exactly as oslo.policy words it:
//
//	PolicyNotAuthorized: "<rule> is disallowed by policy", e.g.
//	"(rule:create_network and rule:create_network:shared) is disallowed by policy"
//	InvalidScope: "<rule> requires a scope of ['project'], request was made with system scope."
func (e *NotAuthorized) Error() string {
	if e.TokenScope != "" {
		quoted := make([]string, len(e.ScopeTypes))
		for i, s := range e.ScopeTypes {
			quoted[i] = pyfmt.Quote(s)
		}
		return e.Rule + " requires a scope of [" + strings.Join(quoted, ", ") +
			"], request was made with " + e.TokenScope + " scope."
	}
	return e.Rule + " is disallowed by policy"
}

// Unwrap returns the check error that made the evaluation fail, if any.
func (e *NotAuthorized) Unwrap() error { return e.Err }
