package db

import (
	"container/list"
	"context"
	"database/sql"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// MaxCachedStatements bounds the prepared statements a DB keeps (SQLite:
// each is prepared again on every pooled connection that runs it, so the
// bound is per connection as well). The least recently used is closed.
const MaxCachedStatements = 256

// maxRebound bounds the cache of PostgreSQL placeholder rewrites.
const maxRebound = 1024

// stmtCache is a bounded LRU of prepared statements. A statement handed
// out is referenced until released: eviction closes it only once nobody
// holds it (database/sql then defers the final close until the rows read
// through it are closed).
type stmtCache struct {
	mu  sync.Mutex
	max int
	ll  *list.List // front = most recently used; values *cachedStmt
	m   map[string]*list.Element
}

type cachedStmt struct {
	q       string
	st      *sql.Stmt
	refs    int
	evicted bool
}

func newStmtCache(max int) *stmtCache {
	return &stmtCache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// acquire returns the cached statement of q, preparing it on db if needed.
func (c *stmtCache) acquire(ctx context.Context, db *sql.DB, q string) (*cachedStmt, error) {
	c.mu.Lock()
	if e, ok := c.m[q]; ok {
		c.ll.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.refs++
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if e, ok := c.m[q]; ok { // prepared meanwhile by another caller
		c.ll.MoveToFront(e)
		cs := e.Value.(*cachedStmt)
		cs.refs++
		c.mu.Unlock()
		st.Close()
		return cs, nil
	}
	cs := &cachedStmt{q: q, st: st, refs: 1}
	c.m[q] = c.ll.PushFront(cs)
	var closing []*sql.Stmt
	for c.ll.Len() > c.max {
		old := c.ll.Remove(c.ll.Back()).(*cachedStmt)
		delete(c.m, old.q)
		old.evicted = true
		if old.refs == 0 {
			closing = append(closing, old.st)
		}
	}
	c.mu.Unlock()
	for _, s := range closing {
		s.Close()
	}
	return cs, nil
}

// release drops a reference taken by acquire.
func (c *stmtCache) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.refs--
	closeIt := cs.evicted && cs.refs == 0
	c.mu.Unlock()
	if closeIt {
		cs.st.Close()
	}
}

// Len is the number of cached statements.
func (c *stmtCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// closeAll closes every statement (the DB is closing).
func (c *stmtCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.ll.Front(); e != nil; e = e.Next() {
		e.Value.(*cachedStmt).st.Close()
	}
	c.ll.Init()
	c.m = map[string]*list.Element{}
}

func newReboundCache() *lru.Cache[string, string] {
	c, _ := lru.New[string, string](maxRebound)
	return c
}

// inBucket is the length an IN list of n values is padded to: a power of
// two up to 1024, then a multiple of 1024. Lists of any length thus share
// a handful of statement shapes.
func inBucket(n int) int {
	if n <= 1 {
		return n
	}
	if n > 1024 {
		return (n + 1023) / 1024 * 1024
	}
	b := 1
	for b < n {
		b <<= 1
	}
	return b
}

// NormalizeIN pads every "IN (?, ?, …)" list of placeholders in q to its
// bucket length (inBucket) by repeating the list's last argument, which
// leaves the statement's meaning unchanged (for IN and NOT IN alike). Query,
// QueryRow and Exec apply it to every statement.
func NormalizeIN(q string, args []any) (string, []any) {
	if !strings.Contains(q, "IN (?") {
		return q, args
	}
	type inList struct{ start, end, arg, n int }
	var lists []inList
	pad := 0
	argi := 0 // placeholders before i
	inStr := false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'':
			inStr = !inStr
		case inStr:
		case c == '?':
			argi++
		case c == 'I' && i > 0 && q[i-1] == ' ' && strings.HasPrefix(q[i:], "IN (?"):
			start := i + len("IN (")
			n, end := placeholderList(q, start)
			if n == 0 {
				continue
			}
			if want := inBucket(n); want != n {
				lists = append(lists, inList{start, end, argi, n})
				pad += want - n
			}
			argi += n
			i = end
		}
	}
	if pad == 0 || argi != len(args) {
		return q, args
	}
	var b strings.Builder
	b.Grow(len(q) + 3*pad)
	out := make([]any, 0, len(args)+pad)
	lastQ, lastA := 0, 0
	for _, l := range lists {
		want := inBucket(l.n)
		b.WriteString(q[lastQ:l.start])
		b.WriteString(strings.Repeat("?, ", want-1))
		b.WriteByte('?')
		out = append(out, args[lastA:l.arg+l.n]...)
		for k := l.n; k < want; k++ {
			out = append(out, args[l.arg+l.n-1])
		}
		lastQ, lastA = l.end, l.arg+l.n
	}
	b.WriteString(q[lastQ:])
	return b.String(), append(out, args[lastA:]...)
}

// placeholderList reads "?, ?, …, ?)" at q[start:]: the number of
// placeholders and the index of the closing parenthesis (0 if q[start:]
// is not such a list).
func placeholderList(q string, start int) (n, end int) {
	i := start
	for {
		if i >= len(q) || q[i] != '?' {
			return 0, 0
		}
		n++
		i++
		if i < len(q) && q[i] == ')' {
			return n, i
		}
		if !strings.HasPrefix(q[i:], ", ") {
			return 0, 0
		}
		i += 2
	}
}
