// Package nerr holds Neutron's API errors: an error value that knows its HTTP
// status and renders as {"NeutronError": {"type", "message", "detail"}}, and
// constructors for the error types the Networking API returns.
package nerr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an API error as Neutron reports it.
type Error struct {
	Status  int    // HTTP status code
	Type    string // exception class name, e.g. "NetworkNotFound"
	Message string
	Detail  string
	// Key is the body's top-level key, "NeutronError" when empty (Neutron
	// names it after the exception for the few errors that are not its
	// own, e.g. NotImplementedError).
	Key string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Body is the JSON document sent for e.
func (e *Error) Body() map[string]any {
	return map[string]any{e.BodyKey(): map[string]any{
		"type": e.Type, "message": e.Message, "detail": e.Detail,
	}}
}

// BodyKey is the top-level key of the error's body.
func (e *Error) BodyKey() string {
	if e.Key != "" {
		return e.Key
	}
	return "NeutronError"
}

// New builds an Error.
func New(status int, typ, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Status: status, Type: typ, Message: msg}
}

// As returns err as an *Error if it is one (or wraps one).
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// HTTPBadRequest is webob's HTTPBadRequest raised by the API layer itself.
func HTTPBadRequest(format string, args ...any) *Error {
	return New(http.StatusBadRequest, "HTTPBadRequest", format, args...)
}

// HTTPNotFound is webob's HTTPNotFound ("The resource could not be found.").
func HTTPNotFound() *Error {
	return New(http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
}

// MalformedRequestBody is an extension controller's answer to a body it
// cannot parse.
func MalformedRequestBody() *Error {
	return New(http.StatusBadRequest, "MalformedRequestBody", "Malformed request body: Cannot understand JSON.")
}

// HTTPNotAcceptable is webob's 406, for an Accept header without JSON.
func HTTPNotAcceptable() *Error {
	return New(http.StatusNotAcceptable, "HTTPNotAcceptable",
		"The server could not comply with the request since it is either malformed or otherwise incorrect.")
}

// HTTPMethodNotAllowed is answered for a verb a URL does not serve.
func HTTPMethodNotAllowed() *Error {
	return New(http.StatusMethodNotAllowed, "HTTPMethodNotAllowed",
		"The server could not comply with the request since it is either malformed or otherwise incorrect.")
}

// BadRequest is neutron_lib.exceptions.BadRequest: "Bad <resource> request: <msg>."
func BadRequest(resource, msg string) *Error {
	return New(http.StatusBadRequest, "BadRequest", "Bad %s request: %s.", resource, msg)
}

// InvalidInput is neutron_lib.exceptions.InvalidInput.
func InvalidInput(msg string) *Error {
	return New(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: %s.", msg)
}

// NotFound builds a "<Type>" 404 with the given message.
func NotFound(typ, format string, args ...any) *Error {
	return New(http.StatusNotFound, typ, format, args...)
}

// Conflict builds a "<Type>" 409 with the given message.
func Conflict(typ, format string, args ...any) *Error {
	return New(http.StatusConflict, typ, format, args...)
}

// Typed builds an error of any type and status.
func Typed(status int, typ, format string, args ...any) *Error {
	return New(status, typ, format, args...)
}

// Forbidden builds a 403.
func Forbidden(typ, format string, args ...any) *Error {
	return New(http.StatusForbidden, typ, format, args...)
}

// Internal is what an unexpected failure becomes: no details leak out.
func Internal() *Error {
	return New(http.StatusInternalServerError, "HTTPInternalServerError",
		"Request Failed: internal server error while processing your request.")
}

// ServiceUnavailable is a 503 (e.g. the database is unreachable).
func ServiceUnavailable(format string, args ...any) *Error {
	return New(http.StatusServiceUnavailable, "ServiceUnavailable", format, args...)
}
