package db

import (
	"net/url"
	"regexp"
	"strings"
)

// dbURL is a connection URL split as SQLAlchemy 1.4's make_url splits it
// (the form oslo.db reads [database] connection in): the user name and
// password are percent-decoded, and the password may hold any character
// but '@' unencoded (so "p#ss/w?rd" works as in Neutron, where net/url
// would read a fragment or a path).
type dbURL struct {
	scheme         string // e.g. "mysql+pymysql"
	user, password string
	hasPassword    bool
	host, port     string
	database       string
	query          url.Values
	pwStart, pwEnd int // the password's bytes in the raw URL (hasPassword)
}

var sqlaURLRE = regexp.MustCompile(`^([\w+]+)://` +
	`(?:([^:/]*)(?::([^@]*))?@)?` +
	`(?:(?:\[([^/?]+)\]|([^/:?]+))?(?::([^/?]*))?)?` +
	`(?:/([^?]*))?` +
	`(?:\?(.*))?$`)

// parseURL splits raw; ok is false when it is not a URL at all.
func parseURL(raw string) (u dbURL, ok bool) {
	m := sqlaURLRE.FindStringSubmatchIndex(raw)
	if m == nil {
		return u, false
	}
	group := func(i int) string {
		if m[2*i] < 0 {
			return ""
		}
		return raw[m[2*i]:m[2*i+1]]
	}
	u.scheme = group(1)
	u.user = pyUnquote(group(2))
	if m[6] >= 0 {
		u.hasPassword = true
		u.password = pyUnquote(group(3))
		u.pwStart, u.pwEnd = m[6], m[7]
	}
	u.host = group(4)
	if u.host == "" {
		u.host = group(5)
	}
	u.port = group(6)
	u.database = group(7)
	u.query = url.Values{}
	for _, kv := range strings.Split(group(8), "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		u.query.Add(pyUnquote(strings.ReplaceAll(k, "+", " ")), pyUnquote(strings.ReplaceAll(v, "+", " ")))
	}
	return u, true
}

// pyUnquote is Python's urllib.parse.unquote: %XX sequences are decoded,
// anything else (an invalid escape included) is kept as it is.
func pyUnquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// redact is raw with its password replaced by "***", for logs and errors;
// a string that is not a URL is not shown at all.
func redact(raw string) string {
	if !strings.Contains(raw, "://") {
		return "(not a database URL)"
	}
	u, ok := parseURL(raw)
	if !ok {
		scheme, _, _ := strings.Cut(raw, "://")
		return scheme + "://***"
	}
	if !u.hasPassword {
		return raw
	}
	return raw[:u.pwStart] + "***" + raw[u.pwEnd:]
}

// hostPort is host:port with the engine's default port.
func (u dbURL) hostPort(defPort string) string {
	h := u.host
	if h == "" {
		h = "127.0.0.1"
	}
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	p := u.port
	if p == "" {
		p = defPort
	}
	return h + ":" + p
}
