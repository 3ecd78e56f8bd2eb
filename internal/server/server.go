// Package server is neutrino's HTTP front end: the api-paste pipeline of
// the Neutron server (request id, proxy headers, error catching,
// authentication, access log) in front of the version document, the
// health check and the generic API controller, plus the listening socket's
// lifecycle (systemd readiness, graceful drain on SIGTERM).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Server is the API server.
type Server struct {
	// API serves /v2.0.
	API http.Handler
	// Auth wraps API (keystone middleware); nil means noauth.
	Auth func(http.Handler) http.Handler
	// Ready reports health for /healthcheck (nil: always healthy).
	Ready func(ctx context.Context) error
	Log   *slog.Logger
	// AccessLog enables one log line per request.
	AccessLog bool
	// Limits bound body sizes, connections and timeouts (zero: none).
	Limits Limits

	handler   http.Handler
	inflight  atomic.Int64
	accessLog *slog.Logger
}

// maxRequestLine is eventlet.wsgi's MAX_REQUEST_LINE, the bound of the
// request line (method, URI, protocol and CRLF) the reference serves.
const maxRequestLine = 8192

// Handler builds the request pipeline:
//
//	/            → versions (no auth)
//	/healthcheck → health (no auth)
//	/v2.0/...    → request id → catch errors → auth → API
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.accessLog = s.Log.With(LoggerKey, "neutron.wsgi")
	var v2 http.Handler = recordCaller(s.API)
	if s.Auth != nil {
		v2 = s.Auth(v2)
	} else {
		v2 = noauth(v2)
	}
	v2 = s.limitBody(s.catchErrors(v2))
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// eventlet's wsgi server refuses a request line of 8 KiB or more
		if len(r.Method)+len(r.RequestURI)+len(r.Proto)+4 >= maxRequestLine {
			w.Header().Set("Connection", "close")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusRequestURITooLong)
			return
		}
		if !s.headerLinesOK(w, r) {
			return
		}
		p := r.URL.Path
		switch {
		case p == "/v2.0" || strings.HasPrefix(p, "/v2.0/"):
			v2.ServeHTTP(w, r)
		case p == "/" || p == "":
			s.versions(w, r)
		case p == "/healthcheck" || strings.HasPrefix(p, "/healthcheck/"):
			s.health(w, r)
		default:
			api.URLMapNotFound(w, r)
		}
	})
	s.handler = s.requestID(mux)
	return s.handler
}

// InFlight is the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// requestID gives every request its req-<uuid> (oslo's RequestId) and
// writes the access log line, and for a client error (4xx) the reason, as
// Neutron's "<action> failed (client error): <message>". Both lines carry
// the caller the authentication found (request id, user, project).
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		start := time.Now()
		s.proxyHeaders(r)
		id := "req-" + uuid.NewString()
		w.Header().Set("X-Openstack-Request-Id", id)
		rc := &reqctx.Context{RequestID: id}
		caller := &callerBox{rc: rc}
		ctx := context.WithValue(reqctx.With(r.Context(), rc), callerKey{}, caller)
		r = r.WithContext(ctx)
		rw := &statusWriter{ResponseWriter: w, status: 200}
		next.ServeHTTP(rw, r)
		if !s.AccessLog {
			return
		}
		lctx := reqctx.With(ctx, caller.rc)
		if rw.status >= 400 && rw.status < 500 && s.accessLog.Enabled(lctx, slog.LevelInfo) {
			s.accessLog.LogAttrs(lctx, slog.LevelInfo, actionOf(r)+" failed (client error): "+errorMessage(rw.errBody))
		}
		s.accessLog.LogAttrs(lctx, slog.LevelInfo, fmt.Sprintf("%s \"%s %s %s\" status: %d  len: %d time: %.7f",
			clientIP(r), r.Method, r.URL.RequestURI(), r.Proto, rw.status, rw.n, time.Since(start).Seconds()))
	})
}

// callerBox carries the caller the authentication middleware found back to
// requestID, which logs with it.
type callerBox struct{ rc *reqctx.Context }

type callerKey struct{}

// recordCaller, just behind authentication, records the caller.
func recordCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := r.Context().Value(callerKey{}).(*callerBox); b != nil {
			if rc := reqctx.From(r.Context()); rc != nil {
				b.rc = rc
			}
		}
		next.ServeHTTP(w, r)
	})
}

// actionOf names a request as Neutron's controller actions do.
func actionOf(r *http.Request) string {
	switch r.Method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodDelete:
		return "delete"
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	last := p[strings.LastIndex(p, "/")+1:]
	if uuid.Validate(last) == nil {
		return "show"
	}
	return "index"
}

