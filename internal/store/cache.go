package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// readCache keeps objects read by Get, each tagged with the database change
// version it was read at; an entry is only served while that version is
// still current, so it is never stale. Loaders may compute attributes per
// caller (e.g. "shared"), so the caller's project and admin flag are part
// of the key.
type readCache struct {
	mu           sync.Mutex
	entries      map[string]cacheEntry
	hits, misses atomic.Int64
}

// CacheStats returns the read cache's hits and misses (tests, metrics).
func (t *Table) CacheStats() (hits, misses int64) { return t.cache.hits.Load(), t.cache.misses.Load() }

// ListCacheStats returns the list cache's hits and misses.
func (t *Table) ListCacheStats() (hits, misses int64) {
	return t.lists.hits.Load(), t.lists.misses.Load()
}

// listCache keeps list results the same way: a result tagged with the
// change version it was read at is served while that version is current.
// The objects are shared between callers and never modified; each caller
// gets its own slice.
type listCache struct {
	mu           sync.Mutex
	entries      map[string]listEntry
	objects      int
	hits, misses atomic.Int64
}

type listEntry struct {
	ver  uint64
	objs []api.Object
}

// maxListObjects bounds the objects held by a table's list cache.
const maxListObjects = 200000

func listKey(ctx context.Context, q *api.Query) string {
	return cacheKey(ctx, fmt.Sprintf("%#v", *q))
}

func (c *listCache) get(key string, ver uint64) []api.Object {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.ver != ver {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return append(make([]api.Object, 0, len(e.objs)), e.objs...)
}

func (c *listCache) put(key string, ver uint64, objs []api.Object) {
	if len(objs) > maxListObjects/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || c.objects+len(objs) > maxListObjects {
		c.entries = make(map[string]listEntry, 64)
		c.objects = 0
	}
	if old, ok := c.entries[key]; ok {
		c.objects -= len(old.objs)
	}
	c.entries[key] = listEntry{ver: ver, objs: append([]api.Object(nil), objs...)}
	c.objects += len(objs)
}

type cacheEntry struct {
	ver uint64
	obj api.Object
}

// maxCacheEntries bounds memory; the cache is emptied when it is full.
const maxCacheEntries = 50000

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

func (c *readCache) get(key string, ver uint64) api.Object {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.ver != ver {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return shallowCopy(e.obj)
}

func (c *readCache) put(key string, ver uint64, obj api.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCacheEntries {
		c.entries = make(map[string]cacheEntry, 1024)
	}
	c.entries[key] = cacheEntry{ver: ver, obj: obj}
}

// shallowCopy copies the top level of obj: callers may add keys (policy
// resolution caches into targets); nested values are never modified.
func shallowCopy(obj api.Object) api.Object {
	cp := make(api.Object, len(obj))
	for k, v := range obj {
		cp[k] = v
	}
	return cp
}
