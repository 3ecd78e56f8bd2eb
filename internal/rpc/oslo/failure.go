package oslo

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RemoteError is an exception raised by the remote endpoint of a call, as
// oslo.messaging serializes it in a reply's `failure`: a JSON string with the
// exception's class and module, its message, traceback lines, positional
// args and keyword args. Endpoints return a *RemoteError to make the caller
// see a given Python exception (e.g. Class "PortNotFound", Module
// "neutron_lib.exceptions", Kwargs {"port_id": ...}); the client returns one
// when the callee failed.
type RemoteError struct {
	Class     string         `json:"class"`
	Module    string         `json:"module"`
	Message   string         `json:"message"`
	Traceback []string       `json:"tb"`
	Args      []any          `json:"args"`
	Kwargs    map[string]any `json:"kwargs"`
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote error: %s.%s: %s", e.Module, e.Class, e.Message)
}

// Exception builds the RemoteError an endpoint returns to raise a Python
// exception of the given module and class; the message is also its single
// positional argument, as for a plain Python exception.
func Exception(module, class, message string, kwargs map[string]any) *RemoteError {
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return &RemoteError{Class: class, Module: module, Message: message,
		Traceback: []string{}, Args: []any{message}, Kwargs: kwargs}
}

// serializeFailure turns an endpoint error into oslo's failure string. Errors
// that are not a *RemoteError travel as a builtins.Exception (the caller sees
// a RemoteError/Exception with the message).
func serializeFailure(err error) string {
	var re *RemoteError
	if !errors.As(err, &re) {
		re = Exception("builtins", "Exception", err.Error(), nil)
	}
	out := *re
	if out.Traceback == nil {
		out.Traceback = []string{}
	}
	if out.Args == nil {
		out.Args = []any{}
	}
	if out.Kwargs == nil {
		out.Kwargs = map[string]any{}
	}
	b, _ := marshalPython(out)
	return string(b)
}

// parseFailure decodes a reply's failure string; a failure that is not the
// expected JSON becomes a RemoteError carrying the raw text.
func parseFailure(s string) *RemoteError {
	var re RemoteError
	if err := json.Unmarshal([]byte(s), &re); err != nil {
		return &RemoteError{Class: "RemoteError", Module: "oslo_messaging", Message: s}
	}
	return &re
}

// Dispatcher errors, serialized with oslo.messaging's own classes so that a
// Python caller raises the same exception it would get from a Python server.
func noSuchMethod(method string) *RemoteError {
	return Exception("oslo_messaging.rpc.dispatcher", "NoSuchMethod",
		"Endpoint does not support RPC method "+method, nil)
}

func unsupportedVersion(version, method string) *RemoteError {
	msg := "Endpoint does not support RPC version " + version
	if method != "" {
		msg += ". Attempted method: " + method
	}
	return Exception("oslo_messaging.rpc.dispatcher", "UnsupportedVersion", msg, nil)
}

// TimeoutError is returned by a call that got no reply in time
// (oslo_messaging.MessagingTimeout).
type TimeoutError struct {
	MsgID string
	Topic string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for a reply to message ID %s (topic %s)", e.After, e.MsgID, e.Topic)
}

// ErrUndeliverable is returned when a message had to reach a queue (a reply,
// or a cast with Target.Mandatory) and the broker had none to route it to
// until the retry window ended.
var ErrUndeliverable = errors.New("oslo: message undeliverable: no queue bound for it")

// ErrClosed is returned by operations on a closed Transport.
var ErrClosed = errors.New("oslo: transport closed")

func nowTimestamp() string {
	return time.Now().UTC().Format("2006-01-02 15:04:05.000000")
}
