package mechovn

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/ovn"
)

func init() {
	str := func(name, def, help string) *config.Option {
		return &config.Option{Group: "ovn", Name: name, Type: config.String, Default: def, Help: help}
	}
	config.Register(
		str("ovn_nb_connection", "tcp:127.0.0.1:6641", "The OVN Northbound database: tcp:IP:PORT, ssl:IP:PORT or unix:FILE (comma-separated for several)."),
		str("ovn_sb_connection", "tcp:127.0.0.1:6642", "The OVN Southbound database, in the same forms."),
		str("ovn_nb_private_key", "", "PEM private key for ssl: Northbound connections."),
		str("ovn_nb_certificate", "", "PEM certificate for ssl: Northbound connections."),
		str("ovn_nb_ca_cert", "", "PEM CA certificate the Northbound server's certificate must chain to."),
		str("ovn_sb_private_key", "", "PEM private key for ssl: Southbound connections."),
		str("ovn_sb_certificate", "", "PEM certificate for ssl: Southbound connections."),
		str("ovn_sb_ca_cert", "", "PEM CA certificate the Southbound server's certificate must chain to."),
		&config.Option{Group: "ovn", Name: "ovsdb_connection_timeout", Type: config.Int, Default: "180",
			Help: "Seconds an OVSDB transaction (and the wait for a connection before it) may take."},
		&config.Option{Group: "ovn", Name: "ovsdb_retry_max_interval", Type: config.Int, Default: "180",
			Help: "Maximum seconds between reconnection attempts to an OVSDB server."},
		&config.Option{Group: "ovn", Name: "ovsdb_probe_interval", Type: config.Int, Default: "60000",
			Help: "Milliseconds of idleness after which an OVSDB server is probed (0 disables)."},
		&config.Option{Group: "ovn", Name: "ovn_l3_scheduler", Type: config.String, Default: "leastloaded",
			Choices: []string{"leastloaded", "chance"}, Help: "How router gateway ports are scheduled on gateway chassis."},
		&config.Option{Group: "ovn", Name: "enable_distributed_floating_ip", Type: config.Bool, Default: "false",
			Help: "Floating IPs are handled on the chassis of their port (distributed) instead of the gateway chassis."},
		&config.Option{Group: "ovn", Name: "ovn_emit_need_to_frag", Type: config.Bool, Default: "false",
			Help: "OVN sends ICMP \"need to frag\" (IPv6 \"packet too big\") for packets over the MTU of a router's gateway network (the gateway router port's gateway_mtu option, set when an interface network has a larger MTU). Needs a kernel 5.2 or later (ovs-appctl -t ovs-vswitchd dpif/show-dp-features br-int: \"Check pkt length action\")."},
		&config.Option{Group: "ovn", Name: "vhost_sock_dir", Type: config.String, Default: "/var/run/openvswitch",
			Help: "Directory of the vhost-user sockets of ports bound as vhostuser (on netdev chassis with dpdkvhostuser interfaces), created by the vswitch daemons."},
		&config.Option{Group: "ovn", Name: "ovn_metadata_enabled", Type: config.Bool, Default: "false",
			Help: "Metadata through the OVN metadata agent: one network:distributed port per network (an LSP of type localport) with an address on each DHCP subnet, and DHCP's route to 169.254.169.254 through it."},
		&config.Option{Group: "ovn", Name: "dns_servers", Type: config.List, Default: "",
			Help: "DNS servers handed out by OVN's DHCP for subnets without dns_nameservers (default: the server's /etc/resolv.conf)."},
		&config.Option{Group: "ovn", Name: "disable_ovn_dhcp_for_baremetal_ports", Type: config.Bool, Default: "false",
			Help: "Disable OVN's built-in DHCP for baremetal ports (VNIC type baremetal), for operators who PXE boot them from a DHCP server of their own."},
		&config.Option{Group: "ovn", Name: "dhcp_default_lease_time", Type: config.Int, Default: "43200",
			Help: "DHCPv4 lease time in seconds."},
		&config.Option{Group: "ovn", Name: "ovn_dhcp4_global_options", Type: config.List, Default: "",
			Help: "key:value DHCPv4 options added to every subnet's (an empty value removes an option)."},
		&config.Option{Group: "ovn", Name: "ovn_dhcp6_global_options", Type: config.List, Default: "",
			Help: "key:value DHCPv6 options added to every subnet's."},
		&config.Option{Group: "ovn", Name: "neutron_sync_mode", Type: config.String, Default: "log",
			Choices: []string{"off", "log", "repair", "migrate"}, Ignored: true,
			Help: "Neutron's start-up sync; neutrino's is `neutrino ovn-db-sync --mode log|repair` and the maintenance task."},
		&config.Option{Group: "ovn", Name: "maintenance_interval", Type: config.Int, Default: "300",
			Help: "neutrino: seconds between runs of the maintenance task that repairs lost or failed Northbound writes (Neutron: 300, fixed)."},
		&config.Option{Group: "ovn", Name: "background_tasks", Type: config.Bool, Default: "true",
			Help: "neutrino: this process may hold the maintenance lease (maintenance task, port status writes); false leaves them to other processes."},
		&config.Option{Group: "ovn", Name: "maintenance_min_age", Type: config.Int, Default: "60",
			Help: "neutrino: seconds a resource's Northbound write may lag before the maintenance task repairs it (Neutron: 60, fixed)."},
	)
	config.Implemented("ml2", "mechanism_drivers", "ovn")
}

