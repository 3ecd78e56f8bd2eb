package mechovn

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/db"
)

// leaseTTL is how long a lease lasts without renewal; holders renew every leaseTTL/3.
const leaseTTL = 15 * time.Second

// lease is a named lease in ovn_leases that one process holds at a time.
type lease struct {
	db     *db.DB
	name   string
	holder string
}

func newLease(d *db.DB, name string) *lease {
	return &lease{db: d, name: name, holder: uuid.NewString()}
}

// acquire takes or renews the lease; it reports whether this process holds it.
func (l *lease) acquire(ctx context.Context) bool {
	now := time.Now().Unix()
	pre, post := l.db.Dialect().InsertIgnore()
	if _, err := l.db.Exec(ctx, pre+" INTO ovn_leases (name, holder, expires_at) VALUES (?, ?, ?)"+post,
		l.name, "", 0); err != nil {
		return false
	}
	if _, err := l.db.Exec(ctx, "UPDATE ovn_leases SET holder = ?, expires_at = ? WHERE name = ? AND (holder = ? OR expires_at < ?)",
		l.holder, now+int64(leaseTTL/time.Second), l.name, l.holder, now); err != nil {
		return false
	}
	// (MySQL counts an update that changes nothing as no row: read the holder back)
	var holder string
	if err := l.db.QueryRow(ctx, "SELECT holder FROM ovn_leases WHERE name = ?", l.name).Scan(&holder); err != nil {
		return false
	}
	return holder == l.holder
}

// release gives the lease up (when this process holds it).
func (l *lease) release(ctx context.Context) {
	_, _ = l.db.Exec(ctx, "UPDATE ovn_leases SET expires_at = 0 WHERE name = ? AND holder = ?", l.name, l.holder)
}
