package mechovn

import (
	"context"
	"sync"
	"time"

	"github.com/neutrino-os/neutrino/internal/db"
)

// Resource types of ovn_revision_numbers, as Neutron names them.
const (
	resNetwork       = "networks"
	resSubnet        = "subnets"
	resPort          = "ports"
	resSecurityGroup = "security_groups"
	resRouter        = "routers"
	resFloatingIP    = "floatingips"
)

// initialRevision records, inside the resource's create transaction, that it has not been written
// to the NB yet (Neutron's create_initial_revision): if the write after the commit is lost, the
// maintenance task finds the row at -1.
func initialRevision(ctx context.Context, tx *db.Tx, typ, id string) error {
	pre, post := tx.Dialect().InsertIgnore()
	_, err := tx.Exec(ctx, pre+" INTO ovn_revision_numbers (resource_uuid, resource_type, revision_number, updated_at) VALUES (?, ?, -1, ?)"+post,
		id, typ, time.Now().Unix())
	return err
}

// revKey is a resource of ovn_revision_numbers.
type revKey struct{ typ, id string }

// forget marks a pending row deletion in revisions.pending.
const forget = int64(-2)

// revisions batches the revision rows written after NB writes: one database transaction every
// flushEvery instead of one per API request (a write lost with the process only makes the
// maintenance task write the resource again).
type revisions struct {
	mu      sync.Mutex
	pending map[revKey]int64
}

const flushEvery = 50 * time.Millisecond

// recordRevision notes that revision rev of a resource is in the NB (never going backwards).
func (d *Driver) recordRevision(_ context.Context, typ, id string, rev int64) error {
	d.revs.mu.Lock()
	defer d.revs.mu.Unlock()
	if old, ok := d.revs.pending[revKey{typ, id}]; !ok || old != forget && old < rev {
		d.revs.pending[revKey{typ, id}] = rev
	}
	return nil
}

// forgetRevision drops the row of a resource whose NB rows are gone.
func (d *Driver) forgetRevision(_ context.Context, typ, id string) error {
	d.revs.mu.Lock()
	defer d.revs.mu.Unlock()
	d.revs.pending[revKey{typ, id}] = forget
	return nil
}

// flushRevisions writes the pending revision rows in one transaction.
func (d *Driver) flushRevisions(ctx context.Context) {
	d.revs.mu.Lock()
	batch := d.revs.pending
	d.revs.pending = map[revKey]int64{}
	d.revs.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	now := time.Now().Unix()
	pre, post := d.env.DB.Dialect().InsertIgnore()
	err := d.env.DB.Write(ctx, func(tx *db.Tx) error {
		for k, rev := range batch {
			if rev == forget {
				if _, err := tx.Exec(ctx, "DELETE FROM ovn_revision_numbers WHERE resource_uuid = ? AND resource_type = ?", k.id, k.typ); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, "UPDATE ovn_revision_numbers SET revision_number = ?, updated_at = ? WHERE resource_uuid = ? AND resource_type = ? AND revision_number < ?",
				rev, now, k.id, k.typ, rev); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, pre+" INTO ovn_revision_numbers (resource_uuid, resource_type, revision_number, updated_at) VALUES (?, ?, ?, ?)"+post,
				k.id, k.typ, rev, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.log.Warn("revision numbers not written (the maintenance task will rewrite those resources)", "count", len(batch), "error", err.Error())
	}
}

// writeRevisions flushes the pending revision rows until the driver stops (and once more then).
func (d *Driver) writeRevisions() {
	defer d.wg.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			d.flushRevisions(context.Background())
			return
		case <-t.C:
			d.flushRevisions(context.Background())
		}
	}
}

// locked serialises the NB writes of one resource in this process (the API path, the maintenance
// task and ovn-db-sync may sync the same resource at once; two first writes of a switch or router,
// whose names the NB does not keep unique, would make two). It returns the unlock.
func (d *Driver) locked(typ, id string) func() {
	m, _ := d.locks.LoadOrStore(revKey{typ, id}, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// pendingRevision is a revision recorded but not written yet (ok false when none).
func (d *Driver) pendingRevision(typ, id string) (int64, bool) {
	d.revs.mu.Lock()
	defer d.revs.mu.Unlock()
	rev, ok := d.revs.pending[revKey{typ, id}]
	return rev, ok
}
