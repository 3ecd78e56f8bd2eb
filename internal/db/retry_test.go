package db

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestRetryPolicyWait(t *testing.T) {
	p := DefaultRetry()
	var total time.Duration
	for n := 1; n <= p.MaxRetries; n++ {
		w, ok := p.wait(n)
		if !ok {
			t.Fatalf("retry %d refused", n)
		}
		if w > p.MaxInterval {
			t.Fatalf("retry %d waits %v > %v", n, w, p.MaxInterval)
		}
		total += w
	}
	if _, ok := p.wait(p.MaxRetries + 1); ok {
		t.Fatal("retry past the bound allowed")
	}
	if total < 60*time.Second || total > 180*time.Second {
		t.Fatalf("20 retries take %v", total)
	}
	forever := RetryPolicy{MaxRetries: -1, Interval: time.Millisecond}
	if _, ok := forever.wait(1 << 20); !ok {
		t.Fatal("-1 is not forever")
	}
}

func TestIsConnectionError(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", syscall.ECONNREFUSED), true},
		{io.ErrUnexpectedEOF, true},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "53300"}, true},
		{&pgconn.PgError{Code: "40P01"}, false},
		{&pgconn.PgError{Code: "23505"}, false},
		{&mysql.MySQLError{Number: 2013}, true},
		{&mysql.MySQLError{Number: 1213}, false},
		{mysql.ErrInvalidConn, true},
		{errors.New("syntax error"), false},
		{nil, false},
	} {
		if got := IsConnectionError(c.err); got != c.want {
			t.Errorf("%v: %v, want %v", c.err, got, c.want)
		}
	}
}
