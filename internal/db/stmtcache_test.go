package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestInBucket(t *testing.T) {
	shapes := map[int]bool{}
	for n := 1; n <= 2000; n++ {
		b := inBucket(n)
		if b < n {
			t.Fatalf("inBucket(%d) = %d", n, b)
		}
		shapes[b] = true
	}
	if len(shapes) > 12 {
		t.Fatalf("%d shapes for IN lists of 1..2000 values", len(shapes))
	}
}

func TestNormalizeIN(t *testing.T) {
	for _, c := range []struct {
		q        string
		args     []any
		wantQ    string
		wantArgs []any
	}{
		{"SELECT 1 WHERE a = ? AND b IN (?, ?, ?) AND c = ?", []any{1, 2, 3, 4, 5},
			"SELECT 1 WHERE a = ? AND b IN (?, ?, ?, ?) AND c = ?", []any{1, 2, 3, 4, 4, 5}},
		{"x NOT IN (?, ?, ?) OR y IN (?, ?, ?, ?, ?)", []any{"a", "b", "c", 1, 2, 3, 4, 5},
			"x NOT IN (?, ?, ?, ?) OR y IN (?, ?, ?, ?, ?, ?, ?, ?)", []any{"a", "b", "c", "c", 1, 2, 3, 4, 5, 5, 5, 5}},
		{"a IN (?, ?)", []any{1, 2}, "a IN (?, ?)", []any{1, 2}},
		{"a IN (SELECT b FROM c WHERE d = ?)", []any{1}, "a IN (SELECT b FROM c WHERE d = ?)", []any{1}},
		{"a = 'IN (?, ?, ?)' AND b IN (?, ?, ?)", []any{1, 2, 3}, "a = 'IN (?, ?, ?)' AND b IN (?, ?, ?, ?)", []any{1, 2, 3, 3}},
		// argument count does not match: left alone
		{"a IN (?, ?, ?)", []any{1, 2}, "a IN (?, ?, ?)", []any{1, 2}},
	} {
		q, args := NormalizeIN(c.q, c.args)
		if q != c.wantQ || fmt.Sprint(args) != fmt.Sprint(c.wantArgs) {
			t.Errorf("NormalizeIN(%q, %v) = %q, %v; want %q, %v", c.q, c.args, q, args, c.wantQ, c.wantArgs)
		}
	}
}

// TestStatementCacheBounded runs thousands of distinct query shapes (column
// subsets, sort keys, limits, IN lists of every length) concurrently on
// SQLite: the prepared statement cache stays at its bound, IN lists of any
// length map to a few statements, and every answer is right while
// statements are evicted under the readers' feet.
func TestStatementCacheBounded(t *testing.T) {
	d, err := Open("sqlite:///"+filepath.Join(t.TempDir(), "s.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c TEXT)"); err != nil {
		t.Fatal(err)
	}
	err = d.Write(ctx, func(tx *Tx) error {
		for i := 0; i < 1000; i++ {
			if _, err := tx.Exec(ctx, "INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)", i, i%10, i%7, fmt.Sprint(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// IN lists of every length from 1 to 600: at most 11 statements.
	for n := 1; n <= 600; n++ {
		args := make([]any, n)
		for i := range args {
			args[i] = i
		}
		var cnt int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM t WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+")", args...).Scan(&cnt); err != nil {
			t.Fatal(err)
		}
		if cnt != n {
			t.Fatalf("IN list of %d: count %d", n, cnt)
		}
	}
	if got := d.stmts.Len(); got > 11 {
		t.Fatalf("%d statements cached for IN lists of 1..600", got)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			if err := randomShapes(ctx, d, g, 1500); err != nil {
				errs <- err
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := d.stmts.Len(); got > MaxCachedStatements {
		t.Fatalf("%d statements cached, bound %d", got, MaxCachedStatements)
	}
}

// randomShapes runs n queries of random shapes (filters, sort key, limit),
// half of them in write transactions, and checks their row counts.
func randomShapes(ctx context.Context, d *DB, seed, n int) error {
	cols := []string{"a", "b", "c", "id"}
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	for i := 0; i < n; i++ {
		lim := 1 + r.IntN(50)
		var conds []string
		for _, c := range cols[:3] {
			if r.IntN(2) == 0 {
				conds = append(conds, c+" IS NOT NULL")
			}
		}
		q := fmt.Sprintf("SELECT id FROM t WHERE id >= ? %s ORDER BY %s, id LIMIT %d",
			strings.Repeat(" AND 1 = 1", r.IntN(8)), cols[r.IntN(len(cols))], lim)
		if len(conds) > 0 {
			q = strings.Replace(q, "WHERE", "WHERE "+strings.Join(conds, " AND ")+" AND", 1)
		}
		rows := 0
		run := func(qr Querier) error {
			rs, err := qr.Query(ctx, q, 0)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				rows++
			}
			return rs.Err()
		}
		var err error
		if r.IntN(2) == 0 {
			err = d.Write(ctx, func(tx *Tx) error { rows = 0; return run(tx) })
		} else {
			err = run(d)
		}
		if err == nil && rows != lim {
			err = fmt.Errorf("%s: %d rows, want %d", q, rows, lim)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
