package oslo

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestVersionCompatible(t *testing.T) {
	cases := []struct {
		imp, req string
		ok       bool
	}{
		{"1.9", "1.9", true}, {"1.9", "1.0", true}, {"1.9", "1.10", false}, {"1.11", "1.9", true},
		{"2.0", "1.9", false}, {"1.2", "1.2.1", false}, {"1.2.3", "1.2.1", true}, {"", "7.0", true},
		{"1.0", "", false}, {"1.0", "x.y", false},
	}
	for _, c := range cases {
		if got := VersionCompatible(c.imp, c.req); got != c.ok {
			t.Errorf("VersionCompatible(%q, %q) = %v", c.imp, c.req, got)
		}
	}
}

// A report_state call exactly as the Zed DHCP agent published it (from the
// reference capture), and the reply the Zed server sent.
func TestDecodeCapturedMessages(t *testing.T) {
	body, err := os.ReadFile("testdata/report_state.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMessage(body)
	if err != nil {
		t.Fatal(err)
	}
	if m.Method != "report_state" || m.Version != "1.2" || m.MsgID != "cbf7306e442d4299adb13a059f38b6b2" ||
		m.ReplyQ != "reply_4d4d98ebd8974c68a4bf94da6987a224" || m.Namespace != "" || m.IsReply ||
		m.UniqueID != "8be152586ad0474e9396e6151d403c52" {
		t.Errorf("decoded: %+v", m)
	}
	if m.Context["is_admin"] != true || m.Context.String("user_identity") != "- - - - -" || m.Context.String("request_id") == "" {
		t.Errorf("context: %v", m.Context)
	}
	var st struct {
		AgentState struct {
			Binary string `json:"binary"`
			Host   string `json:"host"`
		} `json:"agent_state"`
	}
	if _, err := Args(m.Args).Get("agent_state", &st); err != nil || st.AgentState.Binary != "neutron-dhcp-agent" || st.AgentState.Host != "vm" {
		t.Errorf("agent_state: %+v %v", st, err)
	}
	reply := []byte(`{"oslo.version": "2.0", "oslo.message": "{\"result\": \"alive\", \"failure\": null, \"ending\": true, \"_msg_id\": \"cbf7\", \"_unique_id\": \"u1\"}"}`)
	r, err := decodeMessage(reply)
	if err != nil || !r.IsReply || !r.Ending || string(r.Result) != `"alive"` || r.Failure != "" || r.MsgID != "cbf7" {
		t.Errorf("reply: %+v %v", r, err)
	}
	if _, err := decodeMessage([]byte(`{"oslo.version": "3.0", "oslo.message": "{}"}`)); err == nil {
		t.Error("envelope 3.0 accepted")
	}
	if _, err := decodeMessage([]byte(`[1]`)); err == nil {
		t.Error("non-object accepted")
	}
}

func TestEncodeRequest(t *testing.T) {
	ctx := AdminContext()
	body, err := encodeEnvelope(requestBody(ctx, "routers_updated", "", "1.1", map[string]any{"routers": []string{"r<1>"}}))
	if err != nil {
		t.Fatal(err)
	}
	var outer map[string]string
	if err := json.Unmarshal(body, &outer); err != nil || outer["oslo.version"] != "2.0" {
		t.Fatalf("envelope %s: %v", body, err)
	}
	if strings.Contains(outer["oslo.message"], `\u003c`) {
		t.Errorf("HTML-escaped: %s", outer["oslo.message"])
	}
	var inner map[string]any
	if err := json.Unmarshal([]byte(outer["oslo.message"]), &inner); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"method", "args", "version", "_unique_id", "_context_is_admin", "_context_request_id",
		"_context_timestamp", "_context_roles", "_context_user_identity"} {
		if _, ok := inner[k]; !ok {
			t.Errorf("missing %s in %v", k, inner)
		}
	}
	if _, ok := inner["namespace"]; ok {
		t.Error("namespace sent although empty (Neutron never sends one)")
	}
}

func TestFailureFormat(t *testing.T) {
	s := serializeFailure(Exception("neutron_lib.exceptions", "PortNotFound", "Port p1 could not be found.", map[string]any{"port_id": "p1"}))
	var f map[string]any
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"class", "module", "message", "tb", "args", "kwargs"} {
		if _, ok := f[k]; !ok {
			t.Errorf("failure lacks %s: %s", k, s)
		}
	}
	plain := parseFailure(serializeFailure(errors.New("boom")))
	if plain.Class != "Exception" || plain.Module != "builtins" || plain.Message != "boom" {
		t.Errorf("plain error: %+v", plain)
	}
	if e := parseFailure("not json"); e.Message != "not json" {
		t.Errorf("raw failure: %+v", e)
	}
}
