package ovn

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
)

// TestLab runs the client against the real OVN 23.03 ovsdb-servers of the lab: monitors, a
// switch, port and DHCP options written by the client bring a namespace "VM" up (NB up=true,
// SB Port_Binding on the chassis, a DHCP lease); the NB server is restarted under the client; the
// same database is reached over ssl:.
func TestLab(t *testing.T) {
	lab := ovnlab.Start(t, "/tmp/neutrino-ovn-test")
	cfg := DefaultConfig()
	cfg.NB.Connection = lab.NBTCP()
	cfg.SB.Connection = lab.SBUnix()
	cfg.Timeout, cfg.RetryMaxInterval = 20*time.Second, 500*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	nb, err := NewNB(cfg, nil, testLog())
	if err != nil {
		t.Fatal(err)
	}
	upCh := make(chan string, 8)
	nb.Subscribe(&cache.EventHandlerFuncs{UpdateFunc: func(table string, old, new model.Model) {
		if table != nbdb.LogicalSwitchPortTable {
			return
		}
		o, n := old.(*nbdb.LogicalSwitchPort), new.(*nbdb.LogicalSwitchPort)
		if (o.Up == nil || !*o.Up) && n.Up != nil && *n.Up {
			upCh <- n.Name
		}
	}})
	nb.Start()
	defer nb.Close()
	sb, err := NewSB(cfg, nil, testLog())
	if err != nil {
		t.Fatal(err)
	}
	sb.Start()
	defer sb.Close()

	ch := checkChassis(ctx, t, sb, lab)

	portID := "5d3c2a8e-1b0f-4c55-9e57-5a0b7c1d2e3f"
	mac := "fa:16:3e:12:34:56"
	writeNetwork(ctx, t, nb, portID, mac, lab.Chassis)
	start := time.Now()
	if err := lab.VM("vm1", portID, mac); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-upCh:
		if name != portID {
			t.Fatalf("up event for %s", name)
		}
		t.Logf("VIF plugged -> NB Logical_Switch_Port.up=true in %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("the port did not come up")
	}
	waitUntil(t, "SB Port_Binding on the chassis", 10*time.Second, func() bool {
		var pbs []sbdb.PortBinding
		err := sb.OVSDB().WhereCache(func(p *sbdb.PortBinding) bool { return p.LogicalPort == portID }).List(ctx, &pbs)
		return err == nil && len(pbs) == 1 && pbs[0].Chassis != nil && *pbs[0].Chassis == ch.UUID
	})
	lease, err := lab.DHCP("vm1")
	if err != nil {
		t.Fatal(err)
	}
	if lease["ip"] != "10.9.0.10" || lease["routers"] != "10.9.0.1" || lease["mtu"] != "1442" || lease["mask"] != "255.255.255.0" {
		t.Fatalf("lease %v", lease)
	}

	restartNB(ctx, t, lab, nb)
	sslClient(ctx, t, lab)

	// deleting the switch takes its port along (the port row is not a root row)
	ls := &nbdb.LogicalSwitch{}
	if _, err := nb.Txn().DeleteWhere(ls, model.Condition{Field: &ls.Name, Function: "==", Value: "neutron-labnet"}).
		Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the port to go", 5*time.Second, func() bool { return IsNotFound(nb.Get(ctx, &nbdb.LogicalSwitchPort{Name: portID})) })
}

// checkChassis reads the chassis as Neutron's agent list and gateway scheduler read it.
func checkChassis(ctx context.Context, t *testing.T, sb *Client, lab *ovnlab.Lab) *sbdb.Chassis {
	t.Helper()
	ch := &sbdb.Chassis{Name: lab.Chassis}
	if err := sb.Get(ctx, ch); err != nil {
		t.Fatalf("SB Chassis %s: %v", lab.Chassis, err)
	}
	if ch.Hostname != lab.Chassis || ch.OtherConfig["ovn-cms-options"] != "enable-chassis-as-gw" ||
		ch.OtherConfig["ovn-bridge-mappings"] != lab.Physnet+":br-ex" || len(ch.Encaps) != 1 {
		t.Fatalf("chassis row: %+v", ch)
	}
	var privs []sbdb.ChassisPrivate
	if err := sb.List(ctx, &privs); err != nil || len(privs) != 1 || privs[0].Name != lab.Chassis {
		t.Fatalf("Chassis_Private: %+v %v", privs, err)
	}
	return ch
}

