// Package policy is neutrino's authorization engine: an oslo.policy
// compatible rule language and enforcer, Neutron's own checks (OwnerCheck,
// FieldCheck, _build_match_rule) and the in-code default rules of Neutron
// Zed (21.2.1), overridable by policy.yaml and policy.d files.
package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Options are the [oslo_policy] settings.
type Options struct {
	// PolicyFile is policy_file; "" means Neutron's default "policy.yaml"
	// (or "policy.json" if only that one exists). A relative path is taken
	// relative to ConfigDir. A missing file is ignored, as oslo does.
	PolicyFile string
	// PolicyDirs is policy_dirs; nil means oslo's default ["policy.d"]
	// (pass an empty slice for none). Relative paths are taken relative
	// to ConfigDir, missing directories are skipped, and every
	// *.yaml/*.yml/*.json file in a directory is applied in sorted order.
	PolicyDirs []string
	// ConfigDir is the directory of neutron.conf.
	ConfigDir string
	// EnforceNewDefaults is enforce_new_defaults: when false (the Zed
	// default) a rule with a deprecated default that is not overridden
	// evaluates as "(new) or (deprecated)", and an admin context passes
	// Authorize/Enforce without any rule being evaluated, as in Neutron.
	EnforceNewDefaults bool
	// EnforceScope is enforce_scope: when true a token whose scope
	// (system, domain or project) is not among the checked rule's scope
	// types is refused.
	EnforceScope bool
}

// RuleDefault is one rule registered in code (oslo's RuleDefault /
// DocumentedRuleDefault).
type RuleDefault struct {
	Name  string
	Check string // the new default check string
	// Deprecated is the deprecated rule's check string, "" if none.
	Deprecated      string
	DeprecatedSince string
	ScopeTypes      []string
	Description     string
	Operations      []Operation
}

// Operation is one API call a rule protects.
type Operation struct {
	Method, Path string
}

// Defaults returns a copy of the Neutron Zed in-code rules, in Neutron's
// registration order.
func Defaults() []RuleDefault {
	out := slices.Clone(neutronDefaults)
	for i := range out {
		out[i].ScopeTypes = slices.Clone(out[i].ScopeTypes)
		out[i].Operations = slices.Clone(out[i].Operations)
	}
	return out
}

// Resolver fetches an attribute of a parent resource for the checks that
// need it; Neutron loads it with an admin context through the plugin.
//
//   - "tenant_id:%(network:tenant_id)s" calls r("network", "tenant_id",
//     target) with the network's id in target["network_id"];
//     "%(security_group:tenant_id)s" calls r("security_group", ...) with
//     target["security_group_id"]; "%(ext_parent:tenant_id)s" calls
//     r(RES, "tenant_id", target) for the first RES of floatingip, router,
//     local_ip, policy whose id is in target["ext_parent_"+RES+"_id"].
//     The value is cached into target["network:tenant_id"] (etc.).
//   - "field:networks:shared=True" on a target without "shared" (a port,
//     a subnet) calls r("network", "shared", target) with
//     target["network_id"]; Neutron computes shared as seen by
//     target["project_id"].
//
// An error makes the check fail closed and is returned to the caller.
type Resolver func(ctx context.Context, resource, field string, target map[string]any) (any, error)

// Enforcer evaluates Neutron's policy rules. It is safe for concurrent
// use; rules are compiled once, by New.
type Enforcer struct {
	opts       Options
	rules      map[string]*ruleEntry
	order      []*ruleEntry // registration order, then file-only rules by name
	registered map[string]*RuleDefault
	defRule    *ruleEntry // the "default" rule, for names with no rule
	resolver   atomic.Pointer[Resolver]
}

// ruleEntry is one effective rule.
type ruleEntry struct {
	name  string
	check *node
	text  string // effective check string
}

