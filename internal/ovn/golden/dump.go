package golden

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// Dump is a normalised database: table -> rows sorted by their key. A row maps column names to
// values, plus "_key": the row's key. Empty strings, sets and maps are left out; set columns are
// sorted lists; a reference to another row is "@<Table>:<key>".
type Dump map[string][]map[string]any

// ignored lists columns and option keys that OVN itself writes or that change with time.
var ignored = map[string]bool{
	"NB_Global.nb_cfg": true, "NB_Global.sb_cfg": true, "NB_Global.hv_cfg": true,
	"NB_Global.nb_cfg_timestamp": true, "NB_Global.sb_cfg_timestamp": true, "NB_Global.hv_cfg_timestamp": true,
	"NB_Global.options.mac_prefix": true, "NB_Global.options.svc_monitor_mac": true,
	"NB_Global.options.max_tunid": true, "NB_Global.options.northd_internal_version": true,
}

// masked lists map keys whose values change from run to run: the key is kept, the value replaced.
var masked = map[string]string{
	"NB_Global.external_ids.neutron:liveness_check_at": "<time>",
}

// unordered are external_ids keys holding space-separated sets whose order Neutron does not keep
// (a port's security groups come in any order): their words are sorted.
var unordered = map[string]bool{"neutron:security_group_ids": true, "neutron:subnet_ids": true}

// racy reports rows whose neutron:revision_number depends on timing inside the reference: a router's
// gateway port is written with whatever revision the port has reached while the L3 plugin is still
// updating it (1 or 4 in two recordings), and is not rewritten afterwards.
func racy(table string, row map[string]any) bool {
	k, _ := row["_key"].(string)
	return (table == "Logical_Switch_Port" && strings.HasPrefix(k, "{{rgw-")) ||
		(table == "Logical_Router_Port" && strings.HasPrefix(k, "lrp-{{rgw-"))
}

// DumpNB reads every table of the Northbound database in one transaction and normalises it.
func DumpNB(ctx context.Context, c *ovn.Client, syms *Symbols) (Dump, error) {
	schema := nbdb.Schema()
	names := make([]string, 0, len(schema.Tables))
	for n := range schema.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	ops := make([]ovsdb.Operation, len(names))
	for i, n := range names {
		ops[i] = ovsdb.Operation{Op: ovsdb.OperationSelect, Table: n, Where: []ovsdb.Condition{}}
	}
	res, err := c.Transact(ctx, ops...)
	if err != nil {
		return nil, err
	}
	raw := map[string][]ovsdb.Row{}
	for i, n := range names {
		raw[n] = res[i].Rows
	}
	return normalize(schema, raw, syms), nil
}

// normalize turns raw rows into a Dump: first every row gets its key (so references can be
// resolved), then the columns are converted.
func normalize(schema ovsdb.DatabaseSchema, raw map[string][]ovsdb.Row, syms *Symbols) Dump {
	refs := map[string]string{} // row UUID -> "@Table:key"
	keys := map[string][]string{}
	for table, rows := range raw {
		taken := map[string]int{}
		order := make([]int, len(rows))
		for i := range rows {
			order[i] = i
		}
		// stable keys for identical descriptions: order by content
		sort.Slice(order, func(a, b int) bool {
			return syms.Normalize(canon(rows[order[a]])) < syms.Normalize(canon(rows[order[b]]))
		})
		keys[table] = make([]string, len(rows))
		for _, i := range order {
			k := rowKey(table, rows[i], syms)
			taken[k]++
			if taken[k] > 1 {
				k = fmt.Sprintf("%s#%d", k, taken[k])
			}
			keys[table][i] = k
			if u, ok := rows[i]["_uuid"].(ovsdb.UUID); ok {
				refs[u.GoUUID] = "@" + table + ":" + k
			}
		}
	}
	out := Dump{}
	for table, rows := range raw {
		ts := schema.Tables[table]
		for i, r := range rows {
			row := map[string]any{"_key": keys[table][i]}
			for col, v := range r {
				if col == "_uuid" || col == "_version" || ignored[table+"."+col] {
					continue
				}
				cs := ts.Columns[col]
				if nv, ok := normValue(table+"."+col, cs, v, refs, syms); ok {
					row[col] = nv
				}
			}
			if ext, ok := row["external_ids"].(map[string]any); ok && racy(table, row) {
				if _, ok := ext["neutron:revision_number"]; ok {
					ext["neutron:revision_number"] = "<racy>"
				}
			}
			out[table] = append(out[table], row)
		}
		sort.Slice(out[table], func(a, b int) bool {
			return out[table][a]["_key"].(string) < out[table][b]["_key"].(string)
		})
	}
	return out
}

// rowKey describes a row by what identifies it to Neutron.
func rowKey(table string, r ovsdb.Row, syms *Symbols) string {
	ext := mapOf(r["external_ids"])
	s := func(col string) string { return syms.Normalize(fmt.Sprint(atom(r[col]))) }
	switch table {
	case "NB_Global":
		return "."
	case "ACL":
		if id := ext["neutron:security_group_rule_id"]; id != "" {
			return syms.Normalize(id)
		}
		return s("direction") + " " + s("priority") + " " + s("match")
	case "NAT":
		return s("type") + " " + s("external_ip") + " " + s("logical_ip")
	case "DHCP_Options":
		k := s("cidr") + " subnet=" + syms.Normalize(ext["subnet_id"])
		if p := ext["port_id"]; p != "" {
			k += " port=" + syms.Normalize(p)
		}
		return k
	case "Logical_Router_Static_Route":
		return s("ip_prefix") + " via " + s("nexthop")
	case "DNS":
		return "ls=" + syms.Normalize(ext["ls_name"])
	case "HA_Chassis":
		return s("chassis_name") + " " + s("priority")
	case "QoS", "Logical_Router_Policy":
		return s("direction") + " " + s("priority") + " " + s("match")
	}
	if n, ok := r["name"].(string); ok && n != "" {
		return syms.Normalize(n)
	}
	sum := sha256.Sum256([]byte(syms.Normalize(canon(r))))
	return fmt.Sprintf("%x", sum[:6])
}

