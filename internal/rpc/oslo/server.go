package oslo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Server consumes one topic the way an oslo.messaging RPC server does: the
// queues "<topic>" and "<topic>.<host>" on the topic exchange and a queue
// "<topic>_fanout_<uuid>" on "<topic>_fanout"; it dispatches each request
// to the endpoints on a pool of worker goroutines and replies to calls.
type Server struct {
	t       *Transport
	topic   string
	host    string
	ex      string
	disp    *Dispatcher
	workers int
	fanout  string // the uuid of the fanout queue, kept across reconnects

	jobs   chan amqp.Delivery
	cancel context.CancelFunc
	stop   sync.Once
	wg     sync.WaitGroup // consumer
	work   sync.WaitGroup // workers
	seen   *idCache
}

// ServerTarget names what a server consumes.
type ServerTarget struct {
	Exchange string // "" = control_exchange
	Topic    string
	Host     string // the "<topic>.<host>" queue; "" = only the topic and fanout queues
}

// NewServer prepares a server for target with workers goroutines (at least 1).
func (t *Transport) NewServer(target ServerTarget, d *Dispatcher, workers int) *Server {
	return &Server{t: t, topic: target.Topic, host: target.Host, ex: target.Exchange, disp: d,
		workers: max(workers, 1), fanout: newUniqueID(), seen: newIDCache(1024)}
}

// Queues are the names of the queues the server consumes.
func (s *Server) Queues() []string {
	out := []string{s.topic}
	if s.host != "" {
		out = append(out, s.topic+"."+s.host)
	}
	return append(out, s.topic+"_fanout_"+s.fanout)
}

// Start declares the queues and starts consuming; it returns once the
// server consumes (or the first declaration failed, or ctx ended first).
// Afterwards the server re-declares and resumes after every reconnection.
func (s *Server) Start(ctx context.Context) error {
	queues := []queueDecl{s.t.topicQueue(s.ex, s.topic)}
	if s.host != "" {
		queues = append(queues, s.t.topicQueue(s.ex, s.topic+"."+s.host))
	}
	queues = append(queues, s.t.fanoutQueue(s.topic, s.fanout))
	s.jobs = make(chan amqp.Delivery, s.workers)
	for range s.workers {
		s.work.Add(1)
		go s.worker()
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		select {
		case <-s.t.done:
			cancel()
		case <-runCtx.Done():
		}
	}()
	ready := make(chan error, 1)
	c := &consumer{t: s.t, queues: queues, handle: func(d amqp.Delivery) { s.jobs <- d }}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.run(runCtx, ready)
	}()
	var err error
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.Stop(context.Background())
		return fmt.Errorf("oslo: server for topic %s: %w", s.topic, err)
	}
	return nil
}

