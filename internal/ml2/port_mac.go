package ml2

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
)

// ---- MAC addresses ----

// parseBaseMAC reads [DEFAULT] base_mac: the first three octets are kept,
// and the fourth when it is not zero.
func parseBaseMAC(s string) ([]byte, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return nil, fmt.Errorf("[DEFAULT] base_mac: %q is not a MAC address", s)
	}
	var out []byte
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("[DEFAULT] base_mac: %q is not a MAC address", s)
		}
		if i < 3 || (i == 3 && n != 0) {
			out = append(out, byte(n))
		}
	}
	return out, nil
}

func (p *Plugin) randomMAC() string {
	var m [6]byte
	rand.Read(m[:])
	copy(m[:], p.baseMAC)
	return netaddr.FormatMAC(m)
}

// macKey is the form MACs are compared in (sanitized, lower case).
func macKey(s string) string { return strings.ToLower(api.SanitizeMAC(s)) }

// claimMAC reserves a MAC on a network; false when it is in use.
func claimMAC(ctx context.Context, tx *db.Tx, netID, mac, portID string) (bool, error) {
	pre, post := tx.Dialect().InsertIgnore()
	res, err := tx.Exec(ctx, pre+" INTO port_macs (network_id, mac_address, port_id) VALUES (?, ?, ?)"+post, netID, macKey(mac), portID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func releaseMAC(ctx context.Context, tx *db.Tx, netID, mac string) error {
	_, err := tx.Exec(ctx, "DELETE FROM port_macs WHERE network_id = ? AND mac_address = ?", netID, macKey(mac))
	return err
}

func macInUse(netID, mac string) error {
	return nerr.Conflict("MacAddressInUse", "Unable to complete operation for network %s. The mac address %s is in use.", netID, mac)
}

// assignMAC claims the requested MAC, or generates one.
func (p *Plugin) assignMAC(ctx context.Context, tx *db.Tx, netID, portID string, requested any) (string, error) {
	if s, ok := requested.(string); ok {
		ok, err := claimMAC(ctx, tx, netID, s, portID)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", macInUse(netID, s)
		}
		return s, nil
	}
	for i := 0; i < 32; i++ {
		mac := p.randomMAC()
		ok, err := claimMAC(ctx, tx, netID, mac, portID)
		if err != nil || ok {
			return mac, err
		}
	}
	return "", nerr.ServiceUnavailable("Unable to generate a unique MAC address on network %s.", netID)
}

// ---- network lookups ----

type netInfo struct {
	ID, ProjectID string
	PortSecurity  bool
}

// visibleNetwork reads the network of a port as the caller may see it.
func (p *Plugin) visibleNetwork(ctx context.Context, q db.Querier, id string) (*netInfo, error) {
	query := "SELECT t.id, t.project_id, t.port_security_enabled FROM networks t WHERE t.id = ?"
	args := []any{id}
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin {
		cond, cargs := sharing.VisibleCond("network", "t.id", rc.ProjectID, "")
		query += " AND (t.project_id = ? OR " + cond + ")"
		args = append(append(args, rc.ProjectID), cargs...)
	}
	var n netInfo
	var project *string
	var ps any
	if err := q.QueryRow(ctx, query, args...).Scan(&n.ID, &project, &ps); errors.Is(err, sql.ErrNoRows) {
		return nil, nerr.NotFound("NetworkNotFound", "Network %s could not be found.", id)
	} else if err != nil {
		return nil, err
	}
	n.ProjectID = nullStr(project)
	n.PortSecurity = dbBool(ps)
	return &n, nil
}
