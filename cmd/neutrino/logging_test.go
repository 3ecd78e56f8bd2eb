package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogOptions: the option dump is at DEBUG only; a 4xx is logged with
// its reason; use_json writes one JSON object per line with the request's
// context; log_dir alone logs to log_dir/neutrino.log; default_log_levels
// silences a logger.
func TestLogOptions(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	conf := writeFile(t, dir, "n.conf", fmt.Sprintf(`[DEFAULT]
auth_strategy = noauth
bind_host = 127.0.0.1
bind_port = %d
log_dir = %s
use_json = true
[database]
connection = sqlite:///%s/n.db
`, port, dir, dir))
	p := start(t, nil, "--config-file", conf)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 10*time.Second)
	resp, err := http.Post(p.url+"/v2.0/networks", "application/json", strings.NewReader(`{"network":{"admin_state_up":"maybe"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Openstack-Request-Id")
	if resp.StatusCode != 400 {
		t.Fatalf("bad body: %d", resp.StatusCode)
	}
	logFile := filepath.Join(dir, "neutrino.log")
	waitFile(t, logFile, "status: 400")
	f, err := os.Open(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var reason, access bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Message, Name, Levelname string
			Context                  map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, sc.Text())
		}
		if strings.Contains(line.Message, "bind_port = ") {
			t.Fatalf("option dump at %s without debug", line.Levelname)
		}
		if line.Context["request_id"] == id {
			if line.Context["project"] != "fake_project_id" || line.Name != "neutron.wsgi" {
				t.Fatalf("request line: %s", sc.Text())
			}
			reason = reason || strings.Contains(line.Message, "create failed (client error): Invalid input for operation: 'maybe' cannot be converted to boolean.")
			access = access || strings.Contains(line.Message, `"POST /v2.0/networks HTTP/1.1" status: 400`)
		}
	}
	if !reason || !access {
		t.Fatalf("request %s: reason logged %v, access line %v", id, reason, access)
	}

	// default_log_levels silences the access log; --debug dumps the options
	port2 := freePort(t)
	p2 := start(t, nil, "--bind-port", fmt.Sprint(port2), "--debug", "--set", "DEFAULT.default_log_levels=neutron.wsgi=WARN")
	p2.url = fmt.Sprintf("http://127.0.0.1:%d", port2)
	p2.waitUp(t, 10*time.Second)
	http.Get(p2.url + "/v2.0/networks")
	time.Sleep(300 * time.Millisecond)
	log := p2.log()
	if strings.Contains(log, "INFO neutron.wsgi") || !strings.Contains(log, "DEBUG neutron [-] bind_port = ") {
		t.Fatalf("levels not applied:\n%s", log)
	}
}
