#!/bin/sh
# Installs Debian's python3-oslo.messaging (the library of the Zed agents)
# for the interoperability test, without starting any service.
set -e
/usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null && exit 0
export DEBIAN_FRONTEND=noninteractive
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
fi
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends python3-oslo.messaging >/dev/null
[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
/usr/bin/python3 -c 'import oslo_messaging'
