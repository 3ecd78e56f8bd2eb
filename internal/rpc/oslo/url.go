package oslo

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Host is one broker of a transport_url.
type Host struct {
	Hostname string
	Port     int // 0: 5672 (5671 is never implied; TLS is an option)
	Username string
	Password string
	HasCreds bool
}

// TransportURL is a parsed oslo.messaging transport_url:
//
//	rabbit://user:pass@host1:port1[,userN:passN@hostN:portN]/virtual_host?option=value
//
// The query sets [oslo_messaging_rabbit] options for this transport (they
// override the configuration file, as oslo's ConfigOptsProxy does).
type TransportURL struct {
	Scheme      string
	Hosts       []Host
	VirtualHost string // "" = the broker's default "/"
	Query       map[string]string
}

// ParseTransportURL parses a transport_url the way oslo.messaging's
// TransportURL.parse does (hosts split on ",", each with optional
// credentials; the vhost is the unquoted path after the first "/").
func ParseTransportURL(s string) (*TransportURL, error) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return nil, fmt.Errorf("invalid transport_url %q: no scheme specified", redact(s))
	}
	u := &TransportURL{Scheme: s[:i], Query: map[string]string{}}
	switch u.Scheme {
	case "rabbit", "amqp", "kombu+rabbit", "kombu+amqp":
	default:
		return nil, fmt.Errorf("invalid transport_url %q: unsupported transport %q (only rabbit)", redact(s), u.Scheme)
	}
	rest := s[i+3:]
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		vals, err := url.ParseQuery(rest[q+1:])
		if err != nil {
			return nil, fmt.Errorf("invalid transport_url query: %w", err)
		}
		for k, vs := range vals {
			u.Query[k] = strings.Join(vs, ",")
		}
		rest = rest[:q]
	}
	netloc, path := rest, ""
	if p := strings.IndexByte(rest, '/'); p >= 0 {
		netloc, path = rest[:p], rest[p+1:]
		vh, err := url.PathUnescape(path)
		if err != nil {
			return nil, fmt.Errorf("invalid transport_url virtual host: %w", err)
		}
		u.VirtualHost = vh
	}
	for _, h := range strings.Split(netloc, ",") {
		if h == "" {
			continue
		}
		host, err := parseHost(h)
		if err != nil {
			return nil, fmt.Errorf("invalid transport_url %q: %w", redact(s), err)
		}
		u.Hosts = append(u.Hosts, host)
	}
	if len(u.Hosts) == 0 {
		u.Hosts = []Host{{Hostname: "localhost"}}
	}
	return u, nil
}

func parseHost(h string) (Host, error) {
	var host Host
	if at := strings.LastIndexByte(h, '@'); at >= 0 {
		cred := h[:at]
		h = h[at+1:]
		user, pass, hasPass := strings.Cut(cred, ":")
		var err error
		if host.Username, err = url.PathUnescape(user); err != nil {
			return host, err
		}
		if hasPass {
			if host.Password, err = url.PathUnescape(pass); err != nil {
				return host, err
			}
			host.HasCreds = true
		}
	}
	port := ""
	switch {
	case strings.HasPrefix(h, "["):
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return host, fmt.Errorf("invalid IPv6 host %q", h)
		}
		host.Hostname = h[1:end]
		if after := h[end+1:]; strings.HasPrefix(after, ":") {
			port = after[1:]
		}
	case strings.Contains(h, ":"):
		host.Hostname, port, _ = strings.Cut(h, ":")
	default:
		host.Hostname = h
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return host, fmt.Errorf("invalid port %q", port)
		}
		host.Port = n
	}
	return host, nil
}

// dialInfo returns the amqp:// (or amqps://) URL of host i, without
// credentials, and the credentials to log in with: the host's own, else the
// first host's that has some, else guest/guest (kombu's defaults).
func (u *TransportURL) dialInfo(i int, useTLS bool) (addr, user, pass string) {
	h := u.Hosts[i]
	user, pass = h.Username, h.Password
	if !h.HasCreds {
		for _, o := range u.Hosts {
			if o.HasCreds {
				user, pass = o.Username, o.Password
				break
			}
		}
	}
	if user == "" && pass == "" {
		user, pass = "guest", "guest"
	}
	scheme := "amqp"
	if useTLS {
		scheme = "amqps"
	}
	return scheme + "://" + u.Addr(i) + "/", user, pass
}

// Vhost is the virtual host to open ("/" when the URL names none).
func (u *TransportURL) Vhost() string {
	if u.VirtualHost == "" {
		return "/"
	}
	return u.VirtualHost
}

// Addr is host:port of host i, for logs.
func (u *TransportURL) Addr(i int) string {
	h := u.Hosts[i]
	port := h.Port
	if port == 0 {
		port = 5672
	}
	hostname := h.Hostname
	if hostname == "" {
		hostname = "localhost"
	}
	return net.JoinHostPort(hostname, strconv.Itoa(port))
}

// redact hides passwords in a transport_url for error messages.
func redact(s string) string {
	var b strings.Builder
	for _, part := range strings.SplitAfter(s, "@") {
		if strings.HasSuffix(part, "@") {
			if c := strings.LastIndexByte(part, ':'); c > strings.LastIndex(part, "//") && c >= 0 {
				b.WriteString(part[:c+1] + "***@")
				continue
			}
		}
		b.WriteString(part)
	}
	return b.String()
}
