package oslo

import (
	"context"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// consumer keeps a set of queues consumed on a channel of its own across
// reconnections: on every new connection it declares them again (transient
// queues vanish with a broker restart) and resumes consuming. Every delivery
// is acknowledged on receipt, as oslo.messaging's RPC listener does, then
// handed to handle.
type consumer struct {
	t      *Transport
	queues []queueDecl
	handle func(amqp.Delivery)
}

// run consumes until ctx ends. ready gets the outcome of the first
// declaration (nil once consuming); a broker refusal there (e.g. a queue
// that exists with other arguments) ends run.
func (c *consumer) run(ctx context.Context, ready chan<- error) {
	first := true
	report := func(err error) {
		if first {
			first = false
			ready <- err
		}
	}
	for ctx.Err() == nil {
		conn, err := c.t.getConn(ctx)
		if err != nil {
			report(err)
			return
		}
		ch, deliveries, err := c.open(conn)
		if err != nil {
			if ch != nil {
				_ = ch.Close()
			}
			if first && !isConnErr(err) {
				report(err)
				return
			}
			c.t.log.Error("declaring consumer failed, retrying", "queues", c.names(), "error", err)
			c.t.pause(ctx, max(c.t.opts.RetryInterval, 100*time.Millisecond))
			continue
		}
		report(nil)
		c.drain(ctx, ch, deliveries)
		_ = ch.Close()
	}
	report(ctx.Err())
}

func (c *consumer) names() []string {
	out := make([]string, len(c.queues))
	for i, q := range c.queues {
		out[i] = q.name
	}
	return out
}

func (c *consumer) open(conn *amqp.Connection) (*amqp.Channel, []<-chan amqp.Delivery, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, nil, err
	}
	if n := c.t.opts.PrefetchCount; n > 0 {
		if err := ch.Qos(n, 0, false); err != nil {
			return ch, nil, err
		}
	}
	var out []<-chan amqp.Delivery
	for i, q := range c.queues {
		if err := declareQueue(ch, q); err != nil {
			return ch, nil, fmt.Errorf("queue %s: %w", q.name, err)
		}
		d, err := ch.Consume(q.name, fmt.Sprintf("%d", i+1), false, false, false, false, nil)
		if err != nil {
			return ch, nil, fmt.Errorf("consume %s: %w", q.name, err)
		}
		out = append(out, d)
	}
	return ch, out, nil
}

// drain handles deliveries until the channel closes or ctx ends.
func (c *consumer) drain(ctx context.Context, ch *amqp.Channel, deliveries []<-chan amqp.Delivery) {
	var wg sync.WaitGroup
	for _, d := range deliveries {
		wg.Add(1)
		go func(d <-chan amqp.Delivery) {
			defer wg.Done()
			for m := range d {
				if err := m.Ack(false); err != nil {
					continue // not acknowledged: the broker delivers it again
				}
				c.handle(m)
			}
			// This consumer ended: the channel closed, or the broker
			// cancelled it (its queue was deleted). Close the channel so
			// that run re-declares and re-consumes every queue.
			_ = ch.Close()
		}(d)
	}
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = ch.Close() // ends the delivery channels
		case <-stop:
		}
	}()
	wg.Wait()
	close(stop)
}
