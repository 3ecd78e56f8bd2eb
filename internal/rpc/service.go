package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

// Service is one server process's serve_rpc(): the transport, an RPC
// server per consumed topic with its goroutine pool, the endpoints, and
// the notifier that sends the agents' notifications after commit.
type Service struct {
	Env  *plugin.Env
	T    *oslo.Transport
	Log  *slog.Logger
	Host string // [DEFAULT] host: the "<topic>.<host>" queues

	disp     map[string]*oslo.Dispatcher
	servers  []*oslo.Server
	out      *notifier
	Versions *Versions
	mu       sync.Mutex
	started  bool
	resched  *rescheduler
}

type serviceKey struct{}

// Of returns the server's Service once New made it, or nil (no
// transport_url).
func Of(env *plugin.Env) *Service {
	s, _ := env.Value(serviceKey{}).(*Service)
	return s
}

// parts build the endpoints and notifications of a Service; each adds its
// endpoints with s.Add and subscribes to s.Env.Bus.
var parts []func(s *Service) error

// New connects to [DEFAULT] transport_url and builds the endpoints and
// notifiers; nil, nil when transport_url is empty (no RPC, as a Neutron
// without agents).
func New(env *plugin.Env, log *slog.Logger) (*Service, error) {
	c := env.Config
	url := c.String("DEFAULT", "transport_url")
	if url == "" {
		return nil, nil
	}
	opts, err := oslo.OptionsFromConfig(c)
	if err != nil {
		return nil, err
	}
	t, err := oslo.Open(url, opts, log.With("logger", "oslo.messaging"))
	if err != nil {
		return nil, err
	}
	host := c.String("DEFAULT", "host")
	if host == "" {
		host, _ = os.Hostname()
	}
	s := &Service{Env: env, T: t, Log: log.With("logger", "neutron.rpc"), Host: host, disp: map[string]*oslo.Dispatcher{}}
	s.Versions = newVersions(s)
	s.out = newNotifier(s)
	for _, p := range parts {
		if err := p(s); err != nil {
			t.Close()
			return nil, err
		}
	}
	env.Set(serviceKey{}, s)
	return s, nil
}

// Add adds endpoints to a consumed topic.
func (s *Service) Add(topic string, eps ...oslo.Endpoint) {
	d := s.disp[topic]
	if d == nil {
		d = &oslo.Dispatcher{}
		s.disp[topic] = d
	}
	d.Add(eps...)
}

// workers: goroutines per topic: [DEFAULT] rpc_workers (unset or 0: 8),
// plus rpc_state_report_workers for the state reports.
func (s *Service) workers(topic string) int {
	n := s.Env.Config.Int("DEFAULT", "rpc_workers")
	if n <= 0 {
		n = 8
	}
	if topic == TopicReports {
		n += max(s.Env.Config.Int("DEFAULT", "rpc_state_report_workers"), 0)
	}
	return n
}

// Start consumes the server topics (after the API listens, as
// neutron-server's serve_rpc); it returns once every topic is consumed.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if err := s.Versions.load(ctx); err != nil {
		s.Log.Warn("agents' resource versions not loaded", "error", err)
	}
	for _, topic := range []string{TopicPlugin, TopicReports, TopicL3Plugin, TopicResourceVersions, TopicTrunk} {
		d := s.disp[topic]
		if d == nil {
			continue
		}
		srv := s.T.NewServer(oslo.ServerTarget{Topic: topic, Host: s.Host}, d, s.workers(topic))
		if err := srv.Start(ctx); err != nil {
			s.stopServers(context.Background())
			return err
		}
		s.servers = append(s.servers, srv)
	}
	s.out.start()
	s.startRescheduling()
	s.started = true
	s.Log.Info("RPC workers serving", "topics", fmt.Sprint(len(s.servers)), "host", s.Host)
	return nil
}

func (s *Service) stopServers(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Stop(ctx))
	}
	s.servers = nil
	return errors.Join(errs...)
}

// Stop stops consuming, lets the requests in flight finish and the queued
// notifications go out (until ctx ends), and closes the transport.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopRescheduling()
	err := s.stopServers(ctx)
	s.out.stop(ctx)
	return errors.Join(err, s.T.Close())
}
