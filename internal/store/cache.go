package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// versionCache keeps values read from the database, each tagged with the
// database change version it was read at; an entry is only served while that
// version is still current, so it is never stale. It holds at most max
// bytes (as sizeOf estimates them), a single entry at most a quarter of
// that, and is emptied when full. Cached values are shared: callers copy
// before they modify.
type versionCache[T any] struct {
	mu           sync.Mutex
	entries      map[string]versioned[T]
	units, max   int
	hits, misses atomic.Int64
}

type versioned[T any] struct {
	ver   uint64
	val   T
	units int
}

func (c *versionCache[T]) get(key string, ver uint64) (T, bool) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.ver != ver {
		c.misses.Add(1)
		var zero T
		return zero, false
	}
	c.hits.Add(1)
	return e.val, true
}

func (c *versionCache[T]) put(key string, ver uint64, val T, units int) {
	if units > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || c.units+units > c.max {
		c.entries = make(map[string]versioned[T], 1024)
		c.units = 0
	}
	if old, ok := c.entries[key]; ok {
		c.units -= old.units
	}
	c.entries[key] = versioned[T]{ver: ver, val: val, units: units}
	c.units += units
}

// Loaders may compute attributes per caller (e.g. "shared"), so the
// caller's project and admin flag are part of every key.
func cacheKey(ctx context.Context, id string) string {
	rc := reqctx.From(ctx)
	if rc == nil {
		return id + "\x00\x00"
	}
	admin := "\x00"
	if rc.IsAdmin {
		admin = "\x01"
	}
	return id + "\x00" + rc.ProjectID + admin
}

func listKey(ctx context.Context, q *api.Query) string {
	return cacheKey(ctx, fmt.Sprintf("%#v", *q))
}

// Bounds of a table's caches, in bytes (estimated by sizeOf).
const (
	maxCachedBytes = 32 << 20
	maxListedBytes = 32 << 20 // a list of up to 8 MB is cached
)

// sizeOf estimates the memory an object holds: its strings, and a fixed
// cost per map entry, list element and scalar.
func sizeOf(v any) int {
	switch x := v.(type) {
	case string:
		return 16 + len(x)
	case map[string]any:
		n := 48
		for k, e := range x {
			n += 16 + len(k) + sizeOf(e)
		}
		return n
	case []any:
		n := 24
		for _, e := range x {
			n += sizeOf(e)
		}
		return n
	case api.Ordered:
		return sizeOf(x.M) + 24*len(x.Order)
	}
	return 16
}

func sizeOfAll(objs []api.Object) int {
	n := 24 * len(objs)
	for _, o := range objs {
		n += sizeOf(o)
	}
	return n
}

// CacheStats returns the read cache's hits and misses (tests, metrics).
func (t *Table) CacheStats() (hits, misses int64) { return t.cache.hits.Load(), t.cache.misses.Load() }

// ListCacheStats returns the list cache's hits and misses.
func (t *Table) ListCacheStats() (hits, misses int64) {
	return t.lists.hits.Load(), t.lists.misses.Load()
}

// shallowCopy copies the top level of obj: callers may add keys; nested
// values are never modified.
func shallowCopy(obj api.Object) api.Object {
	cp := make(api.Object, len(obj))
	for k, v := range obj {
		cp[k] = v
	}
	return cp
}