// New loads Neutron's defaults and the configured overrides. An override
// replaces the default check string of its rule (no deprecated fallback for
// it, as in oslo); rules only present in files are added. A file that does
// not parse, or a check string with a syntax error, is an error naming the
// file and the rule.
func New(o Options) (*Enforcer, error) {
	files, err := loadOverrides(o)
	if err != nil {
		return nil, err
	}
	e := &Enforcer{
		opts:       o,
		rules:      make(map[string]*ruleEntry, len(neutronDefaults)+len(files)),
		registered: make(map[string]*RuleDefault, len(neutronDefaults)),
	}
	add := func(name, text string) error {
		n, err := parseRule(text)
		if err != nil {
			return err
		}
		r := &ruleEntry{name: name, check: n, text: text}
		e.rules[name] = r
		e.order = append(e.order, r)
		return nil
	}
	for i := range neutronDefaults {
		d := &neutronDefaults[i]
		e.registered[d.Name] = d
		if f, ok := files[d.Name]; ok {
			if err := add(d.Name, f.check); err != nil {
				return nil, fmt.Errorf("policy: %s: rule %q: %w", f.source, d.Name, err)
			}
			continue
		}
		if err := add(d.Name, d.Check); err != nil {
			return nil, fmt.Errorf("policy: default rule %q: %w", d.Name, err)
		}
		if d.Deprecated == "" || d.Deprecated == d.Check || o.EnforceNewDefaults {
			continue
		}
		// oslo's _handle_deprecated_rule: OrCheck([new, deprecated]).
		old, err := parseRule(d.Deprecated)
		if err != nil {
			return nil, fmt.Errorf("policy: deprecated default of rule %q: %w", d.Name, err)
		}
		r := e.rules[d.Name]
		r.check = &node{op: opOr, kids: []*node{r.check, old}}
		r.text = "(" + orAlways(d.Check) + ") or (" + orAlways(d.Deprecated) + ")"
	}
	extra := make([]string, 0, len(files))
	for name := range files {
		if _, ok := e.registered[name]; !ok {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		f := files[name]
		if err := add(name, f.check); err != nil {
			return nil, fmt.Errorf("policy: %s: rule %q: %w", f.source, name, err)
		}
	}

	// Link rule:NAME references. A name with no rule falls back to the
	// "default" rule, as oslo's Rules.__missing__ does with
	// policy_default_rule = "default".
	e.defRule = e.rules["default"]
	for _, r := range e.order {
		r.check.walk(func(n *node) {
			if n.op == opRule {
				n.ref = e.lookup(n.match)
			}
		})
	}
	return e, nil
}

// orAlways spells the empty (always true) rule as "@" so that it can be
// put in parentheses.
func orAlways(s string) string {
	if strings.TrimSpace(s) == "" {
		return "@"
	}
	return s
}

// lookup is oslo's rules[name]: the rule, else the "default" rule.
func (e *Enforcer) lookup(name string) *ruleEntry {
	if r, ok := e.rules[name]; ok {
		return r
	}
	return e.defRule
}

// SetResolver installs the parent-resource lookup used by OwnerCheck and
// FieldCheck. Without one, checks that need it fail closed with an error.
func (e *Enforcer) SetResolver(r Resolver) {
	e.resolver.Store(&r)
}

// HasRule reports whether a rule with this name is registered or defined
// in a policy file (no "default" fallback).
func (e *Enforcer) HasRule(name string) bool {
	_, ok := e.rules[name]
	return ok
}

var anonymous = &reqctx.Context{}

// Enforce is Neutron's policy.check for a single rule: it reports whether
// the caller may perform action on target. The rule named action is
// evaluated; an action with no rule uses the "default" rule (Neutron Zed
// registers "default" as "rule:admin_or_owner"). Unless EnforceNewDefaults
// is set, an admin context passes without evaluation, as in Neutron.
// A scope mismatch under EnforceScope, or a Resolver error, gives false.
//
// Use it for attribute visibility ("get_network:provider:network_type"):
// Neutron shows an attribute that has no rule at all, so check
// !e.HasRule(name) || e.Enforce(name, ...). The target may be extended
// with values looked up through the Resolver.
func (e *Enforcer) Enforce(action string, target map[string]any, c *reqctx.Context) bool {
	ok, _ := e.Check(action, target, c)
	return ok
}

// Check is Enforce, also returning the error (from the Resolver) that made
// a check fail.
func (e *Enforcer) Check(action string, target map[string]any, c *reqctx.Context) (bool, error) {
	return e.CheckCtx(context.Background(), action, target, c)
}

// CheckCtx is Check for a request: the Resolver reads with ctx.
func (e *Enforcer) CheckCtx(ctx context.Context, action string, target map[string]any, c *reqctx.Context) (bool, error) {
	if c == nil {
		c = anonymous
	}
	if !e.opts.EnforceNewDefaults && c.IsAdmin {
		return true, nil
	}
	if e.scopeMismatch(action, c) != "" {
		return false, nil
	}
	if target == nil {
		target = map[string]any{}
	}
	st := state{ctx: ctx, e: e, target: target, c: c}
	ok := st.evalRule(e.lookup(action))
	return ok && st.err == nil, st.err
}

// tokenScope is how oslo classifies the token behind c.
func tokenScope(c *reqctx.Context) string {
	switch {
	case c.SystemScope != "":
		return "system"
	case c.DomainID != "":
		return "domain"
	}
	return "project"
}

// scopeMismatch returns the token scope when EnforceScope is on and the
// registered rule for action has scope types that exclude it, else "".
func (e *Enforcer) scopeMismatch(action string, c *reqctx.Context) string {
	if !e.opts.EnforceScope {
		return ""
	}
	d, ok := e.registered[action]
	if !ok || len(d.ScopeTypes) == 0 {
		return ""
	}
	ts := tokenScope(c)
	if slices.Contains(d.ScopeTypes, ts) {
		return ""
	}
	return ts
}

// Authorize is Neutron's policy.enforce for an API request: target is the
// resource as the rules see it (for create, the request body with defaults
// filled in plus project_id/tenant_id; for update, the stored resource
// merged with the update; the target may be extended by the Resolver),
// body holds the attributes the request sets, and enforced tells which of
// them carry enforce_policy in the attribute map.
//
// Beyond the action's rule, every enforced attribute in body adds the
// "ACTION:ATTR" rule (see AuthorizeAttrs for the exact construction). Body
// must hold only attributes explicitly set: on create, leave out those
// equal to the attribute map default (or use AuthorizeAttrs, which does
// that). A dict value adds "ACTION:ATTR:KEY" for each of its keys that has
// a rule. Attributes are taken in name order (Neutron uses attribute map
// order, which only shows in the message). For "get_*" and "delete_*"
// actions only the action's rule is checked.
//
// It returns nil or a *NotAuthorized.
func (e *Enforcer) Authorize(action string, target, body map[string]any, enforced func(attr string) bool, c *reqctx.Context) error {
	var attrs []Attr
	if enforced != nil {
		for _, name := range sortedKeys(body) {
			if !enforced(name) {
				continue
			}
			a := Attr{Name: name, EnforcePolicy: true}
			if d, ok := body[name].(map[string]any); ok {
				for _, k := range sortedKeys(d) {
					if e.HasRule(action + ":" + name + ":" + k) {
						a.DictKeys = append(a.DictKeys, k)
					}
				}
			}
			attrs = append(attrs, a)
		}
	}
	return e.AuthorizeAttrs(action, target, body, attrs, c)
}

// AuthorizeAttrs is Authorize with Neutron's own view of the resource's
// attribute map (attrs, in attribute map order), reproducing
// _build_match_rule exactly: an attribute counts when it is in body and,
// except for "update_*" actions, differs from its default; with
// EnforcePolicy it adds the "ACTION:ATTR" rule, ANDed with
// "ACTION:ATTR:KEY" for each DictKeys key present in the value, and with
// "ACTION:ATTR:KEY" for each key of each dict in a list value (fixed_ips,
// allowed_address_pairs). Rules that do not exist fall back to "default".
//
// As in Neutron (oslo.policy 4.0 only scope-checks the top Check), scope
// types are enforced only when no attribute rule was added.
func (e *Enforcer) AuthorizeAttrs(action string, target, body map[string]any, attrs []Attr, c *reqctx.Context) error {
	return e.AuthorizeAttrsCtx(context.Background(), action, target, body, attrs, c)
}

// AuthorizeAttrsCtx is AuthorizeAttrs for a request: the Resolver reads
// with ctx.
func (e *Enforcer) AuthorizeAttrsCtx(ctx context.Context, action string, target, body map[string]any, attrs []Attr, c *reqctx.Context) error {
	if c == nil {
		c = anonymous
	}
	if !e.opts.EnforceNewDefaults && c.IsAdmin {
		return nil
	}
	m := buildMatch(action, body, attrs)
	if !m.isAnd {
		if ts := e.scopeMismatch(action, c); ts != "" {
			return &NotAuthorized{Action: action, Rule: m.String(), TokenScope: ts,
				ScopeTypes: slices.Clone(e.registered[action].ScopeTypes)}
		}
	}
	if target == nil {
		target = map[string]any{}
	}
	st := state{ctx: ctx, e: e, target: target, c: c}
	if st.evalMatch(m) && st.err == nil {
		return nil
	}
	return &NotAuthorized{Action: action, Rule: m.String(), Err: st.err}
}

// CheckIsAdmin is neutron-lib's check_is_admin: the "context_is_admin"
// rule evaluated with the caller's credentials as both target and
// credentials. It ignores c.IsAdmin (it is what computes it).
func (e *Enforcer) CheckIsAdmin(c *reqctx.Context) bool {
	return e.checkRole("context_is_admin", c)
}

// CheckIsAdvsvc is neutron-lib's check_is_advsvc ("context_is_advsvc").
func (e *Enforcer) CheckIsAdvsvc(c *reqctx.Context) bool {
	return e.checkRole("context_is_advsvc", c)
}

func (e *Enforcer) checkRole(name string, c *reqctx.Context) bool {
	if c == nil {
		c = anonymous
	}
	r, ok := e.rules[name]
	if !ok {
		return false
	}
	st := state{e: e, target: credsMap(c), c: c}
	return st.evalRule(r) && st.err == nil
}

// WriteEffective writes every rule with its effective check string, like
// oslopolicy-policy-generator: overrides applied and, unless
// EnforceNewDefaults, deprecated defaults folded in as
// "(new) or (deprecated)". Rules come in Neutron's registration order,
// then rules only defined in files, by name. format is "yaml" (or "") or
// "json"; the output is itself a valid policy file.
func (e *Enforcer) WriteEffective(w io.Writer, format string) error {
	var b strings.Builder
	switch format {
	case "", "yaml":
		for _, r := range e.order {
			b.WriteString(jsonString(r.name) + ": " + jsonString(r.text) + "\n")
		}
	case "json":
		b.WriteString("{\n")
		for i, r := range e.order {
			b.WriteString("    " + jsonString(r.name) + ": " + jsonString(r.text))
			if i < len(e.order)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("}\n")
	default:
		return fmt.Errorf("policy: unknown output format %q (want yaml or json)", format)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonString quotes s as a JSON string, which is also a valid YAML
// double-quoted scalar.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
