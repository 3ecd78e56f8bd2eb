package golden

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// labState runs the lab actions of a scenario and keeps its servers until the run ends.
type labState struct {
	env     Env
	syms    *Symbols
	servers []func()
}

func (l *labState) close() {
	for _, stop := range l.servers {
		stop()
	}
}

// do runs one action and returns the check it made ("" for set-up actions).
func (l *labState) do(ctx context.Context, a LabAction) (string, error) {
	if l.env.Lab == nil {
		return "", fmt.Errorf("lab action without a lab")
	}
	lab := l.env.Lab
	switch {
	case a.Plug != nil:
		return l.plug(ctx, a.Plug)
	case a.Unplug != "":
		return "", lab.Unplug(a.Unplug)
	case a.Ext != nil:
		return "", lab.External(a.Ext.Name, a.Ext.Addr, a.Ext.Extra...)
	case a.Serve != nil:
		stop, err := lab.Serve(a.Serve.VM, a.Serve.Port)
		if err == nil {
			l.servers = append(l.servers, stop)
		}
		return "", err
	case a.Sleep > 0:
		time.Sleep(time.Duration(a.Sleep * float64(time.Second)))
		return "", nil
	case a.Status != nil:
		return l.status(ctx, a.Status.Port, a.Status.Want)
	case a.DHCP != nil:
		return l.dhcp(a.DHCP)
	case a.SLAAC != nil:
		return l.slaac(a.SLAAC)
	case a.Ping != nil:
		return l.ping(a.Ping)
	case a.TCP != nil:
		return l.tcp(a.TCP)
	}
	return "", fmt.Errorf("empty lab action")
}

func (l *labState) plug(ctx context.Context, p *Plug) (string, error) {
	id, ok := l.syms.ID(p.Port)
	mac, okm := l.syms.Value(p.Port + ".mac")
	if !ok || !okm {
		return "", fmt.Errorf("plug: no port %q", p.Port)
	}
	start := time.Now()
	if err := l.env.Lab.VM(p.VM, id, mac); err != nil {
		return "", err
	}
	if _, err := l.status(ctx, p.Port, "ACTIVE"); err != nil {
		return "", err
	}
	l.env.Logf("  plug %s: port %s ACTIVE %v after the VIF was plugged", p.VM, p.Port, time.Since(start).Round(time.Millisecond))
	return fmt.Sprintf("PASS plug %s as port %s: status ACTIVE", p.VM, p.Port), nil
}

func (l *labState) status(ctx context.Context, port, want string) (string, error) {
	id, ok := l.syms.ID(port)
	if !ok {
		return "", fmt.Errorf("status: no port %q", port)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var body struct {
			Port struct {
				Status string `json:"status"`
			} `json:"port"`
		}
		if err := l.env.API.GetJSON("/v2.0/ports/"+id, &body); err != nil {
			return "", err
		}
		if body.Port.Status == want {
			return fmt.Sprintf("PASS port %s status %s", port, want), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("port %s status %s, want %s", port, body.Port.Status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *labState) dhcp(d *DHCP) (string, error) {
	lease, err := l.env.Lab.DHCP(d.VM)
	if err != nil {
		return "", err
	}
	keys := make([]string, 0, len(d.Expect))
	for k := range d.Expect {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var got []string
	for _, k := range keys {
		want, err := Expand(d.Expect[k], l.syms)
		if err != nil {
			return "", err
		}
		if lease[k] != want {
			return "", fmt.Errorf("dhcp %s: %s=%q, want %q (lease %v)", d.VM, k, lease[k], want, lease)
		}
		got = append(got, k+"="+d.Expect[k])
	}
	return fmt.Sprintf("PASS dhcp %s: %s", d.VM, strings.Join(got, " ")), nil
}

func (l *labState) slaac(s *SLAAC) (string, error) {
	addr, err := Expand(s.Addr, l.syms)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := l.env.Lab.Exec(s.VM, "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global")
		if strings.Contains(out, " "+addr+"/") {
			return fmt.Sprintf("PASS slaac %s: %s", s.VM, s.Addr), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("slaac %s: no %s in %q", s.VM, addr, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (l *labState) ping(p *Ping) (string, error) {
	to, err := Expand(p.To, l.syms)
	if err != nil {
		return "", err
	}
	err = l.env.Lab.Ping(p.From, to)
	if p.Fail {
		if err == nil {
			return "", fmt.Errorf("ping %s -> %s answered, expected no answer", p.From, p.To)
		}
		return fmt.Sprintf("PASS ping %s -> %s: no answer (as expected)", p.From, p.To), nil
	}
	if err != nil {
		return "", fmt.Errorf("ping %s -> %s (%s): %v", p.From, p.To, to, err)
	}
	return fmt.Sprintf("PASS ping %s -> %s", p.From, p.To), nil
}

func (l *labState) tcp(t *TCP) (string, error) {
	to, err := Expand(t.To, l.syms)
	if err != nil {
		return "", err
	}
	peer, err := l.env.Lab.TCPPeer(t.From, to, t.Port)
	what := fmt.Sprintf("tcp %s -> %s:%d", t.From, t.To, t.Port)
	if t.Fail {
		if err == nil {
			return "", fmt.Errorf("%s connected (peer %s), expected to be blocked", what, peer)
		}
		return "PASS " + what + ": blocked (as expected)", nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %v", what, err)
	}
	if t.Peer != "" {
		want, err := Expand(t.Peer, l.syms)
		if err != nil {
			return "", err
		}
		if peer != want {
			return "", fmt.Errorf("%s: server saw %s, want %s", what, peer, want)
		}
		return fmt.Sprintf("PASS %s: server saw %s", what, t.Peer), nil
	}
	return "PASS " + what, nil
}
