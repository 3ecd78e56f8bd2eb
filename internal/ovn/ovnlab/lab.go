// Package ovnlab runs scripts/harness/ovn-lab.sh from Go tests: a single-chassis OVN lab (NB and
// SB ovsdb-servers, ovn-northd, ovn-controller on the OVS userspace datapath) with network
// namespaces playing the VMs.
//
// Start skips the test when the lab cannot run here (not root, or the Debian packages missing)
// unless the environment variable CI is set: then it installs the packages and a failure to start
// fails the test. The lab holds /tmp/neutrino-ovs.lock while it runs, so labs of concurrent test
// processes run one after the other; Stop (registered as a cleanup) releases it. StartCentral
// starts only the NB and SB ovsdb-servers and ovn-northd (no Open vSwitch, no lock), for tests of
// the API with the ovn driver.
package ovnlab

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Lab is a running lab.
type Lab struct {
	Dir     string // OVN_LAB: run/, db/, log/
	NBPort  int    // NB ovsdb-server's TCP port on 127.0.0.1
	SBPort  int
	Chassis string // system-id and hostname of the chassis
	Physnet string // physical network mapped to the provider bridge
	script  string
	env     []string
	t       testing.TB // nil for a lab attached to (Attach)
}

// NBTCP is the NB remote over TCP, as ovn_nb_connection takes it.
func (l *Lab) NBTCP() string { return fmt.Sprintf("tcp:127.0.0.1:%d", l.NBPort) }

// SBTCP is the SB remote over TCP.
func (l *Lab) SBTCP() string { return fmt.Sprintf("tcp:127.0.0.1:%d", l.SBPort) }

// NBUnix is the NB remote over its unix socket.
func (l *Lab) NBUnix() string { return "unix:" + filepath.Join(l.Dir, "run/ovn/ovnnb_db.sock") }

// SBUnix is the SB remote over its unix socket.
func (l *Lab) SBUnix() string { return "unix:" + filepath.Join(l.Dir, "run/ovn/ovnsb_db.sock") }

// Script is the path of ovn-lab.sh.
func Script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "../../../scripts/harness/ovn-lab.sh")
}

// Available reports why the lab cannot run on this machine ("" when it can).
func Available() string {
	if os.Geteuid() != 0 {
		return "the OVN lab needs root"
	}
	return missing("ovsdb-server", "ovs-vswitchd", "ovn-northd", "ovn-controller", "ovn-nbctl", "ethtool", "dhclient", "socat")
}

func missing(commands ...string) string {
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			return c + " is not installed (scripts/harness/ovn-lab.sh install)"
		}
	}
	return ""
}

// ensure skips t when why is not empty, unless CI is set: then it installs the packages (as root)
// or fails t.
func ensure(t testing.TB, why string) {
	t.Helper()
	if why == "" {
		return
	}
	if os.Getenv("CI") == "" {
		t.Skip(why)
	}
	if os.Geteuid() != 0 {
		t.Fatal(why)
	}
	out, err := exec.Command(Script(), "install").CombinedOutput()
	if err != nil {
		t.Fatalf("ovn-lab.sh install: %v\n%s", err, out)
	}
}

// Start starts a lab for t in dir (a fixed directory: leftovers of an earlier run there are
// stopped first) on two free TCP ports, and stops it when t ends.
func Start(t testing.TB, dir string) *Lab {
	t.Helper()
	ensure(t, Available())
	return launch(t, dir, "start")
}

// StartCentral starts only OVN's central part (NB and SB ovsdb-servers and ovn-northd, no Open
// vSwitch: it takes no lock and needs no root) for t in dir, and stops it when t ends: for tests
// of the API with the ovn driver that need no dataplane.
func StartCentral(t testing.TB, dir string) *Lab {
	t.Helper()
	ensure(t, missing("ovsdb-server", "ovsdb-tool", "ovn-northd", "ovn-nbctl", "ovn-sbctl"))
	return launch(t, dir, "central")
}

