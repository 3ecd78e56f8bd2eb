package subnetpool

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// SubnetPool is the subnetpool resource as Neutron Zed declares it.
func SubnetPool() *api.Resource {
	prefixlen := func(name string) *api.Attribute {
		return &api.Attribute{Name: name, AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.ToInt, Validate: api.NonNegative, IsFilter: true, IsSortKey: true, Visible: true}
	}
	attrs := []*api.Attribute{
		api.IDAttr(),
		{Name: "name", AllowPost: true, AllowPut: true, Required: true, Validate: api.NotEmptyString(0),
			IsFilter: true, IsSortKey: true, Visible: true},
		api.TenantAttr(),
		{Name: "prefixes", AllowPost: true, AllowPut: true, Required: true, Validate: validateSubnetList, Visible: true},
		prefixlen("default_prefixlen"),
		prefixlen("min_prefixlen"),
		prefixlen("max_prefixlen"),
		{Name: "is_default", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool,
			IsFilter: true, IsSortKey: true, EnforcePolicy: true, RequiredByPolicy: true, Visible: true},
		{Name: "shared", AllowPost: true, Default: false, Convert: api.ToBool,
			IsFilter: true, IsSortKey: true, EnforcePolicy: true, RequiredByPolicy: true, Visible: true},
		{Name: "ip_version", IsFilter: true, IsSortKey: true, Visible: true},
		prefixlen("default_quota"),
		{Name: "address_scope_id", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Validate: api.UUIDOrNone, IsFilter: true, IsSortKey: true, Visible: true},
	}
	attrs = append(attrs, api.StdAttrs()...)
	return &api.Resource{ExtensionController: true, Name: "subnetpool", Collection: "subnetpools", Attrs: attrs, Tags: true} // no bulk create: the subnetpool plugin refuses it
}

var validateSubnetList = api.ListOf(ValidateSubnet)

// poolSpec is Neutron's SubnetPoolReader: a pool's prefixes and bounds
// with their defaults, validated.
type poolSpec struct {
	version       int
	prefixes      []netaddr.Net
	min, max, def int64
	quota         any // nil or int64
	scope         string
}

func defaultMin(version int) int64 {
	if version == 4 {
		return 8
	}
	return 64
}

// parsePrefixes parses prefix strings as netaddr.IPSet does.
func parsePrefixes(raw []any) ([]netaddr.Net, error) {
	out := make([]netaddr.Net, 0, len(raw))
	for _, p := range raw {
		s, ok := p.(string)
		if !ok {
			return nil, addrFormatError(p)
		}
		n, err := netaddr.ParseNet(s)
		if err != nil {
			return nil, addrFormatError(p)
		}
		out = append(out, n)
	}
	return out, nil
}

func readPool(obj api.Object) (*poolSpec, error) {
	raw, _ := obj["prefixes"].([]any)
	if len(raw) == 0 {
		return nil, nerr.Typed(http.StatusBadRequest, "EmptySubnetPoolPrefixList", "Empty subnet pool prefix list.")
	}
	nets, err := parsePrefixes(raw)
	if err != nil {
		return nil, err
	}
	sp := &poolSpec{version: nets[0].Version()}
	for _, n := range nets {
		if n.Version() != sp.version {
			return nil, nerr.Typed(http.StatusBadRequest, "PrefixVersionMismatch", "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.")
		}
	}
	if q, ok := obj["default_quota"]; isSet(q, ok) {
		sp.quota = intOf(q)
	}
	sp.prefixes = netaddr.Compact(sp.version, nets)
	maxBits := int64(32)
	if sp.version == 6 {
		maxBits = 128
	}
	sp.min, sp.max = defaultMin(sp.version), maxBits
	if v, ok := obj["min_prefixlen"]; isSet(v, ok) {
		sp.min = intOf(v)
	}
	if v, ok := obj["max_prefixlen"]; isSet(v, ok) {
		sp.max = intOf(v)
	}
	sp.def = sp.min
	if v, ok := obj["default_prefixlen"]; isSet(v, ok) {
		sp.def = intOf(v)
	}
	if sp.min < 0 {
		return nil, nerr.Typed(http.StatusBadRequest, "UnsupportedMinSubnetPoolPrefix", "Prefix '%d' not supported in IPv4 pool.", sp.min)
	}
	if sp.min > sp.max {
		return nil, illegalBounds("min_prefixlen", sp.min, "max_prefixlen", sp.max)
	}
	if sp.max > maxBits {
		return nil, illegalBounds("max_prefixlen", sp.max, "ip_version_max", maxBits)
	}
	if sp.def < sp.min {
		return nil, illegalBounds("default_prefixlen", sp.def, "min_prefixlen", sp.min)
	}
	if sp.def > sp.max {
		return nil, illegalBounds("default_prefixlen", sp.def, "max_prefixlen", sp.max)
	}
	if v, ok := obj["address_scope_id"]; isSet(v, ok) {
		sp.scope = str(v)
	}
	return sp, nil
}