// errorMessage is the message of a Neutron error body, or the body.
func errorMessage(body []byte) string {
	var e struct {
		NeutronError struct{ Type, Message string }
	}
	if json.Unmarshal(body, &e) == nil && e.NeutronError.Message != "" {
		return e.NeutronError.Message
	}
	return strings.TrimSpace(string(body))
}

// clientIP is the peer's address, or what a trusted proxy said it was
// (proxyHeaders).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	n       int
	wrote   bool
	errBody []byte // the start of a 4xx body, for the log
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	if w.status >= 400 && w.status < 500 && len(w.errBody) < 2048 {
		w.errBody = append(w.errBody, b[:min(len(b), 2048-len(w.errBody))]...)
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += n
	return n, err
}

// catchErrors turns a panic anywhere below into a Neutron 500.
func (s *Server) catchErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.ErrorContext(r.Context(), "unhandled panic", "panic", p, "path", r.URL.Path)
				api.WriteError(w, s.Log, nerr.Internal())
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// noauth builds the caller as Neutron's noauth pipeline does: without an
// X-Project-Id header the caller is an admin of "fake_project_id"
// (NoauthFakeProjectId); with one, Neutron falls back to an admin context
// without a project.
func noauth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := reqctx.From(r.Context())
		c := &reqctx.Context{IsAdmin: true}
		if rc != nil {
			c.RequestID = rc.RequestID
		}
		if r.Header.Get("X-Project-Id") == "" && r.Header.Get("X-Tenant-Id") == "" {
			c.ProjectID = "fake_project_id"
			c.UserID = r.Header.Get("X-User-Id")
			c.Roles = splitRoles(r.Header.Get("X-Roles"))
			if !c.HasRole("admin") {
				c.Roles = append(c.Roles, "admin")
			}
		}
		next.ServeHTTP(w, r.WithContext(reqctx.With(r.Context(), c)))
	})
}

func splitRoles(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		api.WriteError(w, s.Log, nerr.HTTPMethodNotAllowed())
		return
	}
	if !api.AcceptsJSON(r.Header) {
		api.WriteError(w, s.Log, nerr.HTTPNotAcceptable())
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = p
	}
	href := scheme + "://" + r.Host + "/v2.0/"
	body := `{"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": ` +
		string(api.AppendJSON(nil, href)) + `}]}]}`
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(body))
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	status, text := http.StatusOK, "OK"
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			status, text = http.StatusServiceUnavailable, "ERROR"
			s.Log.Warn("health check failed", "error", err)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(text))
	}
}

// Serve serves on ln until ctx is cancelled, then drains in-flight
// requests for up to drain and returns. It notifies systemd once serving.
func (s *Server) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       s.Limits.ReadTimeout,
		IdleTimeout:       s.Limits.IdleTimeout,
		WriteTimeout:      s.Limits.IdleTimeout,
		MaxHeaderBytes:    max(1<<20, 64*s.Limits.MaxHeaderLine),
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	if s.Limits.ReadTimeout > 0 && s.Limits.ReadTimeout < srv.ReadHeaderTimeout {
		srv.ReadHeaderTimeout = s.Limits.ReadTimeout
	}
	if s.Limits.IdleTimeout == 0 {
		srv.IdleTimeout = -1 // not ReadTimeout: an idle connection is not a slow request
	}
	srv.SetKeepAlivesEnabled(!s.Limits.NoKeepAlive)
	s.warnOpenNoauth(ln.Addr())
	ln = newLimitListener(ln, s.Limits.MaxConnections)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		s.Log.Warn("systemd notification failed", "error", err)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	s.Log.Info("draining in-flight requests", "in_flight", s.InFlight(), "timeout", drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.Log.Warn("drain timed out; closing remaining connections")
		srv.Close()
		return nil
	}
	if errors.Is(<-errc, http.ErrServerClosed) {
		return err
	}
	return err
}

// warnOpenNoauth warns loudly when the API runs without authentication on
// a socket other hosts can reach: every caller is an administrator.
func (s *Server) warnOpenNoauth(addr net.Addr) {
	tcp, ok := addr.(*net.TCPAddr)
	if s.Auth != nil || !ok || tcp.IP.IsLoopback() {
		return
	}
	msg := "auth_strategy = noauth on " + tcp.String() + ": ANY client that can reach this address is an ADMINISTRATOR of every project. " +
		"Set bind_host = 127.0.0.1, or auth_strategy = keystone."
	if tcp.IP.IsUnspecified() {
		msg = "auth_strategy = noauth while listening on ALL interfaces (" + tcp.String() + "): ANY client that can reach this host is an ADMINISTRATOR of every project. " +
			"Set bind_host = 127.0.0.1, or auth_strategy = keystone."
	}
	banner := strings.Repeat("!", 100)
	s.Log.Warn(banner)
	s.Log.Warn(msg)
	s.Log.Warn(banner)
}
