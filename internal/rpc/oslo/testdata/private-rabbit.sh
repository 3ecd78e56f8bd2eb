#!/bin/sh
# A private RabbitMQ node for the broker-restart test, so that restarting it
# disturbs nobody else on the machine.
#   private-rabbit.sh start DIR NODE AMQP_PORT DIST_PORT [TLS_PORT]
#     (with TLS_PORT, DIR must hold ca.pem, server.pem and server.key)
#   private-rabbit.sh stop NODE
# It runs as the rabbitmq user with that user's Erlang cookie, so that
# rabbitmqctl -n NODE (stop_app, start_app, list_queues) reaches it.
set -e
cmd=$1
case $cmd in
start)
  dir=$2 node=$3 port=$4 dist=$5 tls=${6:-}
  mkdir -p "$dir"
  printf 'listeners.tcp.local = 127.0.0.1:%s\nloopback_users = none\n' "$port" > "$dir/rabbitmq.conf"
  if [ -n "$tls" ]; then
    printf 'listeners.ssl.local = 127.0.0.1:%s\nssl_options.cacertfile = %s\nssl_options.certfile = %s\nssl_options.keyfile = %s\nssl_options.verify = verify_none\nssl_options.fail_if_no_peer_cert = false\n' \
      "$tls" "$dir/ca.pem" "$dir/server.pem" "$dir/server.key" >> "$dir/rabbitmq.conf"
  fi
  chown -R rabbitmq:rabbitmq "$dir"; chmod 755 "$dir"
  su rabbitmq -s /bin/sh -c "cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq \
    RABBITMQ_NODENAME=$node RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$dist \
    RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf RABBITMQ_MNESIA_BASE=$dir/mnesia \
    RABBITMQ_LOG_BASE=$dir/log RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins \
    RABBITMQ_PID_FILE=$dir/pid /usr/lib/rabbitmq/bin/rabbitmq-server -detached"
  rabbitmqctl -q -n "$node" wait --timeout 120 "$dir/pid"
  ;;
stop)
  rabbitmqctl -q -n "$2" stop
  ;;
*) echo "usage: $0 start DIR NODE AMQP_PORT DIST_PORT | stop NODE" >&2; exit 2 ;;
esac