func netStrings(nets []netaddr.Net) []any {
	out := make([]any, len(nets))
	for i, n := range nets {
		out[i] = n.String()
	}
	return out
}

// poolBackend adds to the table what Neutron's subnet pool views do
// differently from the stored state.
type poolBackend struct {
	*store.Table
}

func (b poolBackend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	if sortsShared(q) {
		return nil, badSort("subnetpools")
	}
	return b.Table.List(ctx, q)
}

func defaultExists() error {
	return nerr.InvalidInput("A default subnetpool for this IP family has already been set. Only one default may exist per IP family")
}

func (b poolBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	out, err := b.Table.Create(ctx, items)
	if db.IsUniqueViolation(err) {
		return nil, defaultExists()
	}
	for _, o := range out {
		// the create response lists the prefixes as compacted, in address order
		if ps, ok := o["prefixes"].([]any); ok {
			nets, _ := parsePrefixes(ps)
			if len(nets) > 0 {
				o["prefixes"] = netStrings(netaddr.Compact(nets[0].Version(), nets))
			}
		}
	}
	return out, err
}

// Update answers as Neutron's update_subnetpool does: prefix lengths as
// integers, null default_quota and address_scope_id left out unless given.
func (b poolBackend) Update(ctx context.Context, id string, changes api.Object, ifMatch *int64) (api.Object, error) {
	out, err := b.Table.Update(ctx, id, changes, ifMatch)
	if db.IsUniqueViolation(err) {
		return nil, defaultExists()
	}
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"default_prefixlen", "min_prefixlen", "max_prefixlen"} {
		out[k] = intOf(out[k])
	}
	for _, k := range []string{"default_quota", "address_scope_id"} {
		if _, given := changes[k]; out[k] == nil && !given {
			delete(out, k)
		}
	}
	if _, given := changes["prefixes"]; given {
		nets, _ := parsePrefixes(out["prefixes"].([]any))
		if len(nets) > 0 {
			out["prefixes"] = netStrings(netaddr.Compact(nets[0].Version(), nets))
		}
	}
	return out, nil
}

type poolSpecKey struct{}

// setupPools declares the subnet pools, with the add_prefixes and
// remove_prefixes actions when prefixOps (the core plugin offers
// subnetpool-prefix-ops).
func (c *Component) setupPools(env *plugin.Env, prefixOps bool) {
	res := SubnetPool()
	res.NotFound = poolNotFound
	t := &store.Table{
		Name: "subnetpools", Res: res, DB: env.DB, IgnoreUnknownMarker: true, Quota: "subnetpool", Std: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "ip_version", Kind: store.Int},
			{Attr: "default_prefixlen", Kind: store.Int}, {Attr: "min_prefixlen", Kind: store.Int},
			{Attr: "max_prefixlen", Kind: store.Int}, {Attr: "default_quota", Kind: store.Int},
			{Attr: "is_default", Kind: store.Bool}, {Attr: "default_version", Kind: store.Int},
			{Attr: "address_scope_id"},
		},
		Filters: map[string]store.FilterFunc{"shared": sharedFilter("subnetpool")},
		Shared:  sharedCond("subnetpool"),
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: c.beforeCreatePool,
		AfterCreate:  c.afterCreatePool,
		BeforeUpdate: c.beforeUpdatePool,
		AfterUpdate:  c.afterUpdatePool,
		BeforeDelete: c.beforeDeletePool,
		Load:         c.loadPools,
	})
	t.Init()
	res.MemberActions = map[string]api.MemberAction{}
	if prefixOps { // subnetpool-prefix-ops
		res.MemberActions["add_prefixes"], res.MemberActions["remove_prefixes"] = c.addPrefixes, c.removePrefixes
	}
	res.Backend = poolBackend{t}
	c.pools = t
	env.AddResource(res, t)
}

