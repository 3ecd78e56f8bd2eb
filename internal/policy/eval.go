package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// maxDepth bounds rule:NAME indirections, so that a cycle in overrides
// ("a": "rule:b", "b": "rule:a") fails closed instead of recursing forever
// (oslo would die with RecursionError).
const maxDepth = 64

var errTooDeep = errors.New("policy: rule references nested too deeply (cycle?)")

// state is one evaluation: the credentials, the target and the first error
// a check ran into. Any error aborts the evaluation with false, as the
// exception raised by a Neutron check aborts oslo's enforce().
type state struct {
	ctx    context.Context
	e      *Enforcer
	target map[string]any
	// resolved holds parent attributes looked up during this evaluation
	// (neutron caches them into the target; targets here may be shared)
	resolved map[string]any
	c        *reqctx.Context
	err      error
	depth    int
}

func (st *state) fail(err error) bool {
	if st.err == nil {
		st.err = err
	}
	return false
}

// run evaluates n; any error makes the result false.
func (st *state) run(n *node) bool {
	ok := st.eval(n)
	return ok && st.err == nil
}

func (st *state) eval(n *node) bool {
	if st.err != nil {
		return false
	}
	switch n.op {
	case opTrue:
		return true
	case opFalse:
		return false
	case opNot:
		r := st.eval(n.kids[0])
		return st.err == nil && !r
	case opAnd:
		for _, k := range n.kids {
			if !st.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if st.eval(k) {
				return true
			}
			if st.err != nil {
				return false
			}
		}
		return false
	case opRule:
		return st.evalRule(n.ref)
	case opRole:
		m, ok := n.tmpl.render(st.target)
		if !ok {
			return false
		}
		return slices.ContainsFunc(st.c.Roles, func(r string) bool { return strings.EqualFold(r, m) })
	case opGeneric:
		m, ok := n.tmpl.render(st.target)
		if !ok {
			return false
		}
		if n.isLit {
			return m == n.lit
		}
		return credMatch(st.c, n, m)
	case opOwner:
		return st.owner(n.owner)
	case opField:
		return st.fieldMatch(n.field)
	}
	return false
}

func (st *state) evalRule(r *ruleEntry) bool {
	if r == nil {
		return false
	}
	if st.depth >= maxDepth {
		return st.fail(errTooDeep)
	}
	st.depth++
	ok := st.eval(r.check)
	st.depth--
	return ok
}

// credKey names one entry of the credentials dict oslo builds from a
// neutron_lib Context (to_policy_values plus oslo's "system" alias).
type credKey uint8

const (
	credUnknown credKey = iota
	credUserID
	credUserDomainID
	credSystemScope
	credSystem
	credDomainID
	credProjectID
	credProjectDomainID
	credRoles
	credIsAdminProject
	credServiceUserID
	credServiceUserDomainID
	credServiceProjectID
	credServiceProjectDomainID
	credServiceRoles
	credTenantID
	credIsAdmin
	credIsAdvsvc
	credUser
	credTenant
	credDomain
	credUserDomain
	credProjectDomain
	credTenantName
	credProjectName
	credUserName
)

var credNames = map[string]credKey{
	"user_id":                   credUserID,
	"user_domain_id":            credUserDomainID,
	"system_scope":              credSystemScope,
	"system":                    credSystem,
	"domain_id":                 credDomainID,
	"project_id":                credProjectID,
	"project_domain_id":         credProjectDomainID,
	"roles":                     credRoles,
	"is_admin_project":          credIsAdminProject,
	"service_user_id":           credServiceUserID,
	"service_user_domain_id":    credServiceUserDomainID,
	"service_project_id":        credServiceProjectID,
	"service_project_domain_id": credServiceProjectDomainID,
	"service_roles":             credServiceRoles,
	"tenant_id":                 credTenantID,
	"is_admin":                  credIsAdmin,
	"is_advsvc":                 credIsAdvsvc,
	"user":                      credUser,
	"tenant":                    credTenant,
	"domain":                    credDomain,
	"user_domain":               credUserDomain,
	"project_domain":            credProjectDomain,
	"tenant_name":               credTenantName,
	"project_name":              credProjectName,
	"user_name":                 credUserName,
}

func credKeyOf(name string) credKey { return credNames[name] }

// credString returns str() of a scalar credential; an unset ID is Python's
// None and prints as "None". ok is false when the key is not in the dict
// (unknown names, "system" without a system scope) or is a list.
func credString(c *reqctx.Context, k credKey) (s string, ok bool) {
	opt := func(v string) (string, bool) {
		if v == "" {
			return "None", true
		}
		return v, true
	}
	switch k {
	case credUserID, credUser:
		return opt(c.UserID)
	case credUserDomainID, credUserDomain:
		return opt(c.UserDomainID)
	case credSystemScope:
		return opt(c.SystemScope)
	case credSystem:
		if c.SystemScope == "" {
			return "", false
		}
		return c.SystemScope, true
	case credDomainID, credDomain:
		return opt(c.DomainID)
	case credProjectID, credTenantID, credTenant:
		return opt(c.ProjectID)
	case credProjectDomainID, credProjectDomain:
		return opt(c.ProjectDomainID)
	case credIsAdminProject:
		return "True", true
	case credServiceUserID:
		return opt(c.ServiceUserID)
	case credServiceProjectID:
		return opt(c.ServiceProjectID)
	case credServiceUserDomainID, credServiceProjectDomainID:
		return "None", true
	case credIsAdmin:
		return pyfmt.Bool(c.IsAdmin), true
	case credIsAdvsvc:
		return pyfmt.Bool(c.IsAdvsvc), true
	case credTenantName, credProjectName:
		return opt(c.ProjectName)
	case credUserName:
		return opt(c.UserName)
	}
	return "", false
}

