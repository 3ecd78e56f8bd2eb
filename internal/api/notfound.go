package api

import (
	"net/http"
	"strconv"
	"strings"
)

// WebobNotFound answers a 404 the way webob's HTTPNotFound does in front of
// Neutron, choosing the body from the Accept header: JSON
// ({"code": "404 Not Found", "message": ..., "title": "Not Found"}), HTML,
// or plain text when the client names neither. detail is the extra line.
func WebobNotFound(w http.ResponseWriter, r *http.Request, detail string) {
	webobError(w, r, http.StatusNotFound, "Not Found", "The resource could not be found.", detail)
}

// WebobBadRequest is webob's plain 400, as Neutron's core controller
// answers a query string that is not UTF-8.
func WebobBadRequest(w http.ResponseWriter, r *http.Request) {
	webobError(w, r, http.StatusBadRequest, "Bad Request",
		"The server could not comply with the request since it is either malformed or otherwise incorrect.", "")
}

// webobError writes one of webob's HTTP exceptions the way it renders them.
func webobError(w http.ResponseWriter, r *http.Request, code int, title, explanation, detail string) {
	status := strconv.Itoa(code) + " " + title
	switch negotiate(r) {
	case "json":
		msg := explanation + "<br /><br />\n" + detail + "\n\n"
		writeRaw(w, code, "application/json", AppendJSONSpaced(nil, Ordered{M: map[string]any{
			"code": status, "message": msg, "title": title}, Order: []string{"code", "message", "title"}}))
	case "html":
		writeRaw(w, code, "text/html; charset=UTF-8", []byte("<html>\n <head>\n  <title>"+status+"</title>\n </head>\n <body>\n  <h1>"+status+"</h1>\n  "+explanation+"<br /><br />\n"+detail+"\n\n\n </body>\n</html>"))
	default:
		writeRaw(w, code, "text/plain; charset=UTF-8", []byte(status+"\n\n"+explanation+"\n\n "+detail+"  "))
	}
}

// URLMapNotFound is the 404 of Neutron's top-level URL map (paths outside
// /, /healthcheck and /v2.0).
func URLMapNotFound(w http.ResponseWriter, r *http.Request) {
	switch negotiate(r) {
	case "json":
		writeRaw(w, http.StatusNotFound, "application/json", []byte(`{"code": 404, "description": null, "title": "Not Found"}`))
	case "html":
		writeRaw(w, http.StatusNotFound, "text/html; charset=UTF-8", []byte("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>"))
	default:
		writeRaw(w, http.StatusNotFound, "text/plain; charset=UTF-8", []byte("404 Not Found\n\nThe resource could not be found.\n\n   "))
	}
}

func negotiate(r *http.Request) string {
	a := strings.ToLower(r.Header.Get("Accept"))
	switch {
	case strings.Contains(a, "application/json"):
		return "json"
	case strings.Contains(a, "text/html"), strings.Contains(a, "*/*"):
		return "html"
	}
	return "text"
}

func writeRaw(w http.ResponseWriter, code int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}
