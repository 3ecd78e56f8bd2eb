package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// appendText formats a line as oslo.log's default formats do:
//
//	2026-01-02 15:04:05.000 PID LEVEL name [None req-… user project - - user_domain project_domain] message k=v …
//	2026-01-02 15:04:05.000 PID LEVEL name [-] message k=v …   (outside a request)
func (h *logHandler) appendText(b []byte, ctx context.Context, r slog.Record, attrs []slog.Attr) []byte {
	b = r.Time.AppendFormat(b, "2006-01-02 15:04:05.000")
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(h.l.pid), 10)
	b = append(b, ' ')
	b = append(b, levelName(r.Level)...)
	b = append(b, ' ')
	b = append(b, h.name...)
	b = append(b, " ["...)
	if rc := reqctx.From(ctx); rc != nil {
		b = append(b, "None "...)
		b = append(b, dash(rc.RequestID)...)
		for _, s := range []string{rc.UserID, rc.ProjectID, rc.DomainID, rc.SystemScope, rc.UserDomainID, rc.ProjectDomainID} {
			b = append(b, ' ')
			b = append(b, dash(s)...)
		}
	} else {
		b = append(b, '-')
	}
	b = append(b, "] "...)
	b = append(b, r.Message...)
	for _, a := range attrs {
		b = appendTextAttr(b, a, "")
	}
	return append(b, '\n')
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func appendTextAttr(b []byte, a slog.Attr, prefix string) []byte {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			b = appendTextAttr(b, g, prefix+a.Key+".")
		}
		return b
	}
	b = append(b, ' ')
	b = append(b, prefix...)
	b = append(b, a.Key...)
	b = append(b, '=')
	s := v.String()
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// jsonLine is oslo.log's JSONFormatter record, the fields an operator's
// log pipeline reads.
type jsonLine struct {
	Message   string         `json:"message"`
	Asctime   string         `json:"asctime"`
	Name      string         `json:"name"`
	Levelname string         `json:"levelname"`
	Levelno   int            `json:"levelno"`
	Created   float64        `json:"created"`
	Process   int            `json:"process"`
	Hostname  string         `json:"hostname"`
	Context   map[string]any `json:"context"`
	Extra     map[string]any `json:"extra"`
}

func (h *logHandler) appendJSON(b []byte, ctx context.Context, r slog.Record, attrs []slog.Attr) []byte {
	line := jsonLine{
		Message: r.Message, Asctime: r.Time.Format("2006-01-02 15:04:05,000"), Name: h.name,
		Levelname: levelName(r.Level), Levelno: pyLevel(r.Level),
		Created: float64(r.Time.UnixNano()) / float64(time.Second), Process: h.l.pid, Hostname: h.l.host,
		Context: map[string]any{}, Extra: map[string]any{},
	}
	if rc := reqctx.From(ctx); rc != nil {
		line.Context = map[string]any{
			"request_id": rc.RequestID, "global_request_id": nil,
			"user": nilIfEmpty(rc.UserID), "project": nilIfEmpty(rc.ProjectID),
			"user_name": nilIfEmpty(rc.UserName), "project_name": nilIfEmpty(rc.ProjectName),
			"is_admin": rc.IsAdmin, "roles": rc.Roles,
		}
	}
	for _, a := range attrs {
		addJSONAttr(line.Extra, a, "")
	}
	data, err := json.Marshal(line)
	if err != nil {
		data, _ = json.Marshal(jsonLine{Message: r.Message, Name: h.name, Levelname: levelName(r.Level)})
	}
	b = append(b, data...)
	return append(b, '\n')
}

func addJSONAttr(m map[string]any, a slog.Attr, prefix string) {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		for _, g := range v.Group() {
			addJSONAttr(m, g, prefix+a.Key+".")
		}
	case slog.KindAny:
		x := v.Any()
		if e, ok := x.(error); ok {
			x = e.Error()
		} else if _, err := json.Marshal(x); err != nil {
			x = v.String()
		}
		m[prefix+a.Key] = x
	case slog.KindDuration:
		m[prefix+a.Key] = v.Duration().String()
	case slog.KindTime:
		m[prefix+a.Key] = v.Time().Format(time.RFC3339Nano)
	default:
		m[prefix+a.Key] = v.Any()
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// pyLevel is Python's numeric level.
func pyLevel(l slog.Level) int {
	switch levelName(l) {
	case "DEBUG":
		return 10
	case "INFO":
		return 20
	case "WARNING":
		return 30
	}
	return 40
}
