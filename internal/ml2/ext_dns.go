package ml2

import "github.com/neutrino-os/neutrino/internal/plugin"

// dnsIntegration is the dns extension driver and its variants
// (dns_domain_ports, subnet_dns_publish_fixed_ip, dns_domain_keywords): dns_domain on networks,
// dns_name and dns_assignment on ports. Names are stored only when
// [DEFAULT] dns_domain is set to a domain other than openstacklocal
// (dnsNamesStored).
type dnsIntegration struct{}

func init() {
	for _, name := range []string{"dns", "dns_domain_ports", "subnet_dns_publish_fixed_ip", "dns_domain_keywords"} {
		RegisterExtensionDriver(name, func() ExtensionDriver { return dnsIntegration{} })
	}
}

func (dnsIntegration) Initialize(*plugin.Env, *Plugin) ([]string, error) {
	return []string{"dns-integration"}, nil
}
