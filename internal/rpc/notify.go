package rpc

import (
	"context"
	"sync"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

// notifier sends the server's casts in the order they were made, on its
// own goroutine, so that a request never waits for the broker; a cast is
// retried by the transport across reconnections until the broker has it.
type notifier struct {
	s     *Service
	jobs  chan cast
	done  chan struct{}
	start func()
	once  sync.Once
	ctx   context.Context
	quit  context.CancelFunc
}

type cast struct {
	tg     oslo.Target
	method string
	args   any
	call   bool
}

func newNotifier(s *Service) *notifier {
	n := &notifier{s: s, jobs: make(chan cast, 65536), done: make(chan struct{})}
	n.ctx, n.quit = context.WithCancel(context.Background())
	n.start = func() { n.once.Do(func() { go n.run() }) }
	return n
}

func (n *notifier) run() {
	defer close(n.done)
	for c := range n.jobs {
		n.send(c)
	}
}

func (n *notifier) send(c cast) {
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Minute)
	defer cancel()
	var err error
	if c.call {
		_, err = n.s.T.Call(ctx, oslo.AdminContext(), c.tg, c.method, c.args)
	} else {
		err = n.s.T.Cast(ctx, oslo.AdminContext(), c.tg, c.method, c.args)
	}
	if err != nil {
		n.s.Log.Warn("notification to the agents not sent", "method", c.method, "topic", c.tg.Topic, "server", c.tg.Server, "error", err.Error())
	}
}

// stop sends what is queued until ctx ends.
func (n *notifier) stop(ctx context.Context) {
	n.once.Do(func() { close(n.done) }) // never started
	select {
	case <-n.done:
		return
	default:
	}
	close(n.jobs)
	select {
	case <-n.done:
	case <-ctx.Done():
		n.quit()
		<-n.done
	}
}

// Cast queues a cast to the agents (after commit: call it from AFTER
// events and postcommit calls).
func (s *Service) Cast(tg oslo.Target, method string, args any) {
	s.enqueue(cast{tg: tg, method: method, args: args})
}

// CallAsync queues a call whose reply is only waited for, not used
// (router_added_to_agent).
func (s *Service) CallAsync(tg oslo.Target, method string, args any) {
	s.enqueue(cast{tg: tg, method: method, args: args, call: true})
}

func (s *Service) enqueue(c cast) {
	defer func() {
		if recover() != nil { // stopped: the queue is closed
			s.Log.Warn("notification dropped at shutdown", "method", c.method)
		}
	}()
	select {
	case s.out.jobs <- c:
	default:
		s.Log.Error("notification queue full; notification dropped (the agents resync on their next report)", "method", c.method)
	}
}
