// Package agents keeps Neutron's agents (the agent, agent-resources-synced
// and availability_zone extensions of the core plugin): the agents table
// written by report_state, /v2.0/agents (list, show, update of
// admin_state_up and description, delete; admins only by policy), liveness
// from [DEFAULT] agent_down_time, and the availability zones of the DHCP
// and L3 agents (it is the az component's zone source).
//
// A Keeper (From(env)) is what other parts use: Report registers or
// refreshes an agent from its state report and says "new", "alive" or
// "revived"; ByTypeHost and List find agents; Alive judges a heartbeat.
//
// Other sources of agents: a part that knows agents without an RPC state
// report (the OVN mechanism driver reads them from the Southbound
// database's Chassis rows) calls AddSource(env, src) during setup. A
// Source lists its agents as API objects with every attribute of the agent
// resource (id, agent_type, binary, topic, host, admin_state_up,
// created_at, started_at, heartbeat_timestamp, alive, configurations,
// description, availability_zone, resources_synced) and may accept
// updates and deletes of its own agents. /v2.0/agents then shows the
// table's rows followed by every source's rows matching the filters (the
// extra rows are not sorted into the table's and do not take part in
// pagination, as Neutron's OVN driver appends its agents), a show, update
// or delete of an id the table lacks goes to the sources in order, and
// the zones of source agents of type "DHCP agent" / "L3 agent" count as
// availability zones.
//
// The agent scheduler extensions (dhcp_agent_scheduler, and
// l3_agent_scheduler with a router plugin; sched.go) serve the bindings
// of networkdhcpagentbindings and routerl3agentbindings: an admin lists,
// adds and removes an agent's networks or routers and lists a network's
// or router's agents. A binding added or removed there is published
// after the commit as events.DHCPAgentNetwork / events.L3AgentRouter
// (Meta "agent" the *Agent), which internal/rpc turns into the agent's
// notification.
package agents
