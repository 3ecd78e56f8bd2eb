// Package qos is the qos service plugin (Neutron's QoSPlugin) and the ML2
// "qos" extension driver: QoS policies (/v2.0/qos/policies, shared through
// RBAC object type qos_policy, one default per project), their rules of
// the five types (bandwidth_limit, dscp_marking, minimum_bandwidth,
// minimum_packet_rate, packet_rate_limit) as sub-resources and as rule
// aliases (/v2.0/qos/alias_<type>_rules), the rule types the configured
// drivers support (/v2.0/qos/rule-types), qos_policy_id on networks and
// ports, qos_network_policy_id and the placement-facing resource_request
// on ports.
//
// When the router plugin is loaded, qos_policy_id of floating IPs and of
// router gateways (qos-fip, qos-gateway-ip) are hooks on its tables
// (l3.go, l3_gateway.go), registered as binding kinds (AddBindingKind) so
// that deleting a policy they use answers QosPolicyInUse and RBAC sees
// their projects (seam.go).
package qos

import (
	"fmt"
	"net/http"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	plugin.Register("qos", func() plugin.Plugin { return &Plugin{} },
		"neutron.services.qos.qos_plugin.QoSPlugin", "neutron.services.qos.qos_plugin:QoSPlugin")
}

// Plugin is the qos service plugin of one server.
type Plugin struct {
	env      *plugin.Env
	policies *store.Table
	rules    map[string]*ruleKind // by rule type
	drivers  []*driver
}

type pluginKey struct{}

// Of returns the server's qos plugin, or nil when it is not loaded.
func Of(env *plugin.Env) *Plugin {
	p, _ := env.Value(pluginKey{}).(*Plugin)
	return p
}

// Setup declares the QoS resources.
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	env.Set(pluginKey{}, p)
	p.drivers = loadedDrivers(env.Config)
	p.setupPolicies(env)
	p.setupRules(env)
	p.setupRuleTypes(env)
	env.OnFinish(p.setupL3)
	env.AddExtensions("qos", "qos-bw-limit-direction", "qos-default", "qos-rule-type-details",
		"qos-rule-type-filter", "qos-bw-minimum-ingress", "qos-rules-alias", "qos-port-network-policy",
		"qos-pps", "qos-pps-minimum", "qos-pps-minimum-rule-alias")
	return nil
}

// ---- errors ----

func policyNotFound(id string) error {
	return nerr.NotFound("QosPolicyNotFound", "QoS policy %s could not be found.", id)
}

func ruleNotFound(id, policy string) error {
	return nerr.NotFound("QosRuleNotFound", "QoS rule %s for policy %s could not be found.", id, policy)
}

func defaultExists(project any) error {
	return nerr.Conflict("QoSPolicyDefaultAlreadyExists", "A default QoS policy exists for project %s.", fmt.Sprint(project))
}

func policyInUse(id, kind, obj string) error {
	return nerr.Typed(http.StatusConflict, "QosPolicyInUse", "QoS Policy %s is used by %s %s.", id, kind, obj)
}

func rulesConflict(typ, existing, policy string) error {
	return nerr.Conflict("QoSRulesConflict", "Rule %s conflicts with rule %s which already exists in QoS Policy %s.", typ, existing, policy)
}

func paramConflict(value any, policy, typ string, existing any) error {
	return nerr.Conflict("QoSRuleParameterConflict",
		"Unable to add the rule with value %v to the policy %s as the existing rule of type %s has value %v.", value, policy, typ, existing)
}

func notSupportedByPort(typ, port string) error {
	return nerr.Conflict("QosRuleNotSupported", "Rule %s is not supported by port %s", typ, port)
}

func notSupportedByNetwork(typ, net string) error {
	return nerr.Conflict("QosRuleNotSupportedByNetwork", "Rule %s is not supported by network %s", typ, net)
}

func removeNotAuthorized(id string) error {
	return nerr.Forbidden("PolicyRemoveAuthorizationError", "Failed to remove provided policy %s because you are not authorized.", id)
}

// placementBacked is Neutron's NotImplementedError for minimum rules of
// policies that compute ports use (a 501 with its own body type).
func placementBacked() error {
	return &nerr.Error{Status: http.StatusNotImplemented, Type: "NotImplementedError", Key: "NotImplementedError",
		Message: "Cannot update QoS policies/rules backed by resources tracked in Placement"}
}
