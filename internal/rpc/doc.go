// Package rpc is neutrino's RPC side towards the Neutron agents (serve_rpc):
// the topics the server consumes and the ones it notifies. The wire protocol
// (oslo.messaging over RabbitMQ) is in the oslo subpackage; README.md beside
// this file lists, per topic, the endpoint methods with their versions and
// the notifications the Zed agents expect, as the checklist for the
// endpoints built on the plugin seams.
//
// Service (New, Start, Stop) is a server process's serve_rpc: with
// [DEFAULT] transport_url set, `neutrino serve` makes one after the API
// listens. Each part of the RPC side is a setup function in this package
// (appended to parts from its file's init) that adds endpoints to the
// topics with Service.Add and subscribes to the plugins' AFTER events to
// notify the agents with Service.Cast, which queues the cast and sends it
// from one goroutine in order (a request never waits for the broker).
// Versions keeps the object versions the agents consume, for the
// resource pushes.
package rpc

// Topics the server consumes (neutron_lib.agent.topics).
const (
	TopicPlugin           = "q-plugin"                   // ML2, DHCP, resources pull, security groups, DVR, metadata
	TopicReports          = "q-reports-plugin"           // report_state, has_alive_neutron_server
	TopicL3Plugin         = "q-l3-plugin"                // L3RpcCallback
	TopicResourceVersions = "q-server-resource-versions" // report_agent_resource_versions (fanout)
	TopicTrunk            = "trunk"                      // the trunk RPC (namespace "trunk"), with an agent-based trunk driver
)

// Topics the agents consume (the server casts to them).
const (
	TopicDHCPAgent = "dhcp_agent" // host-directed dhcp_agent.<host>, fanout dhcp_agent_fanout
	TopicL3Agent   = "l3_agent"   // host-directed l3_agent.<host>, fanout l3_agent_fanout

	TopicTunnelUpdate  = "q-agent-notifier-tunnel-update"
	TopicTunnelDelete  = "q-agent-notifier-tunnel-delete"
	TopicNetworkUpdate = "q-agent-notifier-network-update"
	TopicNetworkDelete = "q-agent-notifier-network-delete"
	TopicPortUpdate    = "q-agent-notifier-port-update"
	TopicPortDelete    = "q-agent-notifier-port-delete"
	TopicSecurityGroup = "q-agent-notifier-security_group-update"
	TopicDVRUpdate     = "q-agent-notifier-dvr-update"
)

// ResourceTopic is the fanout topic of resource pushes for an object type at
// a version, e.g. ResourceTopic("Port", "1.7") = "neutron-vo-Port-1.7"
// (casts go to its "_fanout" exchange).
func ResourceTopic(objType, version string) string {
	return "neutron-vo-" + objType + "-" + version
}
