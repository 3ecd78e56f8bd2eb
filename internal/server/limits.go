package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neutrino-os/neutrino/internal/config"
)

func init() {
	config.Register(
		&config.Option{Group: "oslo_middleware", Name: "max_request_body_size", Type: config.Int, Default: "114688",
			Help: "The maximum body size of a request, in bytes (oslo.middleware's sizelimit): a larger body is refused with 413 before it is read. Neutron's pipeline has no such limit; 0 or less: none."},
		&config.Option{Group: "oslo_middleware", Name: "enable_proxy_headers_parsing", Type: config.Bool, Default: "false",
			Help: "Whether the application is behind a proxy whose Forwarded / X-Forwarded-For, -Proto and -Host headers are to be believed (oslo.middleware's http_proxy_to_wsgi): the client address of the access log, and the scheme and host of links. Off: those headers are ignored."},
		&config.Option{Name: "wsgi_default_pool_size", Type: config.Int, Min: config.IntPtr(1), Default: "1000",
			Help: "The maximum number of client connections one neutrino process holds open; more wait in the listen backlog. Neutron's default is 100 per API worker; one neutrino process stands in for all of them."},
		&config.Option{Name: "client_socket_timeout", Type: config.Int, Min: config.IntPtr(0), Default: "900",
			Help: "Seconds an idle keep-alive connection is kept open, and the bound of writing one response; 0: no bound."},
		&config.Option{Name: "client_body_timeout", Type: config.Int, Min: config.IntPtr(0), Default: "60",
			Help: "Seconds a client has to send one request, headers and body; a slower client is disconnected (neutrino only: eventlet bounds each socket read by client_socket_timeout instead); 0: no bound."},
		&config.Option{Name: "max_header_line", Type: config.Int, Min: config.IntPtr(1), Default: "16384",
			Help: "Maximum length of one request header line; a longer one gets 400 (as eventlet). Raise it for very large tokens."},
		&config.Option{Name: "wsgi_keep_alive", Type: config.Bool, Default: "true",
			Help: "If false, the connection is closed after each response."},
		&config.Option{Name: "max_bulk_items", Type: config.Int, Min: config.IntPtr(0), Default: "1000",
			Help: "The maximum number of resources one bulk create may hold (neutrino only: Neutron has no bound; a bulk create is one transaction, and on SQLite it holds the write lock while it runs); a larger bulk gets 400; 0: no bound."},
	)
}

// Limits bound what one client can hold of the server.
type Limits struct {
	// MaxBodySize is max_request_body_size (<= 0: none).
	MaxBodySize int64
	// MaxConnections is wsgi_default_pool_size (0: none).
	MaxConnections int
	// IdleTimeout is client_socket_timeout (keep-alive idle, response write).
	IdleTimeout time.Duration
	// ReadTimeout is client_body_timeout (one request, headers and body).
	ReadTimeout time.Duration
	// MaxHeaderLine is max_header_line (0: none).
	MaxHeaderLine int
	// NoKeepAlive is wsgi_keep_alive = false.
	NoKeepAlive bool
	// TrustProxyHeaders is enable_proxy_headers_parsing.
	TrustProxyHeaders bool
}

// LimitsFromConfig reads the limits from the configuration.
func LimitsFromConfig(c *config.Config) Limits {
	sec := func(name string) time.Duration { return time.Duration(c.Int("DEFAULT", name)) * time.Second }
	return Limits{
		MaxBodySize:       int64(c.Int("oslo_middleware", "max_request_body_size")),
		MaxConnections:    c.Int("DEFAULT", "wsgi_default_pool_size"),
		IdleTimeout:       sec("client_socket_timeout"),
		ReadTimeout:       sec("client_body_timeout"),
		MaxHeaderLine:     c.Int("DEFAULT", "max_header_line"),
		NoKeepAlive:       !c.Bool("DEFAULT", "wsgi_keep_alive"),
		TrustProxyHeaders: c.Bool("oslo_middleware", "enable_proxy_headers_parsing"),
	}
}