func (c *Component) beforeCreatePool(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	sp, err := readPool(obj)
	if err != nil {
		return err
	}
	isDefault := obj["is_default"] == true
	if isDefault {
		if err := checkDefault(ctx, tx, sp.version, ""); err != nil {
			return err
		}
	}
	if err := c.validateScope(ctx, tx, sp, obj["id"].(string)); err != nil {
		return err
	}
	obj["ip_version"] = int64(sp.version)
	obj["default_prefixlen"], obj["min_prefixlen"], obj["max_prefixlen"] = sp.def, sp.min, sp.max
	obj["default_quota"] = sp.quota
	obj["address_scope_id"] = nil
	if sp.scope != "" {
		obj["address_scope_id"] = sp.scope
	}
	obj["default_version"] = nil
	if isDefault {
		obj["default_version"] = int64(sp.version)
	}
	op.Set(poolSpecKey{}, sp)
	return nil
}

func (c *Component) afterCreatePool(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	sp := op.Value(poolSpecKey{}).(*poolSpec)
	id := obj["id"].(string)
	if err := writePrefixes(ctx, tx, id, sp.prefixes); err != nil {
		return err
	}
	if obj["shared"] == true {
		return addSharedRBAC(ctx, tx, "subnetpool", id, obj["project_id"])
	}
	return nil
}

func writePrefixes(ctx context.Context, tx *db.Tx, id string, nets []netaddr.Net) error {
	if _, err := tx.Exec(ctx, "DELETE FROM subnetpoolprefixes WHERE subnetpool_id = ?", id); err != nil {
		return err
	}
	for _, n := range nets {
		if _, err := tx.Exec(ctx, "INSERT INTO subnetpoolprefixes (subnetpool_id, cidr) VALUES (?, ?)", id, n.String()); err != nil {
			return err
		}
	}
	return nil
}

func checkDefault(ctx context.Context, tx *db.Tx, version int, exclude string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM subnetpools WHERE default_version = ? AND id <> ?", version, exclude).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return defaultExists()
	}
	return nil
}

// validateScope is _validate_address_scope_id: the scope exists and is
// visible, has the pool's IP version, re-scoping keeps networks' subnets
// in one scope, and no other pool of the scope overlaps the prefixes. The
// scope row is locked so that concurrent associations are serialized.
func (c *Component) validateScope(ctx context.Context, tx *db.Tx, sp *poolSpec, poolID string) error {
	if sp.scope == "" {
		return nil
	}
	scope, err := c.scopes.GetTx(ctx, tx, sp.scope, true)
	if err != nil {
		return err
	}
	if v := intOf(scope["ip_version"]); v != int64(sp.version) {
		return nerr.Typed(http.StatusBadRequest, "IllegalSubnetPoolIpVersionAssociationToAddressScope",
			"Illegal subnetpool association: subnetpool %s cannot associate with address scope %s because subnetpool ip_version is not %d.",
			poolID, sp.scope, v)
	}
	if err := c.checkScopeAffinity(ctx, tx, poolID, sp.version); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, "SELECT p.subnetpool_id, p.cidr FROM subnetpoolprefixes p JOIN subnetpools s ON s.id = p.subnetpool_id WHERE s.address_scope_id = ? AND s.id <> ?"+shareLock(tx), sp.scope, poolID)
	if err != nil {
		return err
	}
	defer rows.Close()
	mine := netaddr.NewSet(sp.version, sp.prefixes...)
	for rows.Next() {
		var pid, cidr string
		if err := rows.Scan(&pid, &cidr); err != nil {
			return err
		}
		n, err := netaddr.ParseNet(cidr)
		if err != nil || n.Version() != sp.version {
			continue
		}
		if mine.Intersects(netaddr.NewSet(sp.version, n)) {
			return nerr.Conflict("AddressScopePrefixConflict", "Failed to associate address scope: subnetpools within an address scope must have unique prefixes.")
		}
	}
	return rows.Err()
}