// canon is a row's content without its identity and with references blanked (row UUIDs are
// random), for ordering and hashing.
func canon(r ovsdb.Row) string {
	blank := func(v any) any {
		if _, ok := v.(ovsdb.UUID); ok {
			return "ref"
		}
		return v
	}
	c := map[string]any{}
	for k, v := range r {
		if k == "_uuid" || k == "_version" {
			continue
		}
		switch t := v.(type) {
		case ovsdb.OvsSet:
			l := make([]any, len(t.GoSet))
			for i, e := range t.GoSet {
				l[i] = blank(e)
			}
			sortAny(l)
			c[k] = l
		case ovsdb.OvsMap:
			m := map[string]any{}
			for mk, e := range t.GoMap {
				m[fmt.Sprint(mk)] = blank(e)
			}
			c[k] = m
		default:
			c[k] = blank(v)
		}
	}
	b, _ := json.Marshal(c)
	return string(b)
}

func normValue(path string, cs *ovsdb.ColumnSchema, v any, refs map[string]string, syms *Symbols) (any, bool) {
	switch t := v.(type) {
	case ovsdb.OvsMap:
		m := map[string]any{}
		for k, e := range t.GoMap {
			ks := fmt.Sprint(atom(k))
			if ignored[path+"."+ks] {
				continue
			}
			if mv := masked[path+"."+ks]; mv != "" {
				m[ks] = mv
				continue
			}
			v := normAtom(e, refs, syms)
			if str, ok := v.(string); ok && unordered[ks] {
				words := strings.Fields(str)
				sort.Strings(words)
				v = strings.Join(words, " ")
			}
			m[syms.Normalize(ks)] = v
		}
		return m, len(m) > 0
	case ovsdb.OvsSet:
		l := make([]any, 0, len(t.GoSet))
		for _, e := range t.GoSet {
			l = append(l, normAtom(e, refs, syms))
		}
		sortAny(l)
		if len(l) == 1 && optional(cs) {
			return l[0], true
		}
		return l, len(l) > 0
	}
	a := normAtom(v, refs, syms)
	if s, ok := a.(string); ok && s == "" && !optional(cs) {
		return nil, false
	}
	if cs != nil && cs.Type == ovsdb.TypeSet && !optional(cs) {
		return []any{a}, true // a set of one element comes as the bare element
	}
	return a, true
}

// optional reports a column holding zero or one value (shown as the value itself when set).
func optional(cs *ovsdb.ColumnSchema) bool {
	return cs != nil && cs.Type == ovsdb.TypeSet && cs.TypeObj != nil && cs.TypeObj.Max() == 1
}

func normAtom(v any, refs map[string]string, syms *Symbols) any {
	switch t := v.(type) {
	case ovsdb.UUID:
		if r, ok := refs[t.GoUUID]; ok {
			return r
		}
		return "@?"
	case string:
		return syms.Normalize(t)
	case float64:
		if t == float64(int64(t)) {
			return int64(t)
		}
	}
	return v
}

func atom(v any) any {
	if u, ok := v.(ovsdb.UUID); ok {
		return u.GoUUID
	}
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		return int64(f)
	}
	return v
}

func mapOf(v any) map[string]string {
	m := map[string]string{}
	if om, ok := v.(ovsdb.OvsMap); ok {
		for k, e := range om.GoMap {
			m[fmt.Sprint(k)] = fmt.Sprint(e)
		}
	}
	return m
}

func sortAny(l []any) {
	sort.Slice(l, func(i, j int) bool { return fmt.Sprint(l[i]) < fmt.Sprint(l[j]) })
}

// JSON renders a dump with one table per block, two-space indentation, keys sorted.
func (d Dump) JSON() []byte {
	b, _ := json.MarshalIndent(d, "", "  ")
	return append(b, '\n')
}

// Equal reports whether two dumps are the same.
func (d Dump) Equal(o Dump) bool { return string(d.JSON()) == string(o.JSON()) }

// Tables lists the tables of a dump in order.
func (d Dump) Tables() []string {
	t := make([]string, 0, len(d))
	for k := range d {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

// Diff describes the rows that differ between two dumps, by table and key ("" when equal).
func Diff(want, got Dump) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, t := range append(want.Tables(), got.Tables()...) {
		if seen[t] {
			continue
		}
		seen[t] = true
		w, g := byKey(want[t]), byKey(got[t])
		for k, wr := range w {
			gr, ok := g[k]
			switch {
			case !ok:
				fmt.Fprintf(&b, "- %s %s: %s\n", t, k, wr)
			case gr != wr:
				fmt.Fprintf(&b, "~ %s %s:\n    want %s\n    got  %s\n", t, k, wr, gr)
			}
		}
		for k, gr := range g {
			if _, ok := w[k]; !ok {
				fmt.Fprintf(&b, "+ %s %s: %s\n", t, k, gr)
			}
		}
	}
	return b.String()
}

func byKey(rows []map[string]any) map[string]string {
	m := map[string]string{}
	for _, r := range rows {
		b, _ := json.Marshal(r)
		m[fmt.Sprint(r["_key"])] = string(b)
	}
	return m
}
