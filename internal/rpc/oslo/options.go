package oslo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/neutrino-os/neutrino/internal/config"
)

// Group is the configuration group of the rabbit driver's options.
const Group = "oslo_messaging_rabbit"

// Options are the messaging options operators set in neutron.conf:
// [DEFAULT] control_exchange and rpc_response_timeout, and the
// [oslo_messaging_rabbit] options oslo.messaging 14 (Zed) defines.
type Options struct {
	ControlExchange    string        // [DEFAULT] control_exchange ("neutron")
	RPCResponseTimeout time.Duration // [DEFAULT] rpc_response_timeout (60 s): default call timeout

	SSL         bool   // ssl
	SSLVersion  string // ssl_version: TLSv1, TLSv1_1, TLSv1_2, SSLv23 (minimum version)
	SSLKeyFile  string // ssl_key_file
	SSLCertFile string // ssl_cert_file
	SSLCAFile   string // ssl_ca_file: when set, the broker's certificate is verified against it

	LoginMethod      string        // rabbit_login_method: PLAIN or AMQPLAIN
	RetryInterval    time.Duration // rabbit_retry_interval: first reconnect delay
	RetryBackoff     time.Duration // rabbit_retry_backoff: added to the delay after each failure
	IntervalMax      time.Duration // rabbit_interval_max: delay cap
	ReconnectDelay   time.Duration // kombu_reconnect_delay: extra pause after a lost connection
	FailoverStrategy string        // kombu_failover_strategy: round-robin or shuffle
	// MissingConsumerRetry is how long a reply is retried while the caller's
	// reply queue does not exist (kombu_missing_consumer_retry_timeout).
	MissingConsumerRetry time.Duration
	HeartbeatThreshold   int // heartbeat_timeout_threshold (s); 0: the broker's value

	HAQueues              bool // rabbit_ha_queues: x-ha-policy all
	QuorumQueue           bool // rabbit_quorum_queue: x-queue-type quorum (topic queues, durable)
	QuorumDeliveryLimit   int  // rabbit_quorum_delivery_limit
	QuorumMaxMemoryLength int  // rabbit_quroum_max_memory_length (sic)
	QuorumMaxMemoryBytes  int  // rabbit_quroum_max_memory_bytes (sic)
	TransientQueuesTTL    int  // rabbit_transient_queues_ttl (s): x-expires of reply and fanout queues
	PrefetchCount         int  // rabbit_qos_prefetch_count: 0 = unlimited
	DurableQueues         bool // amqp_durable_queues
	AutoDelete            bool // amqp_auto_delete
}

type optSpec struct {
	group, name string
	typ         config.Type
	def, help   string
	ignored     bool
	set         func(o *Options, v string) error
}

func dur(f func(o *Options) *time.Duration, unit time.Duration) func(*Options, string) error {
	return func(o *Options, v string) error {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 {
			return fmt.Errorf("not a non-negative number: %q", v)
		}
		*f(o) = time.Duration(x * float64(unit))
		return nil
	}
}

func intv(f func(o *Options) *int) func(*Options, string) error {
	return func(o *Options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		*f(o) = n
		return nil
	}
}

func boolv(f func(o *Options) *bool) func(*Options, string) error {
	return func(o *Options, v string) error {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "on":
			*f(o) = true
		case "false", "0", "no", "off":
			*f(o) = false
		default:
			return fmt.Errorf("not a boolean: %q", v)
		}
		return nil
	}
}

func strv(f func(o *Options) *string, choices ...string) func(*Options, string) error {
	return func(o *Options, v string) error {
		if len(choices) > 0 {
			ok := false
			for _, c := range choices {
				ok = ok || strings.EqualFold(c, v)
			}
			if !ok {
				return fmt.Errorf("%q is not one of %s", v, strings.Join(choices, ", "))
			}
		}
		*f(o) = v
		return nil
	}
}

func ignore(*Options, string) error { return nil }

