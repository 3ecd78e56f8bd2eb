"""Make the accounts neutrino's tests use exist in a Keystone (identity v3).

Called by keystone-up.sh with KS_URL, NEUTRON_URL and NEUTRON_URL_GIVEN in
the environment. Uses only the standard library; every step is idempotent
(look up by name, create when missing).
"""
import json
import os
import sys
import urllib.error
import urllib.request

KS = os.environ["KS_URL"].rstrip("/") + "/v3"
NEUTRON_URL = os.environ["NEUTRON_URL"].rstrip("/")
NEUTRON_URL_GIVEN = os.environ.get("NEUTRON_URL_GIVEN") == "1"


def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(KS + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    # a Keystone on a loaded machine may take long: wait, and try again
    # (every call here is idempotent or a lookup)
    for attempt in range(3):
        try:
            with urllib.request.urlopen(req, timeout=90) as resp:
                raw = resp.read()
                return resp.status, resp.headers, (json.loads(raw) if raw else {})
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return e.code, e.headers, {}
            sys.exit("[keystone-up] %s %s: %s %s" % (method, path, e.code, e.read()[:300]))
        except (TimeoutError, OSError) as e:
            if attempt == 2:
                sys.exit("[keystone-up] %s %s: %s" % (method, path, e))
            print("[keystone-up] %s %s: %s; trying again" % (method, path, e), file=sys.stderr)


def password_token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    _, headers, _ = call("POST", "/auth/tokens", body)
    return headers["X-Subject-Token"]


TOKEN = password_token("admin", "admin", "admin")


def find(collection, **query):
    qs = "&".join("%s=%s" % kv for kv in query.items())
    _, _, body = call("GET", "/%s?%s" % (collection, qs), token=TOKEN)
    items = body[collection]
    return items[0] if items else None


def ensure(collection, member, query, attrs):
    obj = find(collection, **query)
    if obj:
        return obj
    _, _, body = call("POST", "/" + collection, {member: attrs}, token=TOKEN)
    print("[keystone-up] created %s %s" % (member, attrs.get("name", attrs.get("url"))),
          file=sys.stderr)
    return body[member]


roles = {n: ensure("roles", "role", {"name": n}, {"name": n})
         for n in ("admin", "member", "reader")}


def project(name):
    return ensure("projects", "project", {"name": name, "domain_id": "default"},
                  {"name": name, "domain_id": "default", "enabled": True})


def user(name, proj):
    u = ensure("users", "user", {"name": name, "domain_id": "default"},
               {"name": name, "domain_id": "default", "password": name,
                "default_project_id": proj["id"], "enabled": True})
    # the password is the user's name, whatever it was before
    call("PATCH", "/users/" + u["id"],
         {"user": {"password": name, "enabled": True}}, token=TOKEN)
    return u


def grant(proj, usr, role):
    call("PUT", "/projects/%s/users/%s/roles/%s" % (proj["id"], usr["id"], role["id"]),
         token=TOKEN)


service, demo = project("service"), project("demo")
grant(service, user("neutron", service), roles["admin"])
grant(demo, user("demo", demo), roles["member"])

if not find("regions"):
    call("POST", "/regions", {"region": {"id": "RegionOne"}}, token=TOKEN)
svc = find("services", type="network") or ensure(
    "services", "service", {"type": "network", "name": "neutron"},
    {"type": "network", "name": "neutron", "description": "OpenStack Networking"})
_, _, body = call("GET", "/endpoints?service_id=" + svc["id"], token=TOKEN)
for iface in ("public", "internal", "admin"):
    mine = [e for e in body["endpoints"] if e["interface"] == iface]
    if not mine:
        call("POST", "/endpoints", {"endpoint": {
            "service_id": svc["id"], "interface": iface, "url": NEUTRON_URL,
            "region_id": "RegionOne", "enabled": True}}, token=TOKEN)
        print("[keystone-up] network endpoint %s %s" % (iface, NEUTRON_URL), file=sys.stderr)
    elif NEUTRON_URL_GIVEN and mine[0]["url"] != NEUTRON_URL:
        call("PATCH", "/endpoints/" + mine[0]["id"],
             {"endpoint": {"url": NEUTRON_URL}}, token=TOKEN)
        print("[keystone-up] network endpoint %s now %s" % (iface, NEUTRON_URL), file=sys.stderr)

# the accounts work
for u, p in (("admin", "admin"), ("neutron", "service"), ("demo", "demo")):
    password_token(u, u, p)
