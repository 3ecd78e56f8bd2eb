// Package events is neutrino's callback bus, the counterpart of
// neutron_lib.callbacks: plugins, mechanism drivers and agent notifiers
// subscribe to (resource, event) pairs and are called, in priority order,
// when a resource is about to change (BEFORE_*), is changing inside the
// write transaction (PRECOMMIT_*) or has changed and been committed
// (AFTER_*).
//
// BEFORE and PRECOMMIT subscribers run inside the transaction: an error
// from one of them aborts the operation and rolls it back. AFTER
// subscribers run once the transaction has committed, never for a
// rolled-back one; their errors are logged with the request id and never
// undo the write (the subscriber's owner repairs what it missed, as the OVN
// maintenance task does).
package events

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Event is what happens to a resource, named as Neutron's callback events.
type Event string

// Events of the write path (neutron_lib.callbacks.events), plus the few
// others the L3, OVN and RPC parts publish.
const (
	BeforeCreate    Event = "before_create"
	PrecommitCreate Event = "precommit_create"
	AfterCreate     Event = "after_create"
	BeforeUpdate    Event = "before_update"
	PrecommitUpdate Event = "precommit_update"
	AfterUpdate     Event = "after_update"
	BeforeDelete    Event = "before_delete"
	PrecommitDelete Event = "precommit_delete"
	AfterDelete     Event = "after_delete"
	// AfterInit is published once every plugin is set up (PROCESS).
	AfterInit Event = "after_init"
	// BeforeShutdown is published when the server stops (PROCESS).
	BeforeShutdown Event = "before_shutdown"
)

// IsAfter reports whether e is published after commit.
func (e Event) IsAfter() bool { return strings.HasPrefix(string(e), "after_") }

// Resource names as Neutron's callbacks.resources.
const (
	Network           = "network"
	Subnet            = "subnet"
	Port              = "port"
	Segment           = "segment"
	SecurityGroup     = "security_group"
	SecurityGroupRule = "security_group_rule"
	SubnetPool        = "subnetpool"
	AddressScope      = "address_scope"
	RBACPolicy        = "rbac-policy"
	Router            = "router"
	RouterGateway     = "router_gateway"
	RouterInterface   = "router_interface"
	FloatingIP        = "floatingip"
	PortForwarding    = "port_forwarding"
	Agent             = "agent"
	Process           = "process"
	// DHCPAgentNetwork and L3AgentRouter are the manual bindings of the
	// agent scheduler APIs (AFTER_CREATE / AFTER_DELETE, ID the network
	// or router, Meta "agent" the *agents.Agent): neutrino's own, for the
	// notifications Neutron's plugin sends inline after the commit.
	DHCPAgentNetwork = "dhcp_agent_network"
	L3AgentRouter    = "l3_agent_router"
)

// Payload is what subscribers receive (neutron_lib's DBEventPayload).
type Payload struct {
	// Ctx is the request's context (reqctx.From gives the caller). For
	// AFTER events it is no longer cancelled with the request.
	Ctx context.Context
	// Tx is the write transaction for BEFORE and PRECOMMIT events, nil
	// for AFTER events.
	Tx *db.Tx
	// ID is the resource's id.
	ID string
	// Old is the state before the change (update, delete), else nil.
	Old api.Object
	// New is the state after the change (create, update): for PRECOMMIT
	// and AFTER events the object as stored; for BEFORE_CREATE the
	// request's item, for BEFORE_UPDATE the requested changes.
	New api.Object
	// Request is the request body's item or changes, when there is one.
	Request api.Object
	// Meta carries event-specific values (e.g. a router interface's
	// subnet and port ids).
	Meta map[string]any
}

// Callback is a subscriber.
type Callback func(res string, ev Event, p *Payload) error

// Priorities: lower runs first, as in Neutron (PRIORITY_DEFAULT 55550000).
const (
	PriorityDefault = 55550000
	// PriorityOwner runs before every default subscriber (the resource's
	// own plugin).
	PriorityOwner = 10
	// PriorityNotifier runs after the default subscribers (agent
	// notifications, dataplane drivers).
	PriorityNotifier = 60000000
)

type sub struct {
	name     string
	priority int
	seq      int
	fn       Callback
}

type key struct {
	res string
	ev  Event
}

// Bus holds the subscriptions of one server (never a package global: two
// servers in one process have two buses).
type Bus struct {
	log  *slog.Logger
	mu   sync.RWMutex
	subs map[key][]sub
	seq  int
}

// NewBus makes an empty bus logging AFTER failures to log.
func NewBus(log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	return &Bus{log: log, subs: map[key][]sub{}}
}

// Subscribe adds fn for res/ev under name (used in logs) at priority.
// Subscribers of equal priority run in subscription order.
func (b *Bus) Subscribe(res string, ev Event, name string, priority int, fn Callback) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	k := key{res, ev}
	list := append(b.subs[k], sub{name: name, priority: priority, seq: b.seq, fn: fn})
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].priority != list[j].priority {
			return list[i].priority < list[j].priority
		}
		return list[i].seq < list[j].seq
	})
	b.subs[k] = list
}

// Has reports whether anything subscribed to res/ev (publishers skip
// building payloads nobody reads).
func (b *Bus) Has(res string, ev Event) bool {
	if b == nil {
		return false
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs[key{res, ev}]) > 0
}

func (b *Bus) list(res string, ev Event) []sub {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.subs[key{res, ev}]
}

// Publish calls the subscribers of res/ev in order. For BEFORE and
// PRECOMMIT events the first error stops the publication and is returned
// (the caller aborts its transaction). AFTER events must go through
// PublishAfterCommit (or Notify when there is no transaction).
func (b *Bus) Publish(res string, ev Event, p *Payload) error {
	if b == nil {
		return nil
	}
	for _, s := range b.list(res, ev) {
		if err := s.fn(res, ev, p); err != nil {
			return err
		}
	}
	return nil
}

// PublishAfterCommit publishes res/ev once tx has committed; nothing is
// published when tx rolls back (or is retried: only the attempt that
// commits publishes).
func (b *Bus) PublishAfterCommit(tx *db.Tx, res string, ev Event, p *Payload) {
	if !b.Has(res, ev) {
		return
	}
	p.Tx = nil
	p.Ctx = context.WithoutCancel(p.Ctx)
	tx.OnCommit(func() { b.Notify(res, ev, p) })
}

// Notify calls every subscriber of an AFTER event: a failing (or
// panicking) subscriber is logged with the request id and does not stop
// the others.
func (b *Bus) Notify(res string, ev Event, p *Payload) {
	if b == nil {
		return
	}
	for _, s := range b.list(res, ev) {
		if err := b.call(s, res, ev, p); err != nil {
			b.log.Error("callback failed", "request_id", requestID(p.Ctx), "subscriber", s.name,
				"resource", res, "event", string(ev), "id", p.ID, "error", err.Error())
		}
	}
}

func (b *Bus) call(s sub, res string, ev Event, p *Payload) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return s.fn(res, ev, p)
}

func requestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if rc := reqctx.From(ctx); rc != nil {
		return rc.RequestID
	}
	return ""
}