var specs = []optSpec{
	{"DEFAULT", "control_exchange", config.String, "neutron", "The exchange topics are scoped to (Neutron's default: neutron).", false,
		strv(func(o *Options) *string { return &o.ControlExchange })},
	{"DEFAULT", "rpc_response_timeout", config.Int, "60", "Seconds to wait for a response from a call.", false,
		dur(func(o *Options) *time.Duration { return &o.RPCResponseTimeout }, time.Second)},
	{Group, "ssl", config.Bool, "false", "Connect over TLS.", false, boolv(func(o *Options) *bool { return &o.SSL })},
	{Group, "ssl_version", config.String, "", "Minimum TLS version (TLSv1, TLSv1_1, TLSv1_2, TLSv1_3; SSLv23: any).", false,
		strv(func(o *Options) *string { return &o.SSLVersion }, "", "TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3", "SSLv23")},
	{Group, "ssl_key_file", config.String, "", "TLS client key file.", false, strv(func(o *Options) *string { return &o.SSLKeyFile })},
	{Group, "ssl_cert_file", config.String, "", "TLS client certificate file.", false, strv(func(o *Options) *string { return &o.SSLCertFile })},
	{Group, "ssl_ca_file", config.String, "", "CA file to verify the broker's certificate with (when unset the certificate is not verified, as kombu does).", false,
		strv(func(o *Options) *string { return &o.SSLCAFile })},
	{Group, "ssl_enforce_fips_mode", config.Bool, "false", "Accepted for compatibility.", true, ignore},
	{Group, "heartbeat_in_pthread", config.Bool, "false", "Accepted for compatibility (heartbeats run on their own goroutine).", true, ignore},
	{Group, "kombu_reconnect_delay", config.Float, "1.0", "Seconds to wait before reconnecting after a lost connection.", false,
		dur(func(o *Options) *time.Duration { return &o.ReconnectDelay }, time.Second)},
	{Group, "kombu_compression", config.String, "", "Accepted for compatibility; messages are not compressed.", true, ignore},
	{Group, "kombu_missing_consumer_retry_timeout", config.Int, "60", "Seconds a reply is retried while the caller's reply queue is missing.", false,
		dur(func(o *Options) *time.Duration { return &o.MissingConsumerRetry }, time.Second)},
	{Group, "kombu_failover_strategy", config.String, "round-robin", "Next broker after a failure: round-robin or shuffle.", false,
		strv(func(o *Options) *string { return &o.FailoverStrategy }, "round-robin", "shuffle")},
	{Group, "rabbit_login_method", config.String, "AMQPLAIN", "Login method: PLAIN or AMQPLAIN.", false,
		strv(func(o *Options) *string { return &o.LoginMethod }, "PLAIN", "AMQPLAIN")},
	{Group, "rabbit_retry_interval", config.Int, "1", "Seconds before the first reconnection attempt.", false,
		dur(func(o *Options) *time.Duration { return &o.RetryInterval }, time.Second)},
	{Group, "rabbit_retry_backoff", config.Int, "2", "Seconds added to the reconnection delay after each failed attempt.", false,
		dur(func(o *Options) *time.Duration { return &o.RetryBackoff }, time.Second)},
	{Group, "rabbit_interval_max", config.Int, "30", "Maximum seconds between reconnection attempts.", false,
		dur(func(o *Options) *time.Duration { return &o.IntervalMax }, time.Second)},
	{Group, "rabbit_ha_queues", config.Bool, "false", "Declare queues with x-ha-policy: all.", false, boolv(func(o *Options) *bool { return &o.HAQueues })},
	{Group, "rabbit_quorum_queue", config.Bool, "false", "Declare topic queues as quorum queues (durable).", false, boolv(func(o *Options) *bool { return &o.QuorumQueue })},
	{Group, "rabbit_quorum_delivery_limit", config.Int, "0", "x-delivery-limit of quorum queues (0: none).", false, intv(func(o *Options) *int { return &o.QuorumDeliveryLimit })},
	{Group, "rabbit_quroum_max_memory_length", config.Int, "0", "x-max-in-memory-length of quorum queues (0: none).", false, intv(func(o *Options) *int { return &o.QuorumMaxMemoryLength })},
	{Group, "rabbit_quroum_max_memory_bytes", config.Int, "0", "x-max-in-memory-bytes of quorum queues (0: none).", false, intv(func(o *Options) *int { return &o.QuorumMaxMemoryBytes })},
	{Group, "rabbit_transient_queues_ttl", config.Int, "1800", "Seconds an unused reply or fanout queue lives (x-expires).", false, intv(func(o *Options) *int { return &o.TransientQueuesTTL })},
	{Group, "rabbit_qos_prefetch_count", config.Int, "0", "Messages prefetched per consumer (0: unlimited).", false, intv(func(o *Options) *int { return &o.PrefetchCount })},
	{Group, "heartbeat_timeout_threshold", config.Int, "60", "Seconds after which a silent broker is considered down (0: the broker's heartbeat).", false,
		intv(func(o *Options) *int { return &o.HeartbeatThreshold })},
	{Group, "heartbeat_rate", config.Int, "2", "Accepted for compatibility (heartbeats are sent at half the negotiated interval).", true, ignore},
	{Group, "direct_mandatory_flag", config.Bool, "true", "Accepted for compatibility (replies are always mandatory).", true, ignore},
	{Group, "enable_cancel_on_failover", config.Bool, "false", "Accepted for compatibility.", true, ignore},
	{Group, "amqp_durable_queues", config.Bool, "false", "Declare topic queues and the control exchange durable.", false, boolv(func(o *Options) *bool { return &o.DurableQueues })},
	{Group, "amqp_auto_delete", config.Bool, "false", "Declare topic queues and the control exchange auto-delete.", false, boolv(func(o *Options) *bool { return &o.AutoDelete })},
}

