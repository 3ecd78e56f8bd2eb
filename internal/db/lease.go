package db

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// LeaseTTL is how long a lease lasts without renewal; holders renew every LeaseTTL/3.
const LeaseTTL = 15 * time.Second

// Lease is a named lease (a row of ovn_leases, the table of every
// process-wide lease despite its name) that one neutrino process holds
// at a time: the OVN maintenance task, the agents' rescheduling.
type Lease struct {
	db     *DB
	name   string
	holder string
}

// NewLease returns this process's handle on the lease name.
func NewLease(d *DB, name string) *Lease {
	return &Lease{db: d, name: name, holder: uuid.NewString()}
}

// Acquire takes or renews the lease; it reports whether this process holds it.
func (l *Lease) Acquire(ctx context.Context) bool {
	now := time.Now().Unix()
	pre, post := l.db.Dialect().InsertIgnore()
	if _, err := l.db.Exec(ctx, pre+" INTO ovn_leases (name, holder, expires_at) VALUES (?, ?, ?)"+post,
		l.name, "", 0); err != nil {
		return false
	}
	if _, err := l.db.Exec(ctx, "UPDATE ovn_leases SET holder = ?, expires_at = ? WHERE name = ? AND (holder = ? OR expires_at < ?)",
		l.holder, now+int64(LeaseTTL/time.Second), l.name, l.holder, now); err != nil {
		return false
	}
	// (MySQL counts an update that changes nothing as no row: read the holder back)
	var holder string
	if err := l.db.QueryRow(ctx, "SELECT holder FROM ovn_leases WHERE name = ?", l.name).Scan(&holder); err != nil {
		return false
	}
	return holder == l.holder
}

// Release gives the lease up (when this process holds it).
func (l *Lease) Release(ctx context.Context) {
	_, _ = l.db.Exec(ctx, "UPDATE ovn_leases SET expires_at = 0 WHERE name = ? AND holder = ?", l.name, l.holder)
}
