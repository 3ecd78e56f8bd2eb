package ml2

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// AZValidator checks availability_zone_hints of a resource ("network",
// "router") against the zones the deployment's agents offer; the
// availability zone component (internal/az) installs it.
type AZValidator func(ctx context.Context, q db.Querier, resource string, hints []any) error

type azKey struct{}

// SetAZValidator installs the availability zone check.
func (p *Plugin) SetAZValidator(f AZValidator) { p.env.Set(azKey{}, f) }

// validateAZHints runs the installed check; without one no zone exists.
func (p *Plugin) validateAZHints(ctx context.Context, q db.Querier, hints []any) error {
	if len(hints) == 0 {
		return nil
	}
	if f, ok := p.env.Value(azKey{}).(AZValidator); ok {
		return f(ctx, q, "network", hints)
	}
	return nerr.NotFound("AvailabilityZoneNotFound", "AvailabilityZone %s could not be found.", api.PyStr(hints[0]))
}
