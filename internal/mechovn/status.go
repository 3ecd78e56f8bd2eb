package mechovn

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// statusWatcher turns Logical_Switch_Port.up into the port's status, as ML2/OVN does: up is
// ACTIVE, not up is DOWN (a status change bumps the port's revision and rewrites the LSP). Only
// the process holding the maintenance lease writes statuses.
type statusWatcher struct {
	d       *Driver
	leader  atomic.Bool
	mu      sync.Mutex
	pending map[string]bool // LSP names whose up changed
	kick    chan struct{}
}

func newStatusWatcher(d *Driver) *statusWatcher {
	return &statusWatcher{d: d, pending: map[string]bool{}, kick: make(chan struct{}, 1)}
}

// handler is the NB cache handler: every LSP whose up column is seen (added, changed) is queued.
func (w *statusWatcher) handler() cache.EventHandler {
	return &cache.EventHandlerFuncs{
		AddFunc: func(table string, m model.Model) {
			if lsp, ok := m.(*nbdb.LogicalSwitchPort); ok && lsp.ExternalIDs[extRevision] != "" {
				w.queue(lsp.Name)
			}
		},
		UpdateFunc: func(table string, old, m model.Model) {
			o, ok1 := old.(*nbdb.LogicalSwitchPort)
			n, ok2 := m.(*nbdb.LogicalSwitchPort)
			if ok1 && ok2 && isUp(o) != isUp(n) && n.ExternalIDs[extRevision] != "" {
				w.queue(n.Name)
			}
		},
	}
}

func isUp(l *nbdb.LogicalSwitchPort) bool { return l.Up != nil && *l.Up }

func (w *statusWatcher) queue(names ...string) {
	if !w.leader.Load() {
		return
	}
	w.mu.Lock()
	for _, n := range names {
		w.pending[n] = true
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// queueAll queues every port's LSP (a new leader checks them all).
func (w *statusWatcher) queueAll(ctx context.Context) {
	if !w.d.nb.Connected() {
		return // the connection's cache fill queues them
	}
	var lsps []nbdb.LogicalSwitchPort
	_ = w.d.nb.OVSDB().WhereCache(func(l *nbdb.LogicalSwitchPort) bool { return l.ExternalIDs[extRevision] != "" }).List(ctx, &lsps)
	names := make([]string, 0, len(lsps))
	for _, l := range lsps {
		names = append(names, l.Name)
	}
	var pbs []sbdb.PortBinding
	if w.d.sb.Connected() {
		_ = w.d.sb.OVSDB().WhereCache(func(pb *sbdb.PortBinding) bool { return pb.Type == "chassisredirect" && pb.Chassis != nil }).List(ctx, &pbs)
	}
	for _, pb := range pbs {
		names = append(names, pb.LogicalPort)
	}
	w.queue(names...)
}

func (w *statusWatcher) run() {
	defer w.d.wg.Done()
	for {
		select {
		case <-w.d.stop:
			return
		case <-w.kick:
		}
		w.mu.Lock()
		batch := w.pending
		w.pending = map[string]bool{}
		w.mu.Unlock()
		for name := range batch {
			if err := w.apply(context.Background(), name); err != nil {
				w.d.log.Warn("port status not written", "port", name, "error", err.Error())
			}
		}
	}
}

// apply writes a port's status from its LSP's up column when they differ (or, for a chassisredirect
// port's name, binds the gateway port: gwport.go).
func (w *statusWatcher) apply(ctx context.Context, id string) error {
	if !w.leader.Load() {
		return nil
	}
	if strings.HasPrefix(id, crPrefix) {
		return w.applyGateway(ctx, id)
	}
	lsp := w.d.lspByName(ctx, id)
	if lsp == nil {
		return nil
	}
	want := "DOWN"
	if isUp(lsp) {
		want = "ACTIVE"
	}
	ctx = admin(ctx)
	port, err := w.d.tables.ports.Get(ctx, id, []string{"status"})
	if gone(err) {
		return nil
	} else if err != nil {
		return err
	}
	if str(port["status"]) == want {
		return w.d.updateDNAT(ctx, id, isUp(lsp))
	}
	_, err = w.d.tables.ports.Update(ctx, id, api.Object{"status": want}, nil)
	if gone(err) {
		return nil
	} else if err != nil {
		return err
	}
	return w.d.updateDNAT(ctx, id, isUp(lsp))
}
