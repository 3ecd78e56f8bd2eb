package oslo

import (
	amqp "github.com/rabbitmq/amqp091-go"
)

// exchangeDecl is an exchange as oslo.messaging declares it.
type exchangeDecl struct {
	name, kind          string
	durable, autoDelete bool
}

// queueDecl is a queue, its arguments and its binding.
type queueDecl struct {
	name                string
	durable, autoDelete bool
	args                amqp.Table
	exchange            *exchangeDecl // nil: the default exchange (no binding)
	key                 string
}

func (t *Transport) exchangeName(ex string) string {
	if ex == "" {
		return t.opts.ControlExchange
	}
	return ex
}

// topicExchange is the control exchange (or a target's own exchange): type
// topic, durable and auto-delete as the topic queues.
func (t *Transport) topicExchange(name string) *exchangeDecl {
	return &exchangeDecl{name: t.exchangeName(name), kind: "topic",
		durable: t.opts.durable(), autoDelete: t.opts.AutoDelete}
}

// fanoutExchange is "<topic>_fanout": fanout, transient, auto-delete.
func fanoutExchange(topic string) *exchangeDecl {
	return &exchangeDecl{name: topic + "_fanout", kind: "fanout", autoDelete: true}
}

// queueArgs are the x-arguments of a queue (oslo's _get_queue_arguments):
// x-ha-policy with rabbit_ha_queues; x-queue-type quorum (and its limits)
// with rabbit_quorum_queue for topic queues only; x-expires in ms for reply
// and fanout queues.
func (t *Transport) queueArgs(topicQueue bool, ttl int) amqp.Table {
	o := t.opts
	args := amqp.Table{}
	if o.HAQueues {
		args["x-ha-policy"] = "all"
	}
	if topicQueue && o.QuorumQueue {
		args["x-queue-type"] = "quorum"
		if o.QuorumDeliveryLimit > 0 {
			args["x-delivery-limit"] = int32(o.QuorumDeliveryLimit)
		}
		if o.QuorumMaxMemoryLength > 0 {
			args["x-max-in-memory-length"] = int32(o.QuorumMaxMemoryLength)
		}
		if o.QuorumMaxMemoryBytes > 0 {
			args["x-max-in-memory-bytes"] = int32(o.QuorumMaxMemoryBytes)
		}
	}
	if ttl > 0 {
		args["x-expires"] = int32(ttl * 1000)
	}
	if len(args) == 0 {
		return nil
	}
	return args
}

// topicQueue is queue `name` bound to the topic exchange with key `name`
// (used for both "T" and "T.<host>").
func (t *Transport) topicQueue(exchange, name string) queueDecl {
	return queueDecl{name: name, durable: t.opts.durable(), autoDelete: t.opts.AutoDelete,
		args: t.queueArgs(true, 0), exchange: t.topicExchange(exchange), key: name}
}

// fanoutQueue is "<topic>_fanout_<id>" on "<topic>_fanout", transient,
// not auto-delete, expiring after rabbit_transient_queues_ttl unused.
func (t *Transport) fanoutQueue(topic, id string) queueDecl {
	return queueDecl{name: topic + "_fanout_" + id, args: t.queueArgs(false, t.opts.TransientQueuesTTL),
		exchange: fanoutExchange(topic), key: topic}
}

// replyQueue is "reply_<id>", on the default exchange, transient, expiring.
func (t *Transport) replyQueue(name string) queueDecl {
	return queueDecl{name: name, args: t.queueArgs(false, t.opts.TransientQueuesTTL)}
}

func declareExchange(ch *amqp.Channel, ex *exchangeDecl) error {
	return ch.ExchangeDeclare(ex.name, ex.kind, ex.durable, ex.autoDelete, false, false, nil)
}

func declareQueue(ch *amqp.Channel, q queueDecl) error {
	if q.exchange != nil {
		if err := declareExchange(ch, q.exchange); err != nil {
			return err
		}
	}
	if _, err := ch.QueueDeclare(q.name, q.durable, q.autoDelete, false, false, q.args); err != nil {
		return err
	}
	if q.exchange != nil {
		return ch.QueueBind(q.name, q.key, q.exchange.name, false, nil)
	}
	return nil
}
