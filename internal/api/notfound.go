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
	switch negotiate(r) {
	case "json":
		msg := "The resource could not be found.<br /><br />\n" + detail + "\n\n"
		writeRaw(w, "application/json", AppendJSONSpaced(nil, Ordered{M: map[string]any{
			"code": "404 Not Found", "message": msg, "title": "Not Found"}, Order: []string{"code", "message", "title"}}))
	case "html":
		writeRaw(w, "text/html; charset=UTF-8", []byte("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n"+detail+"\n\n\n </body>\n</html>"))
	default:
		writeRaw(w, "text/plain; charset=UTF-8", []byte("404 Not Found\n\nThe resource could not be found.\n\n "+detail+"  "))
	}
}

// URLMapNotFound is the 404 of Neutron's top-level URL map (paths outside
// /, /healthcheck and /v2.0).
func URLMapNotFound(w http.ResponseWriter, r *http.Request) {
	switch negotiate(r) {
	case "json":
		writeRaw(w, "application/json", []byte(`{"code": 404, "description": null, "title": "Not Found"}`))
	case "html":
		writeRaw(w, "text/html; charset=UTF-8", []byte("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>"))
	default:
		writeRaw(w, "text/plain; charset=UTF-8", []byte("404 Not Found\n\nThe resource could not be found.\n\n   "))
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

func writeRaw(w http.ResponseWriter, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusNotFound)
	w.Write(body)
}