// writeNetwork writes what ML2/OVN writes for a network with a subnet and one bound port.
func writeNetwork(ctx context.Context, t *testing.T, nb *Client, portID, mac, chassis string) {
	t.Helper()
	dhcp := &nbdb.DHCPOptions{UUID: NamedUUID("dhcp"), Cidr: "10.9.0.0/24",
		Options: map[string]string{"lease_time": "43200", "mtu": "1442", "router": "10.9.0.1",
			"server_id": "10.9.0.1", "server_mac": "fa:16:3e:00:00:01"}}
	lsp := &nbdb.LogicalSwitchPort{UUID: NamedUUID("port"), Name: portID,
		Addresses: []string{mac + " 10.9.0.10"}, PortSecurity: []string{mac + " 10.9.0.10"},
		Dhcpv4Options: &dhcp.UUID, Options: map[string]string{"requested-chassis": chassis},
		ExternalIDs: map[string]string{"neutron:revision_number": "1"}}
	ls := &nbdb.LogicalSwitch{UUID: NamedUUID("ls"), Name: "neutron-labnet", Ports: []string{lsp.UUID},
		OtherConfig: map[string]string{"mcast_snoop": "false"}}
	if _, err := nb.Txn().Create(dhcp, lsp, ls).Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// restartNB stops the NB ovsdb-server under the client and starts it again on the same files.
func restartNB(ctx context.Context, t *testing.T, lab *ovnlab.Lab, nb *Client) {
	t.Helper()
	before := nb.Connections()
	lab.Must("nb-stop")
	waitUntil(t, "the client to notice the NB server is gone", 10*time.Second, func() bool { return !nb.Connected() })
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() { // issued while the server is down: waits for it
		defer wg.Done()
		_, werr = nb.Txn().Create(&nbdb.AddressSet{Name: "as_restart", Addresses: []string{"10.9.0.10"}}).Commit(ctx)
	}()
	time.Sleep(300 * time.Millisecond)
	lab.Must("nb-start")
	wg.Wait()
	if werr != nil {
		t.Fatalf("write across the NB restart: %v", werr)
	}
	if nb.Connections() != before+1 {
		t.Fatalf("connections %d -> %d", before, nb.Connections())
	}
	var switches []nbdb.LogicalSwitch
	if err := nb.List(ctx, &switches); err != nil || len(switches) != 1 || switches[0].Name != "neutron-labnet" {
		t.Fatalf("switches after the restart: %+v %v", switches, err)
	}
	out, err := lab.NBCtl("--bare", "--columns=addresses", "find", "address_set", "name=as_restart")
	if err != nil || strings.TrimSpace(out) != "10.9.0.10" {
		t.Fatalf("address set written across the restart: %q %v", out, err)
	}
}

// sslClient makes the NB server listen with SSL (certificates without addresses, as ovs-pki makes
// them) and reads it through an ssl: remote.
func sslClient(ctx context.Context, t *testing.T, lab *ovnlab.Lab) {
	t.Helper()
	dir := t.TempDir()
	_, key, cert, ca := pki(t, dir)
	// the server presents the same CA-signed pair as the client (ovsdb-server checks the client's
	// certificate against the CA too)
	port, sbPort := freePort(t), freePort(t)
	lab.Must("ssl", key, cert, ca, port, sbPort)
	cfg := DefaultConfig()
	cfg.NB = DBConfig{Connection: "ssl:127.0.0.1:" + port, PrivateKey: key, Certificate: cert, CACert: ca}
	cfg.Timeout = 10 * time.Second
	c, err := NewNB(cfg, []model.Model{&nbdb.LogicalSwitch{}}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer c.Close()
	var switches []nbdb.LogicalSwitch
	if err := c.List(ctx, &switches); err != nil || len(switches) != 1 {
		t.Fatalf("over ssl: %+v %v", switches, err)
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
