// Package db is neutrino's SQL storage engine layer: it opens SQLite
// (embedded, pure Go), PostgreSQL (pgx) or MySQL/MariaDB from Neutron's
// [database] connection URLs, applies the versioned schema migrations, and
// runs every write as one transaction, retried on the transient conflicts
// that concurrent writers (goroutines or other neutrino processes on the
// same database) produce.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is the SQL engine family.
type Dialect int

// Engines.
const (
	SQLite Dialect = iota
	Postgres
	MySQL
)

func (d Dialect) String() string {
	return [...]string{"sqlite", "postgresql", "mysql"}[d]
}

// DB is an open database.
type DB struct {
	SQL    *sql.DB
	engine Dialect
	// Redacted is the connection URL without its password, for logs.
	Redacted string

	writeSem chan struct{} // SQLite: one writer per process, no busy spinning
	retry    RetryPolicy   // connection errors
	log      *slog.Logger
	rebound  *lru.Cache[string, string] // query → query with $n placeholders (PostgreSQL)
	stmts    *stmtCache                 // SQLite: prepared statements (parsing is a large share of a query's cost)
	path     string                     // SQLite: database file
	changes  atomic.Pointer[changeWatcher]
	lastTry  atomic.Int64 // unix nanos of the last attempt to open changes
	// OnRetry, when set, is called before Write retries a transaction that
	// conflicted (for the debug log).
	OnRetry func(ctx context.Context, attempt int, err error)
	// pinned (SQLite) is a connection kept open, in a read transaction's
	// aftermath, for the DB's lifetime: while it is open no process can
	// re-initialise or delete the -shm file the change watcher reads.
	pinned *sql.Conn
}

// cacheable reports whether q is worth a cached statement: SQLite, and a
// query text of bounded size.
func (d *DB) cacheable(q string) bool {
	return d.engine == SQLite && len(q) < 4096 && strings.Count(q, "?") <= 64
}

// Querier is what both *DB and *Tx offer for reads.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *Row
	Dialect() Dialect
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
	// Retry is how connection errors are retried (nil: DefaultRetry).
	Retry *RetryPolicy
	// Log receives the retry warnings (nil: slog.Default()).
	Log *slog.Logger
}

// Open connects to the database named by a Neutron-style URL:
// sqlite:///relative.db, sqlite:////abs/path.db, sqlite:// (in memory),
// mysql+pymysql://user:pw@host[:port]/db, postgresql[+psycopg2]://user:pw@host[:port]/db.
func Open(rawURL string, opt Options) (*DB, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("invalid database URL %q: no scheme", redact(rawURL))
	}
	driver, _, _ := strings.Cut(scheme, "+")
	d := &DB{Redacted: redact(rawURL), rebound: newReboundCache(), stmts: newStmtCache(MaxCachedStatements),
		writeSem: make(chan struct{}, 1), retry: DefaultRetry(), log: opt.Log}
	if opt.Retry != nil {
		d.retry = *opt.Retry
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	var err error
	switch driver {
	case "sqlite":
		d.engine = SQLite
		err = d.openSQLite(rest, opt)
	case "mysql", "mariadb":
		d.engine = MySQL
		err = d.openMySQL(rawURL, opt)
	case "postgresql", "postgres":
		d.engine = Postgres
		err = d.openPostgres(rawURL, opt)
	default:
		return nil, fmt.Errorf("unsupported database %q (want sqlite, mysql or postgresql)", scheme)
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.SQL.PingContext(ctx); err != nil {
		d.SQL.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.Redacted, err)
	}
	if d.path != "" {
		// a read in WAL mode creates and initialises the -shm file
		if err := d.pin(ctx); err != nil {
			d.SQL.Close()
			return nil, fmt.Errorf("open %s: %w", d.Redacted, err)
		}
		d.changes.Store(openChangeWatcher(d.path))
	}
	return d, nil
}

