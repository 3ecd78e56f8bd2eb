package mechovn

import (
	"context"
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

// recordRevision notes that revision rev of a resource is in the NB (never going backwards).
func (d *Driver) recordRevision(ctx context.Context, typ, id string, rev int64) error {
	now := time.Now().Unix()
	res, err := d.env.DB.Exec(ctx, "UPDATE ovn_revision_numbers SET revision_number = ?, updated_at = ? WHERE resource_uuid = ? AND resource_type = ? AND revision_number < ?",
		rev, now, id, typ, rev)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	pre, post := d.env.DB.Dialect().InsertIgnore()
	_, err = d.env.DB.Exec(ctx, pre+" INTO ovn_revision_numbers (resource_uuid, resource_type, revision_number, updated_at) VALUES (?, ?, ?, ?)"+post,
		id, typ, rev, now)
	return err
}

// forgetRevision drops the row of a resource whose NB rows are gone.
func (d *Driver) forgetRevision(ctx context.Context, typ, id string) error {
	_, err := d.env.DB.Exec(ctx, "DELETE FROM ovn_revision_numbers WHERE resource_uuid = ? AND resource_type = ?", id, typ)
	return err
}
