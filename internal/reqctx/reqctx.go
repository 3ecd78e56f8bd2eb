// Package reqctx holds the per-request security and tracing context, the Go
// counterpart of neutron_lib.context.Context: who is calling (user, project,
// domain, roles, system scope) and what that makes them (admin, advsvc).
package reqctx

import (
	"context"
	"slices"
)

// Context is the caller of one API request.
type Context struct {
	RequestID string

	UserID          string
	UserName        string
	UserDomainID    string
	ProjectID       string
	ProjectName     string
	ProjectDomainID string
	DomainID        string // domain scope, if the token is domain scoped
	SystemScope     string // "all" for system-scoped tokens, else ""
	Roles           []string

	// IsAdmin is true when the caller passes the "context_is_admin" policy
	// (or always, under auth_strategy=noauth).
	IsAdmin bool
	// IsAdvsvc is true when the caller passes the "context_is_advsvc" policy.
	IsAdvsvc bool

	// AuthToken is the caller's token (keystone auth only).
	AuthToken string
	// ServiceRoles are the roles carried by a valid X-Service-Token, if any.
	ServiceRoles []string
	// ServiceUserID/ServiceProjectID identify the X-Service-Token's owner.
	ServiceUserID    string
	ServiceProjectID string
}

// HasRole reports whether the caller holds role (case-insensitive, as
// oslo.policy compares roles).
func (c *Context) HasRole(role string) bool {
	return slices.ContainsFunc(c.Roles, func(r string) bool { return equalFold(r, role) })
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Elevated returns a copy of c with admin rights, as neutron's
// context.elevated() does for internal operations.
func (c *Context) Elevated() *Context {
	cp := *c
	cp.IsAdmin = true
	if !cp.HasRole("admin") {
		cp.Roles = append(slices.Clone(cp.Roles), "admin")
	}
	return &cp
}

type key struct{}

// With returns a copy of ctx carrying c.
func With(ctx context.Context, c *Context) context.Context {
	return context.WithValue(ctx, key{}, c)
}

// From returns the Context stored in ctx, or nil.
func From(ctx context.Context) *Context {
	c, _ := ctx.Value(key{}).(*Context)
	return c
}