func (d *DB) openSQLite(rest string, opt Options) error {
	// rest is "/path" (sqlite:///path, relative) or "//abs" (sqlite:////abs)
	// or "" (sqlite://, in memory).
	path, query, _ := strings.Cut(rest, "?")
	_ = query
	var dsn string
	if path == "" || path == "/" || path == "/:memory:" {
		dsn = fmt.Sprintf("file:neutrino-mem-%d?mode=memory&cache=shared", rand.Int64())
	} else {
		p := strings.TrimPrefix(path, "/")
		if strings.HasPrefix(p, "/") {
			p = filepath.Clean(p)
		}
		dsn = "file:" + p
		d.path = p
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "_pragma=busy_timeout(20000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 8
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	d.SQL = db
	return nil
}

func (d *DB) openMySQL(raw string, opt Options) error {
	u, ok := parseURL(raw)
	if !ok {
		return fmt.Errorf("invalid database URL %s", redact(raw))
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = u.user, u.password
	cfg.Net = "tcp"
	cfg.Addr = u.hostPort("3306")
	if sock := u.query.Get("unix_socket"); sock != "" {
		cfg.Net, cfg.Addr = "unix", sock
	}
	cfg.DBName = u.database
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	// group_concat_max_len: child lists are aggregated with GROUP_CONCAT
	cfg.Params = map[string]string{"charset": "utf8mb4", "group_concat_max_len": "4194304"}
	cfg.Collation = "utf8mb4_bin"
	// Every connection works in READ COMMITTED (as on PostgreSQL): a count
	// taken after acquiring a lock row must see the rows committed by the
	// previous lock holder, which InnoDB's REPEATABLE READ snapshot would
	// hide. Set once per connection; the variable's name depends on the
	// server (MariaDB < 11.1: tx_isolation, MySQL 8: transaction_isolation).
	probe, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	var version string
	verr := probe.QueryRow("SELECT VERSION()").Scan(&version)
	probe.Close()
	if verr != nil {
		return fmt.Errorf("connect to %s: %w", d.Redacted, verr)
	}
	if strings.Contains(strings.ToLower(version), "mariadb") {
		cfg.Params["tx_isolation"] = "'READ-COMMITTED'"
	} else {
		cfg.Params["transaction_isolation"] = "'READ-COMMITTED'"
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 32
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(time.Hour)
	d.SQL = db
	return nil
}

func (d *DB) openPostgres(raw string, opt Options) error {
	pu, ok := parseURL(raw)
	if !ok {
		return fmt.Errorf("invalid database URL %s", redact(raw))
	}
	// rebuilt with net/url, which escapes what the password holds
	u := &url.URL{Scheme: "postgres", Path: "/" + pu.database}
	if pu.user != "" || pu.hasPassword {
		u.User = url.User(pu.user)
		if pu.hasPassword {
			u.User = url.UserPassword(pu.user, pu.password)
		}
	}
	if pu.host != "" || pu.port != "" {
		u.Host = pu.hostPort("5432")
	}
	q := pu.query
	q.Del("client_encoding")
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "prefer")
	}
	if q.Get("statement_cache_capacity") == "" {
		// pgx keeps an LRU of prepared statements per connection (each
		// also costs server memory): the same bound as on SQLite
		q.Set("statement_cache_capacity", strconv.Itoa(MaxCachedStatements))
	}
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 32
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(time.Hour)
	d.SQL = db
	return nil
}

// Close closes the pool.
func (d *DB) Close() error {
	if d.pinned != nil {
		d.pinned.Close()
	}
	d.stmts.closeAll()
	return d.SQL.Close()
}

// pin opens the SQLite connection held for the DB's lifetime and reads
// through it, which maps the wal-index (SQLite keeps it mapped, with its
// shared lock on it, until the connection closes).
func (d *DB) pin(ctx context.Context) error {
	c, err := d.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	var n int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_master").Scan(&n); err != nil {
		c.Close()
		return err
	}
	d.pinned = c
	return nil
}

// Rebind turns '?' placeholders into the engine's form.
func (d *DB) Rebind(q string) string {
	if d.engine != Postgres {
		return q
	}
	if v, ok := d.rebound.Get(q); ok {
		return v
	}
	var b strings.Builder
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '\'' {
			inStr = !inStr
		}
		if c == '?' && !inStr {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	s := b.String()
	if len(q) < 4096 {
		d.rebound.Add(q, s)
	}
	return s
}

// Query runs a read query outside any transaction, retrying connection
// errors as the RetryPolicy says.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := checkArgs(q, args, false); err != nil {
		return nil, err
	}
	q, args = NormalizeIN(q, args)
	for n := 1; ; n++ {
		rows, err := d.query(ctx, q, args)
		if !IsConnectionError(err) || ctx.Err() != nil {
			return rows, dataError(err)
		}
		if e := d.retryConn(ctx, n, err); e != nil {
			return nil, e
		}
	}
}

func (d *DB) query(ctx context.Context, q string, args []any) (*sql.Rows, error) {
	if d.cacheable(q) {
		cs, err := d.stmts.acquire(ctx, d.SQL, q)
		if err != nil {
			return nil, err
		}
		defer d.stmts.release(cs)
		return cs.st.QueryContext(ctx, args...)
	}
	return d.SQL.QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow runs a single-row read query, retrying connection errors.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *Row {
	if err := checkArgs(q, args, false); err != nil {
		return &Row{err: err}
	}
	q, args = NormalizeIN(q, args)
	for n := 1; ; n++ {
		row := d.queryRow(ctx, q, args)
		err := row.Err()
		if !IsConnectionError(err) || ctx.Err() != nil {
			return &Row{row: row}
		}
		if e := d.retryConn(ctx, n, err); e != nil {
			return &Row{err: e}
		}
	}
}

func (d *DB) queryRow(ctx context.Context, q string, args []any) *sql.Row {
	if d.cacheable(q) {
		if cs, err := d.stmts.acquire(ctx, d.SQL, q); err == nil {
			defer d.stmts.release(cs)
			return cs.st.QueryRowContext(ctx, args...)
		}
	}
	return d.SQL.QueryRowContext(ctx, d.Rebind(q), args...)
}

// Exec runs a statement outside any transaction, retrying connection
// errors.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := checkArgs(q, args, true); err != nil {
		return nil, err
	}
	q, args = NormalizeIN(q, args)
	for n := 1; ; n++ {
		res, err := d.SQL.ExecContext(ctx, d.Rebind(q), args...)
		if !IsConnectionError(err) || ctx.Err() != nil {
			return res, dataError(err)
		}
		if e := d.retryConn(ctx, n, err); e != nil {
			return nil, e
		}
	}
}

