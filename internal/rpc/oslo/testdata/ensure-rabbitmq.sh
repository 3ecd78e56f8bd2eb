#!/bin/bash
# Makes sure RabbitMQ answers on 127.0.0.1:5672 (guest/guest) for the
# internal/rpc tests: installs Debian's rabbitmq-server if missing (without
# letting apt start it) and starts the node if it is down. For .ci/run.
set -e
up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
up && exit 0
if ! command -v rabbitmqctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
su rabbitmq -s /bin/sh -c 'cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server -detached'
for _ in $(seq 120); do up && exit 0; sleep 1; done
echo "RabbitMQ did not come up on 127.0.0.1:5672" >&2
exit 1