func launch(t testing.TB, dir, command string) *Lab {
	t.Helper()
	l := &Lab{Dir: dir, NBPort: freePort(t), SBPort: freePort(t), Chassis: "chassis1", Physnet: "provider",
		script: Script(), t: t}
	l.env = append(os.Environ(), "OVN_LAB="+dir, "OVN_LAB_NB_PORT="+strconv.Itoa(l.NBPort),
		"OVN_LAB_SB_PORT="+strconv.Itoa(l.SBPort), "OVN_LAB_CHASSIS="+l.Chassis, "OVN_LAB_PHYSNET="+l.Physnet)
	start := time.Now()
	if _, err := l.Run(command); err != nil {
		l.Run("stop") //nolint:errcheck
		t.Fatalf("starting the OVN lab (%s): %v", command, err)
	}
	t.Logf("OVN lab (%s) up in %v (NB %s, SB %s)", command, time.Since(start).Round(time.Millisecond), l.NBTCP(), l.SBTCP())
	t.Cleanup(l.Stop)
	return l
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Run runs ovn-lab.sh with args against this lab and returns its standard output; the error
// carries the standard error.
func (l *Lab) Run(args ...string) (string, error) {
	cmd := exec.Command(l.script, args...)
	cmd.Env = l.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("ovn-lab.sh %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Attach returns a Lab for a lab already running in dir (ovn-lab.sh start with OVN_LAB=dir and
// these ports), for programs that are not tests. Stop is not called for it.
func Attach(dir string, nbPort, sbPort int) *Lab {
	l := &Lab{Dir: dir, NBPort: nbPort, SBPort: sbPort, Chassis: "chassis1", Physnet: "provider", script: Script()}
	l.env = append(os.Environ(), "OVN_LAB="+dir, "OVN_LAB_NB_PORT="+strconv.Itoa(nbPort),
		"OVN_LAB_SB_PORT="+strconv.Itoa(sbPort))
	return l
}

// Must is Run that fails the test on an error (only for a Lab from Start).
func (l *Lab) Must(args ...string) string {
	l.t.Helper()
	out, err := l.Run(args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// Stop stops the lab (idempotent).
func (l *Lab) Stop() {
	if _, err := l.Run("stop"); err != nil && l.t != nil {
		l.t.Errorf("stopping the OVN lab: %v", err)
	}
}

// VM plugs a namespace whose eth0 has mac into the integration bridge as ifaceID (a port id).
func (l *Lab) VM(name, ifaceID, mac string) error {
	_, err := l.Run("vm", name, ifaceID, mac)
	return err
}

// Unplug removes a VM.
func (l *Lab) Unplug(name string) error {
	_, err := l.Run("unplug", name)
	return err
}

// External adds an "external" host on the provider bridge with addr (ADDR/LEN) and extra /32s.
func (l *Lab) External(name, addr string, extra ...string) error {
	_, err := l.Run(append([]string{"ext", name, addr}, extra...)...)
	return err
}

// Lease is what dhclient got.
type Lease map[string]string

// DHCP runs dhclient once in the VM and returns the lease (ip, mask, routers, mtu, dns, lease,
// server, routes).
func (l *Lab) DHCP(name string) (Lease, error) {
	out, err := l.Run("dhcp", name)
	if err != nil {
		return nil, err
	}
	lease := Lease{}
	for _, f := range strings.Fields(out) {
		if k, v, ok := strings.Cut(f, "="); ok {
			lease[k] = v
		}
	}
	return lease, nil
}

// Exec runs a command in the namespace of name.
func (l *Lab) Exec(name string, args ...string) (string, error) {
	return l.Run(append([]string{"exec", name}, args...)...)
}

// NBCtl runs ovn-nbctl against the lab.
func (l *Lab) NBCtl(args ...string) (string, error) {
	return l.Run(append([]string{"nbctl"}, args...)...)
}

// SBCtl runs ovn-sbctl against the lab.
func (l *Lab) SBCtl(args ...string) (string, error) {
	return l.Run(append([]string{"sbctl"}, args...)...)
}

// Ping sends one ping (two-second wait) from the namespace of name to addr.
func (l *Lab) Ping(name, addr string) error {
	_, err := l.Exec(name, "ping", "-c1", "-W2", addr)
	return err
}

// Serve starts a TCP server on port in the namespace of name that answers each connection with
// "peer=<client address>" (socat); stop ends it.
func (l *Lab) Serve(name string, port int) (stop func(), err error) {
	cmd := exec.Command(l.script, "exec", name, "socat",
		fmt.Sprintf("TCP-LISTEN:%d,reuseaddr,fork", port), "SYSTEM:echo peer=$SOCAT_PEERADDR")
	cmd.Env = l.env
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() //nolint:errcheck
	// wait until it listens
	for i := 0; i < 50; i++ {
		if out, _ := l.Exec(name, "ss", "-Hltn", fmt.Sprintf("sport = :%d", port)); strings.TrimSpace(out) != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		// socat forks per connection; the listener is the one started here
		cmd.Process.Kill() //nolint:errcheck
		<-done
	}, nil
}

// TCPPeer connects from the namespace of name to addr:port (three-second connect timeout) and
// returns the address the server (Serve) saw the connection come from.
func (l *Lab) TCPPeer(name, addr string, port int) (string, error) {
	out, err := l.Exec(name, "timeout", "6", "socat", "-",
		fmt.Sprintf("TCP:%s:%d,connect-timeout=3", addr, port))
	if err != nil {
		return "", err
	}
	peer, ok := strings.CutPrefix(strings.TrimSpace(out), "peer=")
	if !ok {
		return "", fmt.Errorf("unexpected answer %q", out)
	}
	return peer, nil
}
