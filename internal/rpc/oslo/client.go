package oslo

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Target says where a cast or call goes, as oslo_messaging.Target does.
type Target struct {
	Exchange  string // "" = control_exchange
	Topic     string
	Server    string // host: sent to "<topic>.<server>"
	Fanout    bool   // sent to the "<topic>_fanout" exchange (casts only)
	Namespace string
	Version   string // "X.Y"; "" leaves it out (the receiver assumes 1.0)
	// Timeout of a call (also the message's expiration); 0 = rpc_response_timeout.
	Timeout time.Duration
	// Mandatory makes a cast wait (up to MandatoryWindow, default 60 s) for a
	// queue to take it, e.g. while the receiver re-declares its queues after
	// a broker restart, and fail with ErrUndeliverable after that. Without
	// it, a cast nobody listens to is dropped by the broker, as oslo's are.
	Mandatory       bool
	MandatoryWindow time.Duration
}

func (tg Target) routingKey() string {
	if tg.Server != "" {
		return tg.Topic + "." + tg.Server
	}
	return tg.Topic
}

// Cast sends a one-way request. It returns once the broker has the message
// (publisher confirm).
func (t *Transport) Cast(ctx context.Context, rc Context, tg Target, method string, args any) error {
	body, err := encodeEnvelope(requestBody(rc, method, tg.Namespace, tg.Version, args))
	if err != nil {
		return fmt.Errorf("oslo: cast %s: %w", method, err)
	}
	msg := publishing(body, 0)
	ex := t.topicExchange(tg.Exchange)
	key := tg.routingKey()
	if tg.Fanout {
		ex, key = fanoutExchange(tg.Topic), ""
	}
	if tg.Mandatory {
		window := tg.MandatoryWindow
		if window <= 0 {
			window = 60 * time.Second
		}
		return t.publishRouted(ctx, ex, key, msg, window)
	}
	return t.publish(ctx, ex, key, false, msg)
}

// Call sends a request and waits for its reply: the result as JSON, or a
// *RemoteError when the remote method failed, or a *TimeoutError.
func (t *Transport) Call(ctx context.Context, rc Context, tg Target, method string, args any) (json.RawMessage, error) {
	if tg.Fanout {
		return nil, fmt.Errorf("oslo: call %s: a call cannot be a fanout", method)
	}
	timeout := tg.Timeout
	if timeout <= 0 {
		timeout = t.opts.RPCResponseTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rw, err := t.replies(ctx)
	if err != nil {
		return nil, fmt.Errorf("oslo: call %s: reply queue: %w", method, err)
	}
	inner := requestBody(rc, method, tg.Namespace, tg.Version, args)
	msgID := newUniqueID()
	inner["_msg_id"], inner["_reply_q"], inner["_timeout"] = msgID, rw.queue, nil
	body, err := encodeEnvelope(inner)
	if err != nil {
		return nil, fmt.Errorf("oslo: call %s: %w", method, err)
	}
	ch := rw.listen(msgID)
	defer rw.unlisten(msgID)
	if err := t.publish(ctx, t.topicExchange(tg.Exchange), tg.routingKey(), false, publishing(body, timeout)); err != nil {
		return nil, timeoutOr(err, ctx, msgID, tg, timeout)
	}
	var result json.RawMessage
	var failure *RemoteError
	for {
		select {
		case m := <-ch:
			if m.Failure != "" {
				failure = parseFailure(m.Failure)
			} else if !isNull(m.Result) {
				result = m.Result
			}
			// Older servers send the result, then {"ending": true}; a
			// message with neither result nor ending is a call-monitor
			// heartbeat.
			if m.Ending {
				if failure != nil {
					return nil, failure
				}
				if result == nil {
					result = json.RawMessage("null")
				}
				return result, nil
			}
		case <-ctx.Done():
			return nil, timeoutOr(ctx.Err(), ctx, msgID, tg, timeout)
		}
	}
}

func timeoutOr(err error, ctx context.Context, msgID string, tg Target, after time.Duration) error {
	if ctx.Err() == context.DeadlineExceeded {
		return &TimeoutError{MsgID: msgID, Topic: tg.routingKey(), After: after}
	}
	return err
}

// replyWaiter consumes the transport's reply queue "reply_<uuid>" and hands
// each reply to the call waiting for its _msg_id.
type replyWaiter struct {
	queue   string
	mu      sync.Mutex
	waiters map[string]chan *Message
	seen    *idCache
}

// replies starts the reply queue on first use and waits until it consumes.
func (t *Transport) replies(ctx context.Context) (*replyWaiter, error) {
	t.replyMu.Lock()
	defer t.replyMu.Unlock()
	if t.reply != nil {
		return t.reply, nil
	}
	rw := &replyWaiter{queue: "reply_" + newUniqueID(), waiters: map[string]chan *Message{}, seen: newIDCache(1024)}
	runCtx, cancel := context.WithCancel(context.Background())
	ready := make(chan error, 1)
	c := &consumer{t: t, queues: []queueDecl{t.replyQueue(rw.queue)}, handle: rw.deliver(t)}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		go func() { <-t.done; cancel() }()
		c.run(runCtx, ready)
	}()
	select {
	case err := <-ready:
		if err != nil {
			cancel()
			return nil, err
		}
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
	t.reply = rw
	return rw, nil
}

func (rw *replyWaiter) deliver(t *Transport) func(amqp.Delivery) {
	return func(d amqp.Delivery) {
		m, err := decodeMessage(d.Body)
		if err != nil {
			t.log.Error("dropping undecodable reply", "error", err)
			return
		}
		if m.UniqueID != "" && !rw.seen.add(m.UniqueID) {
			return
		}
		rw.mu.Lock()
		ch := rw.waiters[m.MsgID]
		rw.mu.Unlock()
		if ch == nil {
			t.log.Info("no call waiting for reply", "msg_id", m.MsgID)
			return
		}
		select {
		case ch <- m:
		default:
			t.log.Warn("reply dropped: caller not reading", "msg_id", m.MsgID)
		}
	}
}

func (rw *replyWaiter) listen(msgID string) chan *Message {
	ch := make(chan *Message, 8)
	rw.mu.Lock()
	rw.waiters[msgID] = ch
	rw.mu.Unlock()
	return ch
}

func (rw *replyWaiter) unlisten(msgID string) {
	rw.mu.Lock()
	delete(rw.waiters, msgID)
	rw.mu.Unlock()
}
