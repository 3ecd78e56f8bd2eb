package db

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

// The guard makes every engine refuse the same values, before a statement
// runs: SQLite stores any text in a VARCHAR(n) and any integer in an
// INTEGER, PostgreSQL and MySQL refuse them (and PostgreSQL any NUL
// character or invalid UTF-8). A value the schema cannot hold is a 400 on
// all three, naming the column; an engine's own data error that slips
// through is a 400 as well, never a 500.

// colLimit is what the schema lets a column hold.
type colLimit struct {
	chars int  // VARCHAR(n): at most n characters (0: no bound)
	int32 bool // INTEGER: 32-bit
}

var (
	limitsOnce sync.Once
	limits     map[string]map[string]colLimit // table → column → limit
	createRE   = regexp.MustCompile(`(?is)^\s*CREATE\s+TABLE\s+(\w+)\s*\(`)
	alterRE    = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+(?:COLUMN\s+)?`)
	colTokRE   = regexp.MustCompile(`(\w+)\s+\{(id|str:\d+|ts|int)\}`)
)

// schemaLimits reads the column limits from the migrations' type tokens.
func schemaLimits() map[string]map[string]colLimit {
	limitsOnce.Do(func() {
		limits = map[string]map[string]colLimit{}
		for _, m := range Schema() {
			for _, st := range m.Stmts {
				var table string
				if c := createRE.FindStringSubmatch(st); c != nil {
					table = c[1]
				} else if a := alterRE.FindStringSubmatch(st); a != nil {
					table = a[1]
				} else {
					continue
				}
				cols := limits[strings.ToLower(table)]
				if cols == nil {
					cols = map[string]colLimit{}
					limits[strings.ToLower(table)] = cols
				}
				for _, c := range colTokRE.FindAllStringSubmatch(st, -1) {
					cols[strings.ToLower(c[1])] = tokenLimit(c[2])
				}
			}
		}
	})
	return limits
}

func tokenLimit(tok string) colLimit {
	switch {
	case tok == "id":
		return colLimit{chars: 36}
	case tok == "ts":
		return colLimit{chars: 20}
	case tok == "int":
		return colLimit{int32: true}
	case strings.HasPrefix(tok, "str:"):
		n, _ := strconv.Atoi(tok[4:])
		return colLimit{chars: n}
	}
	return colLimit{}
}

// boundArg is an argument of a write statement bound to a limited column.
type boundArg struct {
	arg    int
	column string
	limit  colLimit
}

var (
	insertRE = regexp.MustCompile(`(?is)^\s*INSERT(?:\s+OR\s+IGNORE|\s+IGNORE)?\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*VALUES\s*(.*)$`)
	updateRE = regexp.MustCompile(`(?is)^\s*UPDATE\s+(\w+)\s+SET\s+(.*?)\s+WHERE\s`)
	assignRE = regexp.MustCompile(`(?s)^\s*(\w+)\s*=\s*\?\s*$`)

	boundCache, _ = lru.New[string, []boundArg](1024)
)

// writeBindings maps the arguments of an INSERT … VALUES (?, …) or an
// UPDATE … SET col = ?, … statement to the limited columns they fill
// (nil for any other statement).
func writeBindings(q string) []boundArg {
	if b, ok := boundCache.Get(q); ok {
		return b
	}
	var out []boundArg
	if m := insertRE.FindStringSubmatch(q); m != nil {
		out = insertBindings(m[1], m[2], m[3])
	} else if m := updateRE.FindStringSubmatch(q); m != nil {
		out = updateBindings(m[1], m[2])
	}
	if len(q) < 4096 {
		boundCache.Add(q, out)
	}
	return out
}

func insertBindings(table, colList, values string) []boundArg {
	cols := splitTop(colList)
	limits := schemaLimits()[strings.ToLower(table)]
	var out []boundArg
	arg := 0
	rest := strings.TrimSpace(values)
	for strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil
		}
		vals := splitTop(rest[1:end])
		if len(vals) != len(cols) {
			return nil
		}
		for i, v := range vals {
			switch {
			case v == "?":
				if l, ok := limits[strings.ToLower(cols[i])]; ok {
					out = append(out, boundArg{arg, cols[i], l})
				}
				arg++
			case strings.Contains(v, "?"):
				return nil // an expression around a placeholder: not mapped
			}
		}
		rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest[end+1:]), ","))
	}
	return out
}

func updateBindings(table, sets string) []boundArg {
	limits := schemaLimits()[strings.ToLower(table)]
	var out []boundArg
	arg := 0
	for _, s := range splitTop(sets) {
		if m := assignRE.FindStringSubmatch(s); m != nil {
			if l, ok := limits[strings.ToLower(m[1])]; ok {
				out = append(out, boundArg{arg, m[1], l})
			}
		}
		arg += strings.Count(s, "?")
	}
	return out
}

// splitTop splits s at the commas outside parentheses, trimmed.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// checkArgs refuses text no engine stores alike (NUL, invalid UTF-8) in
// any statement, and for writes the values longer or larger than their
// column allows.
func checkArgs(q string, args []any, write bool) error {
	for _, a := range args {
		if s, ok := a.(string); ok && (strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)) {
			return nerr.InvalidInput("text with a NUL character or invalid UTF-8 cannot be stored")
		}
	}
	if !write {
		return nil
	}
	for _, b := range writeBindings(q) {
		if b.arg >= len(args) {
			continue
		}
		switch v := args[b.arg].(type) {
		case string:
			if b.limit.chars > 0 && len(v) > b.limit.chars && utf8.RuneCountInString(v) > b.limit.chars {
				return nerr.InvalidInput(fmt.Sprintf("%s exceeds maximum length of %d", b.column, b.limit.chars))
			}
		case int64:
			if b.limit.int32 && (v > math.MaxInt32 || v < math.MinInt32) {
				return nerr.InvalidInput(fmt.Sprintf("%s %d is out of range", b.column, v))
			}
		case int:
			if b.limit.int32 && (v > math.MaxInt32 || v < math.MinInt32) {
				return nerr.InvalidInput(fmt.Sprintf("%s %d is out of range", b.column, v))
			}
		}
	}
	return nil
}

// badValueError is an engine's refusal of a value: a 400 for the API,
// still the driver's error for errors.As.
type badValueError struct {
	api   *nerr.Error
	cause error
}

func (e *badValueError) Error() string   { return e.cause.Error() }
func (e *badValueError) Unwrap() []error { return []error{e.api, e.cause} }

// dataError turns an engine's data exception (value too long, out of
// range, bad encoding) into a 400.
func dataError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") {
		return &badValueError{nerr.InvalidInput("the database refused a value (" + pe.Message + ")"), err}
	}
	if msg := err.Error(); strings.Contains(msg, "failed to encode args") &&
		(strings.Contains(msg, "greater than maximum value") || strings.Contains(msg, "less than minimum value")) {
		// pgx refuses an integer its column type cannot hold before sending it
		return &badValueError{nerr.InvalidInput("a number is out of range"), err}
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1264, 1265, 1292, 1366, 1406:
			return &badValueError{nerr.InvalidInput("the database refused a value (" + me.Message + ")"), err}
		}
	}
	return err
}
