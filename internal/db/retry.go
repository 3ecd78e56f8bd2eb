package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

// ErrRetry asks Write to run the transaction again (e.g. after losing an
// allocation race).
var ErrRetry = errors.New("db: retry transaction")

// MaxAttempts bounds Write's retries of conflicts (deadlocks,
// serialization failures, ErrRetry).
const MaxAttempts = 20

// RetryPolicy is how long a request waits for a database it cannot reach,
// as oslo.db's wrap_db_retry: up to MaxRetries more tries, Interval apart,
// the interval doubling (Inc) up to MaxInterval, with jitter. Then the
// request fails with a 503.
type RetryPolicy struct {
	MaxRetries  int // -1: no bound
	Interval    time.Duration
	MaxInterval time.Duration
	Inc         bool
}

// DefaultRetry is oslo.db's: [database] db_max_retries = 20,
// db_retry_interval = 1, db_inc_retry_interval = true,
// db_max_retry_interval = 10.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{MaxRetries: 20, Interval: time.Second, MaxInterval: 10 * time.Second, Inc: true}
}

// wait is the pause before retry n (1-based), or false when n is past the
// bound.
func (p RetryPolicy) wait(n int) (time.Duration, bool) {
	if p.MaxRetries >= 0 && n > p.MaxRetries {
		return 0, false
	}
	w := p.Interval
	if p.Inc {
		for i := 1; i < n && (p.MaxInterval <= 0 || w < p.MaxInterval); i++ {
			w *= 2
		}
		if p.MaxInterval > 0 && w > p.MaxInterval {
			w = p.MaxInterval
		}
	}
	if w > 0 {
		w = w/2 + time.Duration(rand.Int64N(int64(w/2)+1)) // jitter
	}
	return w, true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unavailableError is a database that stayed unreachable: a 503 for the
// API, still the driver's error for errors.As.
type unavailableError struct {
	api   *nerr.Error
	cause error
}

func (e *unavailableError) Error() string   { return "database unavailable: " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.api, e.cause} }

func unavailable(err error) error {
	return &unavailableError{nerr.ServiceUnavailable("The database is temporarily unavailable. Please try again later."), err}
}

// IsUnavailable reports whether err is a database that stayed unreachable.
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// retryConn waits before retry n of an operation that failed with a
// connection error; it returns the error to give up with, or nil to retry.
func (d *DB) retryConn(ctx context.Context, n int, err error) error {
	w, ok := d.retry.wait(n)
	if !ok {
		return unavailable(err)
	}
	if n == 1 || n%5 == 0 {
		d.warn("database connection failed; retrying", "error", err, "retry", n, "wait", w.Round(time.Millisecond).String())
	}
	if e := sleepCtx(ctx, w); e != nil {
		return e
	}
	return nil
}

// IsConnectionError reports whether err means the database could not be
// reached or dropped the connection (oslo.db's DBConnectionError): the
// statement did not run, or its outcome is unknown.
func IsConnectionError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P01-03: shut down / starting up;
		// 53300: too many connections
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1053, 1077, 1158, 1159, 1160, 1161, 1927, 2002, 2003, 2006, 2013:
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection refused")
}

// Write runs fn in one transaction, committing if it returns nil. It retries
// the whole function on serialization failures, deadlocks, lock timeouts,
// SQLITE_BUSY and ErrRetry (MaxAttempts, with a short backoff), and on
// connection errors as the RetryPolicy says (then a 503); fn must therefore
// be free of side effects outside the transaction (use OnCommit for those).
func (d *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	conflicts, outages := 0, 0
	for {
		committed, err := d.writeOnce(ctx, fn)
		if err == nil {
			for _, f := range committed.onCommit {
				f()
			}
			return nil
		}
		switch {
		case ctx.Err() != nil:
			return err
		case IsConnectionError(err):
			outages++
			if e := d.retryConn(ctx, outages, err); e != nil {
				return e
			}
		case Retryable(err):
			conflicts++
			if conflicts >= MaxAttempts {
				return fmt.Errorf("giving up after %d attempts: %w", MaxAttempts, err)
			}
			if d.OnRetry != nil {
				d.OnRetry(ctx, conflicts, err)
			}
			backoff := time.Duration(1<<min(conflicts, 8)) * 200 * time.Microsecond
			backoff += time.Duration(rand.Int64N(int64(backoff) + 1))
			if e := sleepCtx(ctx, backoff); e != nil {
				return e
			}
		default:
			return err
		}
	}
}

func (d *DB) writeOnce(ctx context.Context, fn func(tx *Tx) error) (*Tx, error) {
	if d.engine == SQLite {
		// one writer per process; a waiting request gives up with its
		// context (client gone, deadline) instead of queueing forever
		select {
		case d.writeSem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-d.writeSem }()
	}
	stx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	tx := &Tx{tx: stx, db: d}
	if err := fn(tx); err != nil {
		stx.Rollback()
		return nil, err
	}
	if err := stx.Commit(); err != nil {
		return nil, err
	}
	return tx, nil
}

// Retryable reports whether err is a transient conflict worth retrying.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrRetry) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01", "55P03":
			return true
		}
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1213, 1205, 1020:
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// Row is the result of QueryRow: *sql.Row's Scan, with the database's
// errors made API errors (bad values 400, an unreachable database 503).
type Row struct {
	row *sql.Row
	err error
}

// Scan copies the row's columns into dest (sql.ErrNoRows when none).
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.row.Scan(dest...)
	if IsConnectionError(err) {
		return unavailable(err)
	}
	return dataError(err)
}

// Err is the error of running the query, if any.
func (r *Row) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.row.Err()
}