// headerLinesOK is eventlet's MAX_HEADER_LINE check: false (and a 400
// written, the connection closed) when a header line is too long.
func (s *Server) headerLinesOK(w http.ResponseWriter, r *http.Request) bool {
	max := s.Limits.MaxHeaderLine
	if max <= 0 {
		return true
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if len(k)+2+len(v) >= max {
				w.Header().Set("Connection", "close")
				w.Header().Set("Content-Length", "0")
				w.WriteHeader(http.StatusBadRequest)
				return false
			}
		}
	}
	return true
}

// limitBody is oslo.middleware's sizelimit: a body over MaxBodySize gets
// webob's 413 before it is read (Content-Length) or once it is (chunked,
// read here, at most MaxBodySize+1 bytes).
func (s *Server) limitBody(next http.Handler) http.Handler {
	max := s.Limits.MaxBodySize
	if max <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tooLarge := func() {
			msg := "Request is too large. Larger than max_request_body_size (" + strconv.FormatInt(max, 10) + ")."
			w.Header().Set("Connection", "close")
			writeWebob413(w, r, msg)
		}
		switch {
		case r.ContentLength > max:
			tooLarge()
			return
		case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
			data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
			if int64(len(data)) > max {
				tooLarge()
				return
			}
			if err != nil {
				w.Header().Set("Connection", "close")
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
		default:
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// writeWebob413 is webob's HTTPRequestEntityTooLarge as oslo.middleware
// raises it, in the form the Accept header picks.
func writeWebob413(w http.ResponseWriter, r *http.Request, msg string) {
	const status, title = "413 Request Entity Too Large", "Request Entity Too Large"
	accept := strings.ToLower(r.Header.Get("Accept"))
	var ct, body string
	switch {
	case strings.Contains(accept, "application/json"):
		ct = "application/json"
		body = `{"message": "` + msg + `<br /><br />\n\n\n", "code": "` + status + `", "title": "` + title + `"}`
	case strings.Contains(accept, "text/html"), strings.Contains(accept, "*/*"):
		ct = "text/html; charset=UTF-8"
		body = "<html>\n <head>\n  <title>" + status + "</title>\n </head>\n <body>\n  <h1>" + status + "</h1>\n  " + msg + "<br /><br />\n\n\n\n </body>\n</html>"
	default:
		ct = "text/plain; charset=UTF-8"
		body = status + "\n\n" + msg + "\n\n   "
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

// proxyHeaders is oslo.middleware's http_proxy_to_wsgi: with
// enable_proxy_headers_parsing, the first proxy's Forwarded (RFC 7239)
// entry, else X-Forwarded-Proto/-Host/-For, set the scheme (as
// X-Forwarded-Proto for the layers below), host and client address;
// without it they are ignored (and X-Forwarded-Proto removed).
func (s *Server) proxyHeaders(r *http.Request) {
	if !s.Limits.TrustProxyHeaders {
		r.Header.Del("X-Forwarded-Proto")
		return
	}
	proto, host, addr := "", "", ""
	if fwd := r.Header.Get("Forwarded"); fwd != "" {
		first, _, _ := strings.Cut(fwd, ",")
		for _, kv := range strings.Split(first, ";") {
			k, v, _ := strings.Cut(kv, "=")
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "proto":
				proto = strings.TrimSpace(v)
			case "host":
				host = strings.TrimSpace(v)
			case "for":
				addr = strings.TrimSpace(v)
			}
		}
	} else {
		proto = r.Header.Get("X-Forwarded-Proto")
		host = r.Header.Get("X-Forwarded-Host")
		addr = r.Header.Get("X-Forwarded-For")
	}
	r.Header.Del("X-Forwarded-Proto")
	if proto != "" {
		r.Header.Set("X-Forwarded-Proto", proto)
	}
	if host != "" {
		r.Host = host
	}
	if addr != "" {
		r.RemoteAddr = addr
	}
}

// limitListener accepts at most n connections at a time; Accept waits
// (the kernel's backlog holds the rest), as eventlet's green pool does.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(l net.Listener, n int) net.Listener {
	if n <= 0 {
		return l
	}
	return &limitListener{Listener: l, sem: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
