package keystone

import (
	"context"
	"fmt"
	"sync"
)

// flightGroup makes concurrent validations of one token share a single
// Keystone call (a minimal singleflight).
type flightGroup struct {
	mu sync.Mutex
	m  map[negKey]*flight
}

type flight struct {
	done chan struct{}
	id   *Identity
	err  error
}

// do runs fn once for all concurrent callers with the same key. fn gets a
// context that is not cancelled when the first caller goes away (the HTTP
// client's timeout bounds it); each caller stops waiting when its own ctx
// ends.
func (g *flightGroup) do(ctx context.Context, key negKey, fn func(context.Context) (*Identity, error)) (*Identity, error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[negKey]*flight)
	}
	f, ok := g.m[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		g.m[key] = f
		go func() {
			defer func() {
				if r := recover(); r != nil {
					f.err = fmt.Errorf("%w: panic: %v", ErrUnavailable, r)
				}
				g.mu.Lock()
				delete(g.m, key)
				g.mu.Unlock()
				close(f.done)
			}()
			f.id, f.err = fn(context.WithoutCancel(ctx))
		}()
	}
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.id, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}