// checkScopeAffinity is _check_subnetpool_address_scope_network_affinity:
// the networks using the pool must have all their subnets of that IP
// version from the pool.
func (c *Component) checkScopeAffinity(ctx context.Context, tx *db.Tx, poolID string, version int) error {
	sc := c.subnets
	if sc == nil {
		return nil
	}
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+sc.table+" s WHERE s."+sc.version+" = ? AND (s."+sc.pool+" IS NULL OR s."+sc.pool+" <> ?) AND s."+sc.network+
		" IN (SELECT x."+sc.network+" FROM "+sc.table+" x WHERE x."+sc.pool+" = ?)", version, poolID, poolID).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return nerr.Typed(http.StatusBadRequest, "NetworkAddressScopeAffinityError", "Subnets of the same address family hosted on the same network must all participate in the same address scope.")
	}
	return nil
}

func (c *Component) beforeUpdatePool(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	id := old["id"].(string)
	merged := api.Object{}
	for _, k := range []string{"default_prefixlen", "min_prefixlen", "max_prefixlen", "default_quota", "address_scope_id", "is_default"} {
		merged[k] = old[k]
		if v, ok := ch[k]; ok {
			merged[k] = v
		}
	}
	oldNets, _ := parsePrefixes(old["prefixes"].([]any))
	version := int(intOf(old["ip_version"]))
	merged["prefixes"] = old["prefixes"]
	newPrefixes := false
	if raw, ok := ch["prefixes"]; ok {
		list, _ := raw.([]any)
		nets, err := parsePrefixes(list)
		if err != nil {
			return err
		}
		var same []netaddr.Net
		for _, n := range nets {
			if n.Version() == version {
				same = append(same, n)
			}
		}
		if !netaddr.NewSet(version, oldNets...).SubsetOf(netaddr.NewSet(version, same...)) {
			return illegalPrefixUpdate("Existing prefixes must be a subset of the new prefixes")
		}
		merged["prefixes"] = list
		newPrefixes = true
	}
	sp, err := readPool(merged)
	if err != nil {
		return err
	}
	isDefault := merged["is_default"] == true
	if isDefault && old["is_default"] != true {
		if err := checkDefault(ctx, tx, sp.version, id); err != nil {
			return err
		}
	}
	if oldScope := str(old["address_scope_id"]); oldScope != "" {
		scope, err := c.scopes.GetTx(ctx, tx, oldScope, false)
		if err != nil {
			return err
		}
		if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin && scope["project_id"] != rc.ProjectID {
			return nerr.Typed(http.StatusBadRequest, "IllegalSubnetPoolUpdate", "Illegal subnetpool update : %s.",
				fmt.Sprintf("subnetpool %s cannot be updated when associated with shared address scope %s", id, oldScope))
		}
	}
	if err := c.validateScope(ctx, tx, sp, id); err != nil {
		return err
	}
	ch["default_prefixlen"], ch["min_prefixlen"], ch["max_prefixlen"] = sp.def, sp.min, sp.max
	if _, ok := ch["address_scope_id"]; ok && sp.scope == "" {
		ch["address_scope_id"] = nil
	}
	ch["default_version"] = nil
	if isDefault {
		ch["default_version"] = int64(sp.version)
	}
	delete(ch, "prefixes")
	if newPrefixes {
		op.Set(poolSpecKey{}, sp)
	}
	return nil
}

