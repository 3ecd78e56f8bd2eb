package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// TestOnRetry: Write tells OnRetry of each conflict it retries, with the
// request's context (the debug log of transaction retries).
func TestOnRetry(t *testing.T) {
	d, err := Open("sqlite:///"+filepath.Join(t.TempDir(), "r.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	type key struct{}
	var seen []int
	d.OnRetry = func(ctx context.Context, attempt int, err error) {
		if ctx.Value(key{}) != "req" || !errors.Is(err, ErrRetry) {
			t.Errorf("OnRetry(%v, %d, %v)", ctx.Value(key{}), attempt, err)
		}
		seen = append(seen, attempt)
	}
	n := 0
	err = d.Write(context.WithValue(context.Background(), key{}, "req"), func(tx *Tx) error {
		if n++; n < 3 {
			return ErrRetry
		}
		return nil
	})
	if err != nil || len(seen) != 2 || seen[0] != 1 || seen[1] != 2 {
		t.Fatalf("err %v, retries seen %v", err, seen)
	}
}
