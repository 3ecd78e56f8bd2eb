#!/usr/bin/python3
"""An agent-side oslo.messaging peer (Debian's python3-oslo.messaging, the
library the Zed agents use) for neutrino's interoperability test.

  peer.py server URL TOPIC HOST   RPC server (endpoint version 1.5); prints
                                  READY, then one JSON line per cast received
  peer.py client URL TOPIC HOST   calls and casts the Go server on TOPIC and
                                  prints one JSON line per step

Both use control_exchange "neutron" and exit when stdin closes (server) or
after the last step (client).
"""
import json
import sys

from oslo_config import cfg
import oslo_messaging


def transport(url):
    conf = cfg.CONF  # as the agents do (it holds the metrics options)
    conf([], project='peer')
    oslo_messaging.set_transport_defaults('neutron')
    return oslo_messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=['oslo_messaging.rpc.dispatcher'])


def out(**kw):
    print(json.dumps(kw, sort_keys=True), flush=True)


class AgentEndpoint(object):
    target = oslo_messaging.Target(version='1.5')

    def __init__(self):
        self.notes = []

    def echo(self, context, **kwargs):
        return {'args': kwargs, 'is_admin': context.get('is_admin'),
                'request_id': context.get('request_id')}

    def fail(self, context, x=None):
        raise ValueError('bad value %s' % x)

    def note(self, context, **kwargs):
        self.notes.append(kwargs)
        out(cast='note', args=kwargs)

    def get_notes(self, context):
        return self.notes


def serve(url, topic, host):
    tr = transport(url)
    target = oslo_messaging.Target(topic=topic, server=host)
    server = oslo_messaging.get_rpc_server(tr, target, [AgentEndpoint()],
                                           executor='threading')
    server.start()
    out(ready=True)
    sys.stdin.read()  # until the test closes our stdin
    server.stop()
    server.wait()
    tr.cleanup()


def describe(exc):
    return {'type': type(exc).__name__, 'module': type(exc).__module__,
            'exc_type': getattr(exc, 'exc_type', None),
            'value': getattr(exc, 'value', None), 'str': str(exc).split('\n')[0]}


def run_client(url, topic, host):
    tr = transport(url)
    ctxt = {'is_admin': True, 'request_id': 'req-from-python', 'user_identity': '- - - - -'}
    client = oslo_messaging.get_rpc_client(tr, oslo_messaging.Target(topic=topic, version='1.0'), timeout=20)
    steps = [
        ('echo', lambda: client.prepare(version='1.5').call(ctxt, 'echo', a=1, b=['x', None])),
        ('echo_host', lambda: client.prepare(server=host, version='1.2').call(ctxt, 'echo', a=2)),
        ('fail_builtin', lambda: client.call(ctxt, 'fail_builtin')),
        ('fail_neutron', lambda: client.call(ctxt, 'fail_neutron')),
        ('no_such_method', lambda: client.call(ctxt, 'no_such_method')),
        ('bad_version', lambda: client.prepare(version='1.6').call(ctxt, 'echo')),
        ('cast', lambda: client.cast(ctxt, 'note', x='cast')),
        ('cast_host', lambda: client.prepare(server=host).cast(ctxt, 'note', x='host')),
        ('fanout', lambda: client.prepare(fanout=True).cast(ctxt, 'note', x='fanout')),
        # 4 s of work against a 2 s call monitor: only the server's heartbeats keep the call alive
        ('slow', lambda: client.prepare(timeout=20, call_monitor_timeout=2).call(ctxt, 'slow')),
    ]
    for name, step in steps:
        try:
            out(step=name, result=step())
        except Exception as exc:  # reported to the test
            out(step=name, error=describe(exc))
    tr.cleanup()


if __name__ == '__main__':
    mode, url, topic, host = sys.argv[1:5]
    if mode == 'server':
        serve(url, topic, host)
    else:
        run_client(url, topic, host)