func (c *Component) afterUpdatePool(op *store.Op) error {
	ctx, tx, old := op.Ctx, op.Tx, op.Old
	sp, ok := op.Value(poolSpecKey{}).(*poolSpec)
	if !ok {
		return nil
	}
	return writePrefixes(ctx, tx, old["id"].(string), sp.prefixes)
}

func (c *Component) beforeDeletePool(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	id := obj["id"].(string)
	if sc := c.subnets; sc != nil {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+sc.table+" WHERE "+sc.pool+" = ?", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nerr.Typed(http.StatusBadRequest, "SubnetPoolDeleteError", "Unable to delete subnet pool: %s.", "Subnet pool has existing allocations")
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM subnetpoolprefixes WHERE subnetpool_id = ?", id); err != nil {
		return err
	}
	return deleteRBAC(ctx, tx, "subnetpool", id)
}

func (c *Component) loadPools(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	prefixes := map[string][]string{}
	err := store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnetpool_id, cidr FROM subnetpoolprefixes WHERE subnetpool_id IN ("+ph+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, cidr string
			if err := rows.Scan(&id, &cidr); err != nil {
				return err
			}
			prefixes[id] = append(prefixes[id], cidr)
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for id, o := range byID {
		ps := prefixes[id]
		// Neutron reads them in the (MySQL) primary key order
		sort.Strings(ps)
		list := make([]any, len(ps))
		for i, p := range ps {
			list[i] = p
		}
		o["prefixes"] = list
		for _, k := range []string{"default_prefixlen", "min_prefixlen", "max_prefixlen"} {
			o[k] = strconv.FormatInt(intOf(o[k]), 10)
		}
	}
	return loadShared(ctx, q, "subnetpool", objs)
}

// ---- member actions (subnetpool-prefix-ops) ----

func actionPrefixes(body map[string]any) ([]any, error) {
	list, ok := body["prefixes"].([]any)
	if body == nil || !ok || len(list) == 0 {
		return nil, nerr.HTTPBadRequest("Request body contains invalid data")
	}
	return list, nil
}

func (c *Component) addPrefixes(ctx context.Context, r *api.Resource, id string, body map[string]any) (any, error) {
	add, err := actionPrefixes(body)
	if err != nil {
		return nil, err
	}
	var out []any
	err = c.env.DB.Write(ctx, func(tx *db.Tx) error {
		pool, err := c.pools.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		all := append(append([]any{}, pool["prefixes"].([]any)...), add...)
		if err := c.pools.UpdateTx(ctx, tx, id, api.Object{"prefixes": all}, nil); err != nil {
			return err
		}
		nets, err := parsePrefixes(all)
		if err != nil {
			return err
		}
		out = netStrings(netaddr.Compact(nets[0].Version(), nets))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"prefixes": out}, nil
}

func (c *Component) removePrefixes(ctx context.Context, r *api.Resource, id string, body map[string]any) (any, error) {
	remove, err := actionPrefixes(body)
	if err != nil {
		return nil, err
	}
	removeNets, err := parsePrefixes(remove)
	if err != nil {
		return nil, err
	}
	var out []any
	err = c.env.DB.Write(ctx, func(tx *db.Tx) error {
		pool, err := c.pools.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		current := pool["prefixes"].([]any)
		nets, _ := parsePrefixes(current)
		version := int(intOf(pool["ip_version"]))
		all := netaddr.NewSet(version, nets...)
		var same []netaddr.Net
		for _, n := range removeNets {
			if n.Version() == version {
				same = append(same, n)
			}
		}
		removal := netaddr.NewSet(version, same...)
		if !all.Intersects(removal) {
			out = current
			return nil
		}
		allocated, err := c.allocatedSet(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if allocated.Intersects(removal) {
			return illegalPrefixUpdate("One or more the prefixes to be removed is in use by a subnet.")
		}
		left := all.Difference(removal).CIDRs()
		out = netStrings(left)
		return writePrefixes(ctx, tx, id, left)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"prefixes": out}, nil
}
