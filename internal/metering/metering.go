// Package metering is the metering service plugin (Neutron's
// MeteringPlugin: the metering and metering_source_and_destination_fields
// extensions): metering labels and their rules under /v2.0/metering, with
// Neutron's validation of rule prefixes and remote_ip_prefix overlaps.
// Metering agents learn the changes from the tables' AFTER events.
package metering

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	plugin.Register("metering", func() plugin.Plugin { return &Plugin{} },
		"neutron.services.metering.metering_plugin.MeteringPlugin", "neutron.services.metering.metering_plugin:MeteringPlugin")
}

// Plugin is the metering service plugin of one server.
type Plugin struct {
	labels, rules *store.Table
}

func labelNotFound(id string) error {
	return nerr.NotFound("MeteringLabelNotFound", "Metering label '%s' does not exist.", id)
}

// Label is the metering label resource.
func Label() *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "metering", Name: "metering_label",
		Collection: "metering_labels", Path: "metering/metering-labels", ListIgnoresFields: true, NotFound: labelNotFound,
		Attrs: []*api.Attribute{
			api.IDAttr(),
			{Name: "name", AllowPost: true, Default: "", Validate: api.String(255), Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "description", AllowPost: true, Default: "", Validate: api.String(1024), Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "tenant_id", AllowPost: true, Required: true, Validate: api.String(255), RequiredByPolicy: true,
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "shared", AllowPost: true, Default: false, Convert: api.ToBool, Visible: true, IsFilter: true, IsSortKey: true},
		}}
}

// Rule is the metering label rule resource.
func Rule() *api.Resource {
	prefix := func(name string, put bool) *api.Attribute {
		return &api.Attribute{Name: name, AllowPost: true, AllowPut: put, Default: nil, Visible: true, IsFilter: true, IsSortKey: true}
	}
	return &api.Resource{ExtensionController: true, Extension: "metering", Name: "metering_label_rule",
		Collection: "metering_label_rules", Path: "metering/metering-label-rules", ListIgnoresFields: true,
		NotFound: func(id string) error {
			return nerr.NotFound("MeteringLabelRuleNotFound", "Metering label rule '%s' does not exist.", id)
		},
		Attrs: []*api.Attribute{
			api.IDAttr(),
			{Name: "metering_label_id", AllowPost: true, Required: true, Validate: api.UUID, RequiredByPolicy: true,
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "tenant_id", AllowPost: true, Required: true, Validate: api.String(255), RequiredByPolicy: true},
			{Name: "direction", AllowPost: true, Required: true, Validate: api.Values("ingress", "egress"),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "excluded", AllowPost: true, Default: false, Convert: api.ToBool, Visible: true, IsFilter: true, IsSortKey: true},
			prefix("remote_ip_prefix", false),
			prefix("source_ip_prefix", true),
			prefix("destination_ip_prefix", true),
		}}
}

// Setup declares the labels and rules.
func (p *Plugin) Setup(env *plugin.Env) error {
	lres := Label()
	p.labels = &store.Table{Name: "meteringlabels", Res: lres, DB: env.DB, IgnoreUnknownMarker: true,
		Cols: []store.Column{{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "shared", Kind: store.Bool}}}
	p.labels.AddHooks(store.Hooks{BeforeDelete: func(op *store.Op) error {
		_, err := op.Tx.Exec(op.Ctx, "DELETE FROM meteringlabelrules WHERE metering_label_id = ?", op.ID)
		return err
	}})
	env.AddResource(lres, p.labels)
	rres := Rule()
	p.rules = &store.Table{Name: "meteringlabelrules", Res: rres, DB: env.DB, NoScope: true, IgnoreUnknownMarker: true,
		Cols: []store.Column{{Attr: "id"}, {Attr: "metering_label_id"}, {Attr: "direction"},
			{Attr: "excluded", Kind: store.Bool}, {Attr: "remote_ip_prefix"}, {Attr: "source_ip_prefix"},
			{Attr: "destination_ip_prefix"}}}
	p.rules.AddHooks(store.Hooks{BeforeCreate: p.beforeCreateRule})
	rres.Backend = ruleBackend{p.rules}
	env.AddResource(rres, p.rules)
	env.AddExtensions("metering", "metering_source_and_destination_fields")
	return nil
}

// ruleBackend refuses rule updates as Neutron's plugin does (it has none).
type ruleBackend struct{ *store.Table }

func (ruleBackend) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, &nerr.Error{Status: 501, Type: "NotImplementedError", Key: "NotImplementedError"}
}

// invalid is neutron_lib's Invalid, a 500 in Neutron (docs/compat.md).
func invalid(msg string) error { return nerr.Typed(400, "Invalid", "%s", msg) }

// interfacePrefix parses a prefix as ipaddress.ip_interface validates it
// and netaddr.IPNetwork prints it (host bits kept).
func interfacePrefix(field string, v any) (any, error) {
	if v == nil || v == "" {
		return nil, nil
	}
	s, _ := v.(string)
	_, errP := netip.ParsePrefix(s)
	_, errA := netip.ParseAddr(s)
	a, n, ok := ipam.ParseNetwork(s)
	if (errP != nil && errA != nil) || !ok || strings.Contains(s, "%") {
		return nil, invalid(fmt.Sprintf("%s: %s is invalid ['%s' does not appear to be an IPv4 or IPv6 interface].", field, api.PyStr(v), api.PyStr(v)))
	}
	return ipam.Format(a) + fmt.Sprintf("/%d", n), nil
}

// beforeCreateRule is validate_metering_label_rule, check_for_rule_overlaps
// and the label's existence.
func (p *Plugin) beforeCreateRule(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	for _, f := range []string{"remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix"} {
		v, err := interfacePrefix(f, obj[f])
		if err != nil {
			return err
		}
		obj[f] = v
	}
	if obj["remote_ip_prefix"] != nil && (obj["source_ip_prefix"] != nil || obj["destination_ip_prefix"] != nil) {
		return invalid("Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.")
	}
	if obj["remote_ip_prefix"] == nil && obj["source_ip_prefix"] == nil && obj["destination_ip_prefix"] == nil {
		return invalid("You must define at least one of the following parameters 'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'.")
	}
	label := obj["metering_label_id"].(string)
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM meteringlabels WHERE id = ?"+tx.ForUpdate(), label).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return labelNotFound(label)
	}
	delete(obj, "tenant_id")
	delete(obj, "project_id")
	return overlaps(ctx, tx, obj)
}

// overlaps is verify_rule_overlap on remote_ip_prefix: rules of the label
// with the same direction and excluded.
func overlaps(ctx context.Context, tx *db.Tx, obj api.Object) error {
	remote, _ := obj["remote_ip_prefix"].(string)
	if remote == "" {
		return nil
	}
	mine, err := netip.ParsePrefix(remote)
	if err != nil {
		return nil
	}
	existing, err := db.Strings(ctx, tx, "SELECT remote_ip_prefix FROM meteringlabelrules WHERE metering_label_id = ? AND direction = ? AND excluded = ? AND remote_ip_prefix IS NOT NULL",
		obj["metering_label_id"], obj["direction"], obj["excluded"])
	if err != nil {
		return err
	}
	for _, e := range existing {
		other, err := netip.ParsePrefix(e)
		if err == nil && mine.Masked().Overlaps(other.Masked()) {
			return nerr.Conflict("MeteringLabelRuleOverlaps", "Metering label rule with remote_ip_prefix '%s' overlaps another.", remote)
		}
	}
	return nil
}