// settings are the [ovn] options the driver acts on.
type settings struct {
	conn        ovn.Config
	dnsServers  []string // [ovn] dns_servers
	sysDNS      []string // the nameservers of /etc/resolv.conf
	leaseTime   int
	dhcp4Global map[string]string
	dhcp6Global map[string]string
	dnsDomain   string
	maintEvery  time.Duration
	maintMinAge time.Duration
	background  bool
	metadata    bool
	// disable_ovn_dhcp_for_baremetal_ports
	noBaremetalDHCP bool
	// enable_distributed_floating_ip, ovn_l3_scheduler
	distributedFIP bool
	l3Scheduler    string
	needToFrag     bool   // ovn_emit_need_to_frag
	vhostSockDir   string // vhost_sock_dir
}

func loadSettings(c *config.Config) (settings, error) {
	s := settings{conn: ovn.Config{
		NB: ovn.DBConfig{Connection: c.String("ovn", "ovn_nb_connection"), PrivateKey: c.String("ovn", "ovn_nb_private_key"),
			Certificate: c.String("ovn", "ovn_nb_certificate"), CACert: c.String("ovn", "ovn_nb_ca_cert")},
		SB: ovn.DBConfig{Connection: c.String("ovn", "ovn_sb_connection"), PrivateKey: c.String("ovn", "ovn_sb_private_key"),
			Certificate: c.String("ovn", "ovn_sb_certificate"), CACert: c.String("ovn", "ovn_sb_ca_cert")},
		Timeout:          time.Duration(c.Int("ovn", "ovsdb_connection_timeout")) * time.Second,
		RetryMaxInterval: time.Duration(c.Int("ovn", "ovsdb_retry_max_interval")) * time.Second,
		ProbeInterval:    time.Duration(c.Int("ovn", "ovsdb_probe_interval")) * time.Millisecond,
	}}
	for _, db := range []ovn.DBConfig{s.conn.NB, s.conn.SB} {
		if _, err := db.Endpoints(); err != nil {
			return s, err
		}
	}
	s.dnsServers, s.sysDNS = c.List("ovn", "dns_servers"), resolvConfServers("/etc/resolv.conf")
	s.leaseTime = c.Int("ovn", "dhcp_default_lease_time")
	var err error
	if s.dhcp4Global, err = keyValues(c.List("ovn", "ovn_dhcp4_global_options")); err != nil {
		return s, fmt.Errorf("[ovn] ovn_dhcp4_global_options: %w", err)
	}
	if s.dhcp6Global, err = keyValues(c.List("ovn", "ovn_dhcp6_global_options")); err != nil {
		return s, fmt.Errorf("[ovn] ovn_dhcp6_global_options: %w", err)
	}
	if d := c.String("DEFAULT", "dns_domain"); d != "" && d != "openstacklocal" && d != "openstacklocal." {
		s.dnsDomain = strings.TrimSuffix(d, ".") + "."
	}
	s.maintEvery = time.Duration(max(c.Int("ovn", "maintenance_interval"), 1)) * time.Second
	s.maintMinAge = time.Duration(max(c.Int("ovn", "maintenance_min_age"), 0)) * time.Second
	s.background = c.BoolOr("ovn", "background_tasks", true)
	s.metadata = c.Bool("ovn", "ovn_metadata_enabled")
	s.noBaremetalDHCP = c.Bool("ovn", "disable_ovn_dhcp_for_baremetal_ports")
	s.distributedFIP, s.l3Scheduler = c.Bool("ovn", "enable_distributed_floating_ip"), c.String("ovn", "ovn_l3_scheduler")
	s.needToFrag, s.vhostSockDir = c.Bool("ovn", "ovn_emit_need_to_frag"), c.String("ovn", "vhost_sock_dir")
	return s, nil
}

func keyValues(items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, it := range items {
		k, v, ok := strings.Cut(it, ":")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key:value", it)
		}
		out[k] = v
	}
	return out, nil
}

// resolvConfServers are the nameservers of a resolv.conf, as ML2/OVN falls back to.
func resolvConfServers(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	return out
}