// Stop stops consuming, then waits (until ctx ends) for the requests
// already received to be handled and answered.
func (s *Server) Stop(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	s.stop.Do(func() {
		s.cancel()
		s.wg.Wait()
		close(s.jobs)
	})
	done := make(chan struct{})
	go func() { s.work.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) worker() {
	defer s.work.Done()
	for d := range s.jobs {
		s.serve(d)
	}
}

func (s *Server) serve(d amqp.Delivery) {
	msg, err := decodeMessage(d.Body)
	if err != nil {
		s.t.log.Error("dropping undecodable message", "topic", s.topic, "error", err)
		return
	}
	if msg.UniqueID != "" && !s.seen.add(msg.UniqueID) {
		s.t.log.Warn("ignoring duplicate message", "topic", s.topic, "unique_id", msg.UniqueID)
		return
	}
	req := &Request{Method: msg.Method, Namespace: msg.Namespace, Version: msg.Version,
		Context: msg.Context, Args: Args(msg.Args), IsCall: msg.MsgID != ""}
	if req.Args == nil {
		req.Args = Args{}
	}
	stopBeats := s.callMonitor(msg)
	result, err := s.dispatch(req)
	stopBeats()
	if !req.IsCall {
		if err != nil {
			s.t.log.Error("cast failed", "topic", s.topic, "method", msg.Method, "error", err)
		}
		return
	}
	if err := s.t.sendReply(msg.ReplyQ, msg.MsgID, result, err); err != nil {
		s.t.log.Error("reply failed", "topic", s.topic, "method", msg.Method, "reply_q", msg.ReplyQ, "error", err)
	}
}

// callMonitor sends the heartbeats oslo's call monitor expects while a call
// with a _timeout (call_monitor_timeout, seconds) runs: a reply with
// ending=false every _timeout/2 seconds. It returns the function that stops
// them.
func (s *Server) callMonitor(msg *Message) func() {
	secs, ok := msg.Timeout.(float64)
	if !ok || msg.MsgID == "" || secs/2 < 1 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Duration(secs / 2 * float64(time.Second)))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if err := s.t.sendHeartbeat(msg.ReplyQ, msg.MsgID); err != nil {
					s.t.log.Debug("call-monitor heartbeat failed", "msg_id", msg.MsgID, "error", err)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// dispatch runs the endpoint, turning a panic into a failure.
func (s *Server) dispatch(req *Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.t.log.Error("endpoint panicked", "method", req.Method, "panic", p, "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("internal error in %s: %v", req.Method, p)
		}
	}()
	return s.disp.Dispatch(context.Background(), req)
}

// sendReply sends the answer to a call to its reply queue on the default
// exchange: one message with result, failure and ending=true. While the
// reply queue is missing (the caller reconnecting) the reply is retried for
// kombu_missing_consumer_retry_timeout; queues found gone are remembered for
// a minute so that later replies to them are dropped at once.
func (t *Transport) sendReply(replyQ, msgID string, result any, callErr error) error {
	if replyQ == "" {
		return errors.New("call without _reply_q")
	}
	if t.isObsolete(replyQ) {
		return fmt.Errorf("reply queue %s is gone: reply to %s dropped", replyQ, msgID)
	}
	inner := map[string]any{"_msg_id": msgID, "result": nil, "failure": nil, "ending": true, "_unique_id": newUniqueID()}
	if callErr != nil {
		inner["failure"] = serializeFailure(callErr)
	} else if raw, ok := result.(json.RawMessage); ok && raw != nil {
		inner["result"] = raw
	} else {
		inner["result"] = result
	}
	body, err := encodeEnvelope(inner)
	if err != nil {
		body, _ = encodeEnvelope(map[string]any{"_msg_id": msgID, "result": nil, "ending": true,
			"failure": serializeFailure(fmt.Errorf("cannot encode the result: %w", err)), "_unique_id": newUniqueID()})
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.MissingConsumerRetry+30*time.Second)
	defer cancel()
	err = t.publishRouted(ctx, nil, replyQ, publishing(body, 0), t.opts.MissingConsumerRetry)
	if errors.Is(err, ErrUndeliverable) {
		t.obsoleteMu.Lock()
		t.obsolete[replyQ] = time.Now()
		t.obsoleteMu.Unlock()
	}
	return err
}

// sendHeartbeat sends a call-monitor heartbeat: a reply without result
// whose ending is false.
func (t *Transport) sendHeartbeat(replyQ, msgID string) error {
	body, err := encodeEnvelope(map[string]any{"_msg_id": msgID, "result": nil, "failure": nil,
		"ending": false, "_unique_id": newUniqueID()})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.publish(ctx, nil, replyQ, true, publishing(body, 0))
}

func (t *Transport) isObsolete(q string) bool {
	t.obsoleteMu.Lock()
	defer t.obsoleteMu.Unlock()
	for k, at := range t.obsolete {
		if time.Since(at) > time.Minute {
			delete(t.obsolete, k)
		}
	}
	_, ok := t.obsolete[q]
	return ok
}

// idCache remembers the last n unique ids (duplicate detection).
type idCache struct {
	mu   sync.Mutex
	ring []string
	set  map[string]bool
	pos  int
}

func newIDCache(n int) *idCache { return &idCache{ring: make([]string, n), set: map[string]bool{}} }

// add records id and reports whether it was new.
func (c *idCache) add(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set[id] {
		return false
	}
	if old := c.ring[c.pos]; old != "" {
		delete(c.set, old)
	}
	c.ring[c.pos] = id
	c.set[id] = true
	c.pos = (c.pos + 1) % len(c.ring)
	return true
}
