package oslo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// pubChannel is a channel in confirm mode used by one publisher at a time,
// so that a basic.return (which the broker sends before the ack) belongs to
// the message being confirmed.
type pubChannel struct {
	ch       *amqp.Channel
	returns  chan amqp.Return
	declared map[string]bool
}

func (t *Transport) getPub(ctx context.Context) (*pubChannel, error) {
	for {
		select {
		case p := <-t.pubs:
			if !p.ch.IsClosed() {
				return p, nil
			}
			continue
		default:
		}
		conn, err := t.getConn(ctx)
		if err != nil {
			return nil, err
		}
		ch, err := conn.Channel()
		if err == nil {
			err = ch.Confirm(false)
		}
		if err != nil {
			if ch != nil {
				_ = ch.Close()
			}
			if !t.pause(ctx, 100*time.Millisecond) {
				return nil, errors.Join(ctx.Err(), err)
			}
			continue
		}
		return &pubChannel{ch: ch, returns: ch.NotifyReturn(make(chan amqp.Return, 8)),
			declared: map[string]bool{}}, nil
	}
}

func (t *Transport) putPub(p *pubChannel) {
	if p.ch.IsClosed() {
		return
	}
	select {
	case t.pubs <- p:
	default:
		_ = p.ch.Close()
	}
}

// properties of every message, as kombu sends them.
func publishing(body []byte, expiration time.Duration) amqp.Publishing {
	p := amqp.Publishing{ContentType: "application/json", ContentEncoding: "utf-8",
		DeliveryMode: amqp.Persistent, Headers: amqp.Table{}, Body: body}
	if expiration > 0 {
		p.Expiration = strconv.FormatInt(expiration.Milliseconds(), 10)
	}
	return p
}

// publish sends one message and waits for the broker's confirm. A message
// the broker did not confirm (connection lost, nack) is sent again once a
// connection is back, until ctx ends: what publish returns nil for is in the
// broker. Consumers drop the duplicates this can create by _unique_id. With
// mandatory, a message no queue took is reported as ErrUndeliverable.
func (t *Transport) publish(ctx context.Context, ex *exchangeDecl, key string, mandatory bool, msg amqp.Publishing) error {
	refusals := 0
	for {
		p, err := t.getPub(ctx)
		if err != nil {
			return err
		}
		err = t.publishOnce(ctx, p, ex, key, mandatory, msg)
		if err == nil || errors.Is(err, ErrUndeliverable) {
			t.putPub(p)
			return err
		}
		_ = p.ch.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("oslo: publish to %q/%q: %w", exName(ex), key, ctx.Err())
		}
		if !isConnErr(err) && !errors.Is(err, errNacked) {
			if refusals++; refusals >= 3 {
				return fmt.Errorf("oslo: publish to %q/%q: %w", exName(ex), key, err)
			}
		}
		t.log.Warn("publish not confirmed, sending again", "exchange", exName(ex), "key", key, "error", err)
		t.pause(ctx, 100*time.Millisecond)
	}
}

var errNacked = errors.New("oslo: broker nacked the message")

func exName(ex *exchangeDecl) string {
	if ex == nil {
		return ""
	}
	return ex.name
}

func (t *Transport) publishOnce(ctx context.Context, p *pubChannel, ex *exchangeDecl, key string, mandatory bool, msg amqp.Publishing) error {
	if ex != nil && !p.declared[ex.name] {
		if err := declareExchange(p.ch, ex); err != nil {
			return err
		}
		p.declared[ex.name] = true
	}
	for len(p.returns) > 0 { // stale returns of an earlier, abandoned publish
		<-p.returns
	}
	dc, err := p.ch.PublishWithDeferredConfirmWithContext(ctx, exName(ex), key, mandatory, false, msg)
	if err != nil {
		return err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return err
	}
	if !acked {
		if p.ch.IsClosed() {
			return amqp.ErrClosed
		}
		return errNacked
	}
	select {
	case r := <-p.returns:
		return fmt.Errorf("%w (%d %s: exchange %q, key %q)", ErrUndeliverable, r.ReplyCode, r.ReplyText, r.Exchange, r.RoutingKey)
	default:
		return nil
	}
}

// publishRouted publishes with mandatory and, while no queue takes the
// message, tries again every 250 ms for up to window.
func (t *Transport) publishRouted(ctx context.Context, ex *exchangeDecl, key string, msg amqp.Publishing, window time.Duration) error {
	deadline := time.Now().Add(window)
	for {
		err := t.publish(ctx, ex, key, true, msg)
		if !errors.Is(err, ErrUndeliverable) || time.Now().After(deadline) {
			return err
		}
		if !t.pause(ctx, 250*time.Millisecond) {
			return errors.Join(err, ctx.Err())
		}
	}
}
