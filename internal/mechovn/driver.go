package mechovn

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/neutrino-os/neutrino/internal/az"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/l3"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	ml2.RegisterMechanismDriver("ovn", func() ml2.MechanismDriver { return &Driver{} })
}

// postcommitTimeout bounds an NB write on the API path: a write that cannot be made in time is
// left to the maintenance task.
const postcommitTimeout = 10 * time.Second

// errNBDown is a postcommit skipped because the NB is not connected.
var errNBDown = errors.New("OVN Northbound database not connected: the maintenance task will write this change")

// Driver is the ovn mechanism driver of one server.
type Driver struct {
	ml2.BaseMechanismDriver
	env    *plugin.Env
	p      *ml2.Plugin
	s      settings
	log    *slog.Logger
	nb, sb *ovn.Client
	tables struct{ networks, subnets, ports, sgs, rules *store.Table }
	l3     *l3.Plugin // nil without the router service plugin
	lease  *db.Lease
	status *statusWatcher
	revs   revisions
	locks  sync.Map // revKey → *sync.Mutex (see locked)
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// Initialize reads [ovn], and starts connecting to the NB and SB databases.
func (d *Driver) Initialize(env *plugin.Env, p *ml2.Plugin) error {
	s, err := loadSettings(env.Config)
	if err != nil {
		return err
	}
	d.env, d.p, d.s, d.stop = env, p, s, make(chan struct{})
	d.revs.pending = map[revKey]int64{}
	d.log = env.Log.With("logger", "mechovn")
	tables := ovn.NBTables()
	if d.nb, err = ovn.NewNB(s.conn, tables, env.Log); err != nil {
		return err
	}
	for _, t := range tables {
		// the port sets of switches and port groups are only written: not monitored
		switch m := t.(type) {
		case *nbdb.LogicalSwitch:
			d.nb.Columns(m, &m.Name, &m.ExternalIDs, &m.OtherConfig, &m.ACLs, &m.DNSRecords, &m.QOSRules, &m.LoadBalancer)
		case *nbdb.PortGroup:
			d.nb.Columns(m, &m.Name, &m.ExternalIDs, &m.ACLs)
		}
	}
	if d.sb, err = ovn.NewSB(s.conn, nil, env.Log); err != nil {
		return err
	}
	d.lease = db.NewLease(env.DB, "ovn_maintenance")
	d.status = newStatusWatcher(d)
	d.nb.Subscribe(d.status.handler())
	d.sb.Subscribe(d.status.gatewayHandler())
	az.SetDriver(env, zoneDriver{d})
	env.OnFinish(d.finish)
	env.Bus.Subscribe(events.Process, events.BeforeShutdown, "mechovn", events.PriorityDefault,
		func(string, events.Event, *events.Payload) error { d.Close(); return nil })
	return nil
}

// finish runs once every plugin is set up: the tables exist, the background work starts.
func (d *Driver) finish() error {
	d.tables.networks, d.tables.subnets, d.tables.ports = d.p.Networks(), d.p.Subnets(), d.p.Ports()
	d.tables.sgs, d.tables.rules = d.env.Table("security_groups"), d.env.Table("security_group_rules")
	d.subscribeSecurityGroups()
	d.subscribeQoS()
	d.subscribeTrunks()
	d.registerAgents()
	if r, ok := d.env.Plugin("router").(*l3.Plugin); ok {
		d.l3 = r
		d.subscribeL3()
	}
	d.nb.Start()
	d.sb.Start()
	d.wg.Add(1)
	go d.writeRevisions()
	if d.s.background {
		d.wg.Add(2)
		go d.maintain()
		go d.status.run()
	}
	return nil
}

// Close stops the background work and the database connections (idempotent).
func (d *Driver) Close() {
	d.once.Do(func() {
		close(d.stop)
		d.wg.Wait()
		d.nb.Close()
		d.sb.Close()
		d.lease.Release(context.Background())
	})
}

// Leader reports whether this process holds the maintenance lease (runs the maintenance task and
// writes port statuses).
func (d *Driver) Leader() bool { return d.status.leader.Load() }

// waitFirst gives a client that never connected yet (the server just started) a moment to.
func waitFirst(c *ovn.Client) {
	if c.Connections() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = c.WaitConnected(ctx)
		cancel()
	}
}

// admin is ctx with an admin caller, for the driver's own reads.
func admin(ctx context.Context) context.Context {
	return reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
}

// write runs an NB write of the API path: skipped at once while the NB is away, bounded in time.
func (d *Driver) write(ctx context.Context, f func(ctx context.Context) error) error {
	waitFirst(d.nb)
	if !d.nb.Connected() {
		return errNBDown
	}
	ctx, cancel := context.WithTimeout(admin(ctx), postcommitTimeout)
	defer cancel()
	return f(ctx)
}
