package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// openstack runs the openstack CLI against p with noauth.
func openstack(t *testing.T, p *proc, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", args...)
	cmd.Env = append(os.Environ(), "OS_AUTH_TYPE=none", "OS_ENDPOINT="+p.url, "PATH=/usr/bin:/bin:/usr/sbin:/sbin")
	cmd.Env = append(cmd.Env, "PYTHONPATH=", "PYTHONHOME=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func requireOpenstackCLI(t *testing.T) {
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the openstack CLI (python3-openstackclient) is required under CI=true")
		}
		t.Skip("openstack CLI not installed")
	}
}

func jsonObj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return m
}

// TestOpenstackCLINetworks is the CLI smoke test: network create, list,
// show, set, unset --tag, delete.
func TestOpenstackCLINetworks(t *testing.T) {
	requireOpenstackCLI(t)
	p := start(t, nil)
	p.waitUp(t, 10*time.Second)

	n := jsonObj(t, openstack(t, p, "network", "create", "cli-net", "--description", "from the CLI", "--tag", "red", "--tag", "blue", "-f", "json"))
	id, _ := n["id"].(string)
	if id == "" || n["name"] != "cli-net" || n["description"] != "from the CLI" || n["status"] != "ACTIVE" {
		t.Fatalf("network create: %v", n)
	}
	list := openstack(t, p, "network", "list", "-f", "json")
	if !strings.Contains(list, id) {
		t.Fatalf("network list lacks %s:\n%s", id, list)
	}
	show := jsonObj(t, openstack(t, p, "network", "show", "cli-net", "-f", "json"))
	if show["id"] != id || show["mtu"] != float64(1450) {
		t.Fatalf("network show: %v", show)
	}
	openstack(t, p, "network", "set", id, "--name", "cli-net2", "--disable", "--mtu", "1400")
	show = jsonObj(t, openstack(t, p, "network", "show", id, "-f", "json"))
	if show["name"] != "cli-net2" || show["admin_state_up"] != false || show["mtu"] != float64(1400) {
		t.Fatalf("after set: %v", show)
	}
	openstack(t, p, "network", "unset", "--tag", "red", id)
	show = jsonObj(t, openstack(t, p, "network", "show", id, "-f", "json"))
	tags, _ := show["tags"].([]any)
	if len(tags) != 1 || tags[0] != "blue" {
		t.Fatalf("tags after unset: %v", show["tags"])
	}
	openstack(t, p, "network", "delete", id)
	if list := openstack(t, p, "network", "list", "-f", "json"); strings.Contains(list, id) {
		t.Fatalf("network still listed after delete")
	}
}