func (d *DB) warn(msg string, args ...any) { d.log.Warn(msg, args...) }

// Dialect returns the engine family (Querier).
func (d *DB) Dialect() Dialect { return d.engine }

// Tx is a write transaction.
type Tx struct {
	tx *sql.Tx
	db *DB
	// after-commit callbacks
	onCommit []func()
	vals     map[any]any
	// read (Read's transactions) runs statements unprepared: preparing
	// takes a second pooled connection, and concurrent readers each
	// holding one could wait for each other's forever
	read bool
}

// Set keeps a value for the rest of the transaction attempt (a retried
// transaction starts empty).
func (t *Tx) Set(key, v any) {
	if t.vals == nil {
		t.vals = map[any]any{}
	}
	t.vals[key] = v
}

// Value returns what Set kept under key, or nil.
func (t *Tx) Value(key any) any { return t.vals[key] }

// stmt returns the transaction's copy of q's cached statement (nil: run
// q unprepared) and the function releasing the cached one.
func (t *Tx) stmt(ctx context.Context, q string) (*sql.Stmt, func()) {
	if t.read || !t.db.cacheable(q) {
		return nil, nil
	}
	cs, err := t.db.stmts.acquire(ctx, t.db.SQL, q)
	if err != nil {
		return nil, nil
	}
	return t.tx.StmtContext(ctx, cs.st), func() { t.db.stmts.release(cs) }
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := checkArgs(q, args, false); err != nil {
		return nil, err
	}
	q, args = NormalizeIN(q, args)
	if st, release := t.stmt(ctx, q); st != nil {
		defer release()
		rows, err := st.QueryContext(ctx, args...)
		return rows, dataError(err)
	}
	rows, err := t.tx.QueryContext(ctx, t.db.Rebind(q), args...)
	return rows, dataError(err)
}

// QueryRow runs a single-row query in the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *Row {
	if err := checkArgs(q, args, false); err != nil {
		return &Row{err: err}
	}
	q, args = NormalizeIN(q, args)
	if st, release := t.stmt(ctx, q); st != nil {
		defer release()
		return &Row{row: st.QueryRowContext(ctx, args...)}
	}
	return &Row{row: t.tx.QueryRowContext(ctx, t.db.Rebind(q), args...)}
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := checkArgs(q, args, true); err != nil {
		return nil, err
	}
	q, args = NormalizeIN(q, args)
	if st, release := t.stmt(ctx, q); st != nil {
		defer release()
		res, err := st.ExecContext(ctx, args...)
		return res, dataError(err)
	}
	res, err := t.tx.ExecContext(ctx, t.db.Rebind(q), args...)
	return res, dataError(err)
}

// Dialect returns the engine family.
func (t *Tx) Dialect() Dialect { return t.db.engine }

// DB returns the database the transaction belongs to.
func (t *Tx) DB() *DB { return t.db }

// OnCommit registers f to run after a successful commit.
func (t *Tx) OnCommit(f func()) { t.onCommit = append(t.onCommit, f) }

// ForUpdate is " FOR UPDATE" where the engine has row locks, else "".
func (t *Tx) ForUpdate() string {
	if t.db.engine == SQLite {
		return ""
	}
	return " FOR UPDATE"
}

// IsUniqueViolation reports whether err is a unique/primary key violation.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign key violation.
func IsForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1451 || me.Number == 1452
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// InsertIgnore is the engine's "insert unless the key exists" prefix and
// suffix: INSERT OR IGNORE / INSERT IGNORE / ON CONFLICT DO NOTHING.
func (d Dialect) InsertIgnore() (prefix, suffix string) {
	switch d {
	case SQLite:
		return "INSERT OR IGNORE", ""
	case MySQL:
		return "INSERT IGNORE", ""
	}
	return "INSERT", " ON CONFLICT DO NOTHING"
}

// Strings runs a query of one string column and returns its values (a
// row error, or a scan error, is returned, never a partial list).
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Read runs fn in a read-only transaction: one consistent snapshot for
// several queries (a list read in batches). Nothing is committed.
func (d *DB) Read(ctx context.Context, fn func(tx *Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true} // SQLite: a deferred BEGIN, not the writers' BEGIN IMMEDIATE
	if d.engine == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	var stx *sql.Tx
	for n := 1; ; n++ {
		var err error
		stx, err = d.SQL.BeginTx(ctx, opts)
		if err == nil {
			break
		}
		if !IsConnectionError(err) || ctx.Err() != nil {
			return err
		}
		if e := d.retryConn(ctx, n, err); e != nil {
			return e
		}
	}
	defer stx.Rollback()
	err := fn(&Tx{tx: stx, db: d, read: true})
	if IsConnectionError(err) && !IsUnavailable(err) {
		// fn may have handed rows on already: no retry, a 503.
		return unavailable(err)
	}
	return err
}