// credMatch is GenericCheck._find_in_dict over the credentials: the LEFT
// path is walked from the credentials dict and the leaf's str() compared
// with match; a list matches if any element does.
func credMatch(c *reqctx.Context, n *node, match string) bool {
	if len(n.path) != 1 {
		// Every credential is a scalar or a list of strings, so a longer
		// path cannot resolve (oslo raises TypeError/KeyError).
		return false
	}
	switch n.cred {
	case credRoles:
		return slices.Contains(c.Roles, match)
	case credServiceRoles:
		return slices.Contains(c.ServiceRoles, match)
	}
	s, ok := credString(c, n.cred)
	return ok && s == match
}

// credsMap is the credentials dict itself, used as the target of
// check_is_admin/check_is_advsvc as neutron-lib does.
func credsMap(c *reqctx.Context) map[string]any {
	m := make(map[string]any, len(credNames)+1)
	for name, k := range credNames {
		switch k {
		case credRoles:
			m[name] = slices.Clone(c.Roles)
		case credServiceRoles:
			m[name] = slices.Clone(c.ServiceRoles)
		case credIsAdmin:
			m[name] = c.IsAdmin
		case credIsAdvsvc:
			m[name] = c.IsAdvsvc
		case credIsAdminProject:
			m[name] = true
		default:
			if s, ok := credString(c, k); ok {
				if s == "None" {
					m[name] = nil
				} else {
					m[name] = s
				}
			}
		}
	}
	return m
}

// template is the RIGHT side of a check: text with Python "%(key)s"
// substitutions from the target.
type template struct {
	parts []tpart
}

type tpart struct {
	lit  string
	key  string
	conv byte // 0 for literal text, else 's', 'r', 'd' or 'i'
}

// parseTemplate compiles Python %-formatting with a mapping argument. Only
// "%%" and "%(key)X" with X one of s, r, d, i are accepted; anything else
// would make Python raise at enforcement time and is reported here.
func parseTemplate(s string) (template, error) {
	var t template
	if !strings.Contains(s, "%") {
		if s != "" {
			t.parts = []tpart{{lit: s}}
		}
		return t, nil
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tpart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		i++
		if i < len(s) && s[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		if i >= len(s) || s[i] != '(' {
			return t, fmt.Errorf("%w: %q: only %%(key)s substitutions are supported", errSyntax, s)
		}
		// Python matches nested parentheses in the key.
		depth, start := 1, i+1
		j := start
		for ; j < len(s) && depth > 0; j++ {
			switch s[j] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		if depth != 0 || j >= len(s) {
			return t, fmt.Errorf("%w: %q: incomplete format", errSyntax, s)
		}
		key := s[start : j-1]
		switch c := s[j]; c {
		case 's', 'r', 'd', 'i':
			flush()
			t.parts = append(t.parts, tpart{key: key, conv: c})
		default:
			return t, fmt.Errorf("%w: %q: unsupported format character %q", errSyntax, s, c)
		}
		i = j
	}
	flush()
	return t, nil
}

// render substitutes the target into the template. ok is false when a key
// is missing (oslo's KeyError, which makes the check false).
func (t *template) render(target map[string]any) (string, bool) {
	switch len(t.parts) {
	case 0:
		return "", true
	case 1:
		p := &t.parts[0]
		if p.conv == 0 {
			return p.lit, true
		}
		v, ok := lookupTarget(target, p.key)
		if !ok {
			return "", false
		}
		if s, isStr := v.(string); isStr && p.conv == 's' {
			return s, true
		}
		return formatValue(v, p.conv)
	}
	var b strings.Builder
	for i := range t.parts {
		p := &t.parts[i]
		if p.conv == 0 {
			b.WriteString(p.lit)
			continue
		}
		v, ok := lookupTarget(target, p.key)
		if !ok {
			return "", false
		}
		s, ok := formatValue(v, p.conv)
		if !ok {
			return "", false
		}
		b.WriteString(s)
	}
	return b.String(), true
}

func formatValue(v any, conv byte) (string, bool) {
	switch conv {
	case 'r':
		return pyfmt.ReprJSON(v), true
	case 'd', 'i':
		f, ok := pyfmt.Number(v)
		if !ok {
			return "", false
		}
		return strconv.FormatFloat(math.Trunc(f), 'f', 0, 64), true
	}
	return pyfmt.StrJSON(v), true
}

// lookupTarget finds key in the target: first as-is (oslo), then, for a
// dotted key such as "target.project.id", by walking nested maps.
func lookupTarget(target map[string]any, key string) (any, bool) {
	if v, ok := target[key]; ok {
		return v, true
	}
	if !strings.Contains(key, ".") {
		return nil, false
	}
	var cur any = target
	for seg := range strings.SplitSeq(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}
