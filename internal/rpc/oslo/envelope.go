package oslo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Envelope keys and version of oslo.messaging's message format 2.0: the AMQP
// body is {"oslo.version": "2.0", "oslo.message": "<the message as a JSON
// string>"}.
const (
	envelopeVersion = "2.0"
	versionKey      = "oslo.version"
	messageKey      = "oslo.message"
	contextPrefix   = "_context_"
)

// Context is the request context that travels with every message as the
// flattened `_context_<key>` entries (oslo.context's to_dict()).
type Context map[string]any

// AdminContext returns the context the Neutron server sends with its own
// notifications and that agents send with their calls: an admin context
// without a user, with a fresh request id and timestamp.
func AdminContext() Context {
	return Context{
		"auth_token": nil, "domain": nil, "global_request_id": nil,
		"is_admin": true, "is_admin_project": true,
		"project": nil, "project_domain": nil, "project_id": nil, "project_name": nil,
		"read_only": false, "request_id": "req-" + uuid.NewString(),
		"resource_uuid": nil, "roles": []string{}, "show_deleted": false,
		"system_scope": nil, "tenant_id": nil, "tenant_name": nil,
		"timestamp": nowTimestamp(), "user": nil, "user_domain": nil,
		"user_id": nil, "user_identity": "- - - - -", "user_name": nil,
	}
}

// String returns a context value as a string ("" when absent or not a string).
func (c Context) String(key string) string {
	s, _ := c[key].(string)
	return s
}

// Message is one decoded oslo.messaging message: a request (method, args,
// version, namespace, and for calls msg_id/reply_q) or a reply (result,
// failure, ending). Raw keeps every key of the inner message.
type Message struct {
	Method    string
	Namespace string // "" when absent (null)
	Version   string // "1.0" when absent
	Args      map[string]json.RawMessage
	Context   Context
	MsgID     string // calls and replies
	ReplyQ    string // calls
	Timeout   any    // the call-monitor timeout (_timeout), usually null
	UniqueID  string

	// Replies.
	Result  json.RawMessage
	Failure string // serialized remote exception; "" = none
	Ending  bool
	IsReply bool
}

// newUniqueID returns a uuid4 in hex, as oslo's msg ids and unique ids.
func newUniqueID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// encodeEnvelope wraps an inner message (a JSON object) in the 2.0 envelope.
func encodeEnvelope(inner map[string]any) ([]byte, error) {
	raw, err := marshalPython(inner)
	if err != nil {
		return nil, err
	}
	return marshalPython(map[string]any{versionKey: envelopeVersion, messageKey: string(raw)})
}

// marshalPython encodes v as JSON without Go's HTML escaping (Python's
// json.dumps leaves <, > and & alone).
func marshalPython(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// requestBody builds the inner message of a cast or a call.
func requestBody(ctx Context, method, namespace, version string, args any) map[string]any {
	m := map[string]any{"method": method, "args": args}
	if args == nil {
		m["args"] = map[string]any{}
	}
	if namespace != "" {
		m["namespace"] = namespace
	}
	if version != "" {
		m["version"] = version
	}
	for k, v := range ctx {
		m[contextPrefix+k] = v
	}
	m["_unique_id"] = newUniqueID()
	return m
}

// decodeMessage parses an AMQP body: the 2.0 envelope, or (as oslo accepts)
// a bare message object without one.
func decodeMessage(body []byte) (*Message, error) {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(body, &outer); err != nil {
		return nil, fmt.Errorf("oslo: message is not a JSON object: %w", err)
	}
	inner := outer
	if v, ok := outer[versionKey]; ok {
		if m, ok2 := outer[messageKey]; ok2 {
			var ver, s string
			if err := json.Unmarshal(v, &ver); err != nil {
				return nil, fmt.Errorf("oslo: bad envelope version: %w", err)
			}
			if !VersionCompatible(envelopeVersion, ver) {
				return nil, fmt.Errorf("oslo: unsupported envelope version %q", ver)
			}
			if err := json.Unmarshal(m, &s); err != nil {
				return nil, fmt.Errorf("oslo: envelope message is not a string: %w", err)
			}
			inner = nil
			if err := json.Unmarshal([]byte(s), &inner); err != nil {
				return nil, fmt.Errorf("oslo: inner message is not a JSON object: %w", err)
			}
		}
	}
	return parseInner(inner)
}

func parseInner(inner map[string]json.RawMessage) (*Message, error) {
	msg := &Message{Context: Context{}, Version: "1.0"}
	str := func(k string) string {
		var s string
		if raw, ok := inner[k]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return s
	}
	for k, raw := range inner {
		if strings.HasPrefix(k, contextPrefix) {
			var v any
			if err := json.Unmarshal(raw, &v); err == nil {
				msg.Context[k[len(contextPrefix):]] = v
			}
		}
	}
	msg.Method, msg.Namespace, msg.MsgID, msg.ReplyQ, msg.UniqueID =
		str("method"), str("namespace"), str("_msg_id"), str("_reply_q"), str("_unique_id")
	if v := str("version"); v != "" {
		msg.Version = v
	}
	if raw, ok := inner["_timeout"]; ok {
		_ = json.Unmarshal(raw, &msg.Timeout)
	}
	if raw, ok := inner["args"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &msg.Args); err != nil {
			return nil, fmt.Errorf("oslo: args is not an object: %w", err)
		}
	}
	_, hasResult := inner["result"]
	_, hasFailure := inner["failure"]
	_, hasEnding := inner["ending"]
	msg.IsReply = msg.Method == "" && (hasResult || hasFailure || hasEnding)
	if msg.IsReply {
		msg.Result = inner["result"]
		msg.Failure = str("failure")
		var ending bool
		if raw, ok := inner["ending"]; ok {
			_ = json.Unmarshal(raw, &ending)
		}
		msg.Ending = ending
	}
	return msg, nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// VersionCompatible reports whether an endpoint implementing version imp
// ("X.Y" or "X.Y.Z") can serve a request for version req, with oslo's rule:
// same major, requested minor (and revision) not above the implemented one.
func VersionCompatible(imp, req string) bool {
	if imp == "" {
		return true
	}
	if req == "" {
		return false
	}
	i, err1 := parseVersion(imp)
	r, err2 := parseVersion(req)
	if err1 != nil || err2 != nil {
		return false
	}
	if i[0] != r[0] {
		return false
	}
	if r[1] != i[1] {
		return r[1] < i[1]
	}
	return r[2] <= i[2]
}

func parseVersion(s string) ([3]int, error) {
	var v [3]int
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, errors.New("oslo: bad version " + strconv.Quote(s))
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, errors.New("oslo: bad version " + strconv.Quote(s))
		}
		v[i] = n
	}
	return v, nil
}
