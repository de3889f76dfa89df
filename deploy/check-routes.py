#!/usr/bin/env python3
"""Check rendered Kubernetes manifests against deploy/routes.toml, the one routing table.

    check-routes.py [--optional SERVICE]... RENDERED.yaml...

For each file (the output of `kubectl kustomize` or `helm template`), the Ingresses together
must route exactly the table's paths, each with pathType Prefix to a Service whose
`app.kubernetes.io/component` label is the route's service, through a port the Service
has, selecting the pods of a Deployment of that component; WebSocket routes
(websocket = true) must sit in an Ingress with long ingress-nginx timeouts (at least an
hour) and buffering off, the others must not. --optional SERVICE lets that service's
routes be absent (a render that turned the part off) but never routed elsewhere.

Exits 1 and prints every difference when a file disagrees. Needs PyYAML (PYTHONPATH).
"""

import argparse
import copy
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WS_TIMEOUT_MIN = 3600
ANN = "nginx.ingress.kubernetes.io/"


def table():
    with open(REPO / "deploy" / "routes.toml", "rb") as f:
        routes = tomllib.load(f)["route"]
    return {(r["path"], r["service"], bool(r["websocket"])) for r in routes}


def is_websocket_ingress(ing):
    ann = (ing.get("metadata") or {}).get("annotations") or {}
    try:
        read = int(ann.get(ANN + "proxy-read-timeout", "0"))
        send = int(ann.get(ANN + "proxy-send-timeout", "0"))
    except ValueError:
        return False
    return read >= WS_TIMEOUT_MIN and send >= WS_TIMEOUT_MIN and ann.get(ANN + "proxy-buffering") == "off"


def routes_of(docs):
    """The (path, service, websocket) routes the Ingresses declare, and the problems found."""
    problems = []
    services = {}
    pods = []  # (component, pod labels)
    ingresses = []
    for d in docs:
        kind = d.get("kind")
        meta = d.get("metadata") or {}
        if kind == "Service":
            services[meta["name"]] = d
        elif kind in ("Deployment", "StatefulSet"):
            tmpl = d["spec"]["template"]["metadata"].get("labels") or {}
            pods.append((tmpl.get("app.kubernetes.io/component"), tmpl))
        elif kind == "Ingress":
            ingresses.append(d)
    if not ingresses:
        problems.append("no Ingress found")
    found = set()
    hosts = set()
    for ing in ingresses:
        name = ing["metadata"]["name"]
        ws = is_websocket_ingress(ing)
        for rule in ing["spec"].get("rules") or []:
            hosts.add(rule.get("host"))
            for p in (rule.get("http") or {}).get("paths") or []:
                path = p.get("path")
                where = f"Ingress {name} path {path}"
                if p.get("pathType") != "Prefix":
                    problems.append(f"{where}: pathType is {p.get('pathType')}, not Prefix")
                backend = (p.get("backend") or {}).get("service") or {}
                svc = services.get(backend.get("name"))
                if svc is None:
                    problems.append(f"{where}: backend Service {backend.get('name')!r} is not in the render")
                    continue
                component = (svc["metadata"].get("labels") or {}).get("app.kubernetes.io/component")
                port = backend.get("port") or {}
                ports = svc["spec"].get("ports") or []
                if not any(port.get("name") == sp.get("name") if "name" in port else port.get("number") == sp.get("port") for sp in ports):
                    problems.append(f"{where}: Service {backend.get('name')} has no port {port}")
                selector = svc["spec"].get("selector") or {}
                if not any(c == component and all(labels.get(k) == v for k, v in selector.items()) for c, labels in pods):
                    problems.append(f"{where}: Service {backend.get('name')} selects no {component} pods")
                found.add((path, component, ws))
    if len(hosts) > 1:
        problems.append(f"the Ingresses serve different hosts: {sorted(map(str, hosts))}")
    return found, problems


def compare(found, want, optional):
    problems = []
    for path, service, ws in sorted(want - found):
        if service in optional and not any(f[0] == path for f in found):
            continue
        kind = "a WebSocket route" if ws else "a plain route"
        problems.append(f"missing: {path} -> {service} as {kind}")
    for path, service, ws in sorted(found - want):
        kind = "a WebSocket route" if ws else "a plain route"
        problems.append(f"not in routes.toml: {path} -> {service} as {kind}")
    return problems


def check_file(path, want, optional):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    found, problems = routes_of(docs)
    return problems + compare(found, want, optional), docs


def self_test(docs, want, optional):
    """A render with one backend swapped must fail: the check can see a wrong route."""
    docs = copy.deepcopy(docs)
    services = [d["metadata"]["name"] for d in docs if d.get("kind") == "Service"]
    for d in docs:
        if d.get("kind") == "Ingress":
            backend = d["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
            backend["name"] = next(s for s in services if s != backend["name"])
            break
    found, problems = routes_of(docs)
    return bool(problems + compare(found, want, optional))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--optional", action="append", default=[], metavar="SERVICE")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    want = table()
    failed = False
    for i, path in enumerate(args.files):
        problems, docs = check_file(path, want, set(args.optional))
        if problems:
            failed = True
            print(f"{path}: the Ingress routes differ from deploy/routes.toml:")
            for p in problems:
                print(f"  - {p}")
        else:
            print(f"{path}: routes agree with deploy/routes.toml")
        if i == 0 and not problems and not self_test(docs, want, set(args.optional)):
            failed = True
            print(f"{path}: self-test failed: a swapped backend went unnoticed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