func init() {
	for _, s := range specs {
		config.Register(&config.Option{Group: s.group, Name: s.name, Type: s.typ, Default: s.def, Help: s.help, Ignored: s.ignored})
	}
}

// DefaultOptions returns the options with oslo.messaging's (and Neutron's)
// defaults.
func DefaultOptions() Options {
	var o Options
	for _, s := range specs {
		if err := s.set(&o, s.def); err != nil {
			panic("oslo: bad default for " + s.name + ": " + err.Error())
		}
	}
	return o
}

// OptionsFromConfig reads the options from a loaded configuration.
func OptionsFromConfig(c *config.Config) (Options, error) {
	var o Options
	for _, s := range specs {
		var v string
		switch s.typ {
		case config.Int:
			v = strconv.Itoa(c.Int(s.group, s.name))
		case config.Bool:
			v = strconv.FormatBool(c.Bool(s.group, s.name))
		case config.Float:
			v = strconv.FormatFloat(c.Float(s.group, s.name), 'f', -1, 64)
		default:
			v = c.String(s.group, s.name)
		}
		if err := s.set(&o, v); err != nil {
			return o, fmt.Errorf("[%s] %s: %w", s.group, s.name, err)
		}
	}
	return o, nil
}

// withQuery returns the options overridden by a transport_url's query
// (?ssl=true&amqp_durable_queues=1 ...); unknown options are an error, as in
// oslo.messaging.
func (o Options) withQuery(q map[string]string) (Options, error) {
	for k, v := range q {
		found := false
		for _, s := range specs {
			if s.group == Group && s.name == k {
				if err := s.set(&o, v); err != nil {
					return o, fmt.Errorf("transport_url option %s: %w", k, err)
				}
				found = true
			}
		}
		if !found {
			return o, fmt.Errorf("transport_url option %q is not an [%s] option", k, Group)
		}
	}
	return o, nil
}

// durable is whether topic queues and the control exchange are durable:
// amqp_durable_queues, or always with quorum queues.
func (o Options) durable() bool { return o.DurableQueues || o.QuorumQueue }
