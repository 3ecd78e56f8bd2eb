// Package oslo speaks oslo.messaging's RPC protocol over RabbitMQ (the
// "rabbit" driver of oslo.messaging 14, Zed), wire-compatible with the Python
// library, so that Neutron's agents and neutrino's RPC servers talk to each
// other unchanged.
//
// What goes over the wire:
//
//   - transport_url "rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost?opt=val"
//     (several hosts tried in turn, the vhost unquoted from the path, query
//     options overriding [oslo_messaging_rabbit]); TLS with ssl=true and
//     ssl_ca_file/ssl_cert_file/ssl_key_file/ssl_version.
//   - The control exchange ([DEFAULT] control_exchange, "neutron"), type
//     topic. An RPC server for topic T on host H consumes queue "T" (key T),
//     "T.H" (key T.H) and "T_fanout_<uuid hex>" bound to the fanout exchange
//     "T_fanout". Topic queues and the control exchange are durable with
//     amqp_durable_queues or rabbit_quorum_queue (then also x-queue-type
//     quorum), auto-delete with amqp_auto_delete; fanout exchanges are
//     transient and auto-delete; fanout and reply queues are transient and
//     expire (x-expires) after rabbit_transient_queues_ttl unused.
//   - Bodies are the 2.0 envelope {"oslo.version": "2.0", "oslo.message":
//     "<JSON>"}; the inner message has method, args, version, namespace
//     (only when set), the request context flattened as _context_<key>, a
//     _unique_id (duplicates are dropped), and for calls _msg_id, _reply_q
//     and _timeout. AMQP properties: application/json, utf-8, persistent;
//     calls carry expiration = the call timeout in ms.
//   - A call's reply goes to the default exchange with the caller's reply
//     queue "reply_<uuid hex>" as routing key (mandatory: retried while that
//     queue is missing), one message {_msg_id, result, failure, ending:
//     true}; a failure is oslo's JSON string {class, module, message, tb,
//     args, kwargs}. The client also accepts the older two-part reply
//     (result, then ending) and call-monitor heartbeats.
//
// Robustness: one connection per Transport with heartbeats
// (heartbeat_timeout_threshold), re-established after any loss with the
// rabbit_retry_interval/rabbit_retry_backoff/rabbit_interval_max backoff,
// rotating over the hosts; servers and the reply queue re-declare their
// queues on each new connection; every publish waits for the broker's
// confirm and is sent again after a reconnection until confirmed, so a cast
// or notification that Cast returned nil for is in the broker
// (Target.Mandatory also waits for a queue to take it).
//
// Known differences on the wire, none of which a receiver looks at: the
// AMQP properties omit kombu's empty `headers` table and `priority` 0 (the
// client library leaves empty/zero properties out), the inner JSON's keys are
// sorted, and the connection advertises amqp091-go's client properties
// (with connection_name "<program>:<pid>:<uuid>" as oslo sets it).
//
// Cast and Call block until the broker confirmed the message (across
// reconnections): give them a context with a deadline where that matters, or
// publish from a goroutine of their own.
//
// Use:
//
//	t, _ := oslo.Open(url, opts, logger)
//	var d oslo.Dispatcher
//	d.Add(oslo.Endpoint{Version: "1.2", Methods: map[string]oslo.Handler{"report_state": h}})
//	srv := t.NewServer(oslo.ServerTarget{Topic: "q-reports-plugin", Host: host}, &d, 4)
//	_ = srv.Start(ctx)
//	_ = t.Cast(ctx, oslo.AdminContext(), oslo.Target{Topic: "dhcp_agent", Server: "compute1", Version: "1.0"}, "port_create_end", args)
package oslo
