#!/usr/bin/env python3
"""End to end: real Traefik routes real requests through a sample's converted objects.

Usage: harness.py --traefik PATH [--caddy PATH] SAMPLE_DIR

For the sample, the harness reads authgate's output (SAMPLE_DIR/expected.yaml, which
the golden tests hold equal to what `authgate convert` prints) and the sample's
expectations (SAMPLE_DIR/expectations.yaml), then:

1. starts a loopback stub for every backend Service and every auth server, and maps the
   cluster to them, visibly: EndpointSlices point at the stubs, the forwardAuth
   addresses are rewritten to the auth stubs after checking that the original address
   names a Service (and port) that exists in the output or that the routes assume;
2. serves all of it, plus a GatewayClass and the Gateway the routes attach to, from a
   fake Kubernetes API (fake_kube.py);
3. runs real Traefik 3.7 with its Gateway API and CRD providers against that API;
4. sends each expectation's request without a session and with one, and checks: a
   protected path never reaches its backend without a session and reaches it, with the
   auth response headers, with one; a public path reaches its backend without auth;
   rewrites, redirects and answers without a backend are what the source did; with
   `authSees`, the path the auth server was asked about (X-Forwarded-Uri).

With --caddy, the same requests also go to real Caddy running the sample's own
Caddyfile (adapted to JSON by `caddy adapt`, its upstreams pointed at the same stubs,
plain HTTP on loopback, no admin endpoint), and each request's outcome must be the same
in both: which backend answered, whether auth ran and the path it was asked about, the
status class, the auth headers
the backend received, the path it received, the redirect target. Differences a check
declares (`caddyDiffers: why`) are printed, not failed; requests for Authentik's own
paths do not compare whether auth ran (Caddy asks the outpost, which lets its own paths
through; Traefik routes them to it directly).

Exit status 0 when every check passes, 1 otherwise; every wait has a timeout and every
process is stopped by its PID.
"""
import argparse
import base64
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_kube import FakeKube  # noqa: E402
from stubs import SESSION_COOKIE, auth_stub, backend_stub  # noqa: E402
from source_traefik import SourceSide  # noqa: E402

MANAGED = {"app.kubernetes.io/managed-by": "authgate-e2e"}


HANDED_OUT = set()


def free_port():
    """A loopback port nothing listens on, never the same one twice in this run (two
    Traefiks start at once, and the kernel may offer a just-closed port again)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in HANDED_OUT:
            HANDED_OUT.add(port)
            return port


class TLSConnection(http.client.HTTPConnection):
    """HTTPS to a loopback port with the request's host as SNI, any certificate
    accepted (Traefik's default one), and room for a PROXY header before the
    handshake (`connect` then `start_tls`)."""

    def __init__(self, address, port, server_name, timeout):
        super().__init__(address, port, timeout=timeout)
        self.server_name = server_name
        self.handshaken = False

    def start_tls(self):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.sock = context.wrap_socket(self.sock, server_hostname=self.server_name)
        self.handshaken = True

    def send(self, data):
        if self.sock is None:
            self.connect()
        if not self.handshaken and not data.startswith(b"PROXY "):
            self.start_tls()
        super().send(data)


class Harness:
    def __init__(self, sample_dir, traefik, caddy=None):
        self.sample = os.path.basename(os.path.normpath(sample_dir))
        self.sample_dir = sample_dir
        self.traefik = traefik
        self.caddy = caddy
        self.differences = []
        with open(os.path.join(sample_dir, "expected.yaml")) as handle:
            self.objects = [o for o in yaml.safe_load_all(handle) if o]
        with open(os.path.join(sample_dir, "expectations.yaml")) as handle:
            self.expectations = yaml.safe_load(handle)
        self.failures = []
        self.stubs = {}          # (ns, name, port) -> stub
        self.auth_stubs = []
        self.extra = []
        self.mapping_notes = []
        # `--upstream FROM=TO` in the sample's args: where the source's upstream lives.
        self.upstream_map = {}
        args_path = os.path.join(sample_dir, "args")
        if os.path.exists(args_path):
            with open(args_path) as handle:
                words = handle.read().split()
            for flag, value in zip(words, words[1:]):
                if flag == "--upstream" and "=" in value:
                    source, target = value.split("=", 1)
                    self.upstream_map[source] = target

    # -- mapping the cluster to loopback stubs ---------------------------------------

    def of_kind(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def service(self, namespace, name):
        for obj in self.of_kind("Service"):
            if obj["metadata"]["name"] == name and obj["metadata"].get("namespace") == namespace:
                return obj
        for obj in self.extra:
            if obj["kind"] == "Service" and obj["metadata"]["name"] == name and obj["metadata"]["namespace"] == namespace:
                return obj
        return None

    def route_refs(self):
        refs = []
        for route in self.of_kind("HTTPRoute"):
            namespace = route["metadata"]["namespace"]
            for rule in route["spec"].get("rules", []):
                for ref in rule.get("backendRefs", []):
                    key = (ref.get("namespace", namespace), ref["name"], ref["port"])
                    if key not in refs:
                        refs.append(key)
        return refs

    def map_auth(self):
        for middleware in self.of_kind("Middleware"):
            forward = middleware["spec"].get("forwardAuth")
            if not forward:
                continue
            url = urlparse(forward["address"])
            kind = "authentik" if url.path.startswith("/outpost.goauthentik.io/") else "generic"
            match = re.match(r"^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$", url.hostname or "")
            port = url.port or (443 if url.scheme == "https" else 80)
            if match:
                name, namespace = match.group(1), match.group(2)
                service = self.service(namespace, name)
                referenced = (namespace, name, port) in self.route_refs()
                if service is not None and not any(p["port"] == port for p in service["spec"]["ports"]):
                    self.fail(f"Middleware {middleware['metadata']['name']}: {forward['address']} names port {port}, which Service {namespace}/{name} does not have")
                if service is None and not referenced and namespace == middleware["metadata"]["namespace"]:
                    pass  # an auth server the routes' namespace is assumed to have (Authelia…)
                key = (namespace, name, port)
                label = f"{namespace}/{name}:{port}"
            else:
                key = (url.hostname, url.hostname, port)
                label = f"{url.hostname}:{port}"
            stub = self.stubs.get(key)
            copied = forward.get("authResponseHeaders", [])
            if stub is None:
                stub = auth_stub(label, kind, url.path, copied)
                stub.copied_by_all = {h.lower() for h in copied}
                self.stubs[key] = stub
                self.auth_stubs.append(stub)
            else:
                # Middlewares sharing one auth server may copy different headers: it
                # answers with all of them, and a backend must get those every one copies.
                stub.response_headers += [h for h in copied if h not in stub.response_headers]
                stub.copied_by_all &= {h.lower() for h in copied}
            stub.middleware = f"{middleware['metadata']['namespace']}/{middleware['metadata']['name']}"
            self.note(f"forwardAuth {stub.middleware}: {forward['address']} -> 127.0.0.1:{stub.port}{url.path}")
            forward["address"] = f"http://127.0.0.1:{stub.port}{url.path}"

    def map_backends(self):
        for namespace, name, port in self.route_refs():
            key = (namespace, name, port)
            stub = self.stubs.get(key)
            if stub is None:
                stub = backend_stub(f"{namespace}/{name}:{port}")
                self.stubs[key] = stub
            service = self.service(namespace, name)
            if service is None:
                # A Service the output assumes exists in the cluster: the harness plays it.
                port_name = f"http-{port}"
                self.extra.append({"apiVersion": "v1", "kind": "Service",
                                   "metadata": {"name": name, "namespace": namespace, "labels": MANAGED},
                                   "spec": {"type": "ClusterIP", "ports": [{"name": port_name, "port": port, "protocol": "TCP", "targetPort": port}]}})
                self.extra.append(self.endpoint_slice(namespace, name, port_name, stub.port))
                self.note(f"Service {namespace}/{name}:{port} (assumed to exist) -> stub 127.0.0.1:{stub.port}")
                continue
            ports = [p for p in service["spec"]["ports"] if p["port"] == port]
            if not ports:
                self.fail(f"a route sends requests to {namespace}/{name}:{port}, but the Service has no port {port}")
                continue
            port_name = ports[0].get("name", "")
            slices = [s for s in self.of_kind("EndpointSlice") + [e for e in self.extra if e["kind"] == "EndpointSlice"]
                      if s["metadata"].get("namespace") == namespace and s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == name]
            if not slices:
                self.extra.append(self.endpoint_slice(namespace, name, port_name, stub.port))
                self.note(f"Service {namespace}/{name}:{port} (pods of a Deployment) -> stub 127.0.0.1:{stub.port}")
                continue
            for endpoint_slice in slices:
                original = [a for e in endpoint_slice.get("endpoints", []) for a in e.get("addresses", [])]
                for slice_port in endpoint_slice.get("ports", []):
                    if slice_port.get("name") == port_name:
                        self.note(f"EndpointSlice {namespace}/{endpoint_slice['metadata']['name']} {endpoint_slice['addressType']} {original}:{slice_port['port']} -> stub 127.0.0.1:{stub.port}")
                        slice_port["port"] = stub.port
                address = "localhost" if endpoint_slice["addressType"] == "FQDN" else "127.0.0.1"
                for endpoint in endpoint_slice.get("endpoints", []):
                    endpoint["addresses"] = [address]

    @staticmethod
    def endpoint_slice(namespace, name, port_name, port):
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": f"{name}-e2e", "namespace": namespace,
                             "labels": {"kubernetes.io/service-name": name, **MANAGED}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
                "ports": [{"name": port_name, "port": port, "protocol": "TCP"}]}

    def gateway_objects(self, ports):
        routes = self.of_kind("HTTPRoute")
        parent = routes[0]["spec"]["parentRefs"][0] if routes else {"name": "traefik-gateway", "namespace": "traefik"}
        listeners = [{"name": name, "port": port, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
                     for name, port in ports.items()]
        namespaces = {o["metadata"].get("namespace") for o in self.objects + self.extra} | {parent["namespace"]}
        namespaces |= {o["metadata"]["name"] for o in self.of_kind("Namespace")}
        return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in sorted(n for n in namespaces if n)] + [
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "traefik"},
             "spec": {"controllerName": "traefik.io/gateway-controller"}},
            {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": parent["name"], "namespace": parent["namespace"]},
             "spec": {"gatewayClassName": "traefik", "listeners": listeners}},
        ]

    # -- running ----------------------------------------------------------------------

    def note(self, text):
        self.mapping_notes.append(text)

    def fail(self, text):
        self.failures.append(text)

    def run(self):
        self.map_auth()
        self.map_backends()
        ports = {"web": free_port(), "websecure": free_port()}
        self.api_port = free_port()
        served = [o for o in self.objects if o["kind"] != "Namespace"] + self.extra + self.gateway_objects(ports)
        with tempfile.TemporaryDirectory(prefix="authgate-e2e-") as folder, FakeKube(served) as kube:
            kubeconfig = os.path.join(folder, "kubeconfig")
            kube.kubeconfig(kubeconfig)
            log_path = os.path.join(folder, "traefik.log")
            environment = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
            environment["KUBECONFIG"] = kubeconfig
            arguments = [self.traefik,
                         f"--entryPoints.web.address=127.0.0.1:{ports['web']}",
                         f"--entryPoints.websecure.address=127.0.0.1:{ports['websecure']}",
                         # Checks with a clientIP send it in a PROXY header (see request).
                         "--entryPoints.web.proxyProtocol.trustedIPs=127.0.0.1/32",
                         "--entryPoints.websecure.proxyProtocol.trustedIPs=127.0.0.1/32",
                         f"--entryPoints.traefik.address=127.0.0.1:{self.api_port}", "--api.insecure=true",
                         "--providers.kubernetesGateway=true", "--providers.kubernetesCRD=true",
                         "--log.level=DEBUG", f"--log.filePath={log_path}"]
            process = subprocess.Popen(arguments, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            manifests = os.path.join(self.sample_dir, "manifests.yaml")
            self.source = None
            if os.path.exists(manifests):
                # The source objects, served by a second real Traefik (source_traefik.py).
                self.source = SourceSide(self, manifests)
                self.source.start(folder, self.source_arguments(), free_port, self.sample_words())
            try:
                self.ports = ports
                self.listener_port = ports[self.expectations.get("listener", "web")]
                if self.wait_until_live(kube, process, timeout=30):
                    for check in self.expectations["checks"]:
                        self.check(check)
                    if self.caddy and os.path.exists(os.path.join(self.sample_dir, "Caddyfile")):
                        self.differential(folder)
                    if self.source:
                        self.source_differential()
            finally:
                if self.source:
                    self.mapping_notes += self.source.notes
                    if self.failures:
                        self.failures.append("the source-side Traefik's errors:\n  " + "\n  ".join(self.source.errors()))
                    self.source.stop()
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
                for stub in self.stubs.values():
                    stub.stop()
                if self.failures:
                    with open(log_path) as handle:
                        lines = [l for l in handle.read().splitlines() if "error" in l.lower() or "ERR" in l]
                    self.failures.append("Traefik's errors:\n  " + "\n  ".join(lines[-15:]))
        return not self.failures

    def wait_until_live(self, kube, process, timeout):
        """Routes are live once Traefik has marked every HTTPRoute accepted and the first
        checked host answers something other than a 404 (or 5 s after that: a router
        Traefik dropped answers 404 for good, which the checks then report)."""
        deadline = time.monotonic() + timeout
        routes = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in self.of_kind("HTTPRoute")}
        first = self.expectations["checks"][0]
        accepted_at = None
        accepted = set()
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail(f"Traefik exited with status {process.returncode}")
                return False
            accepted = {(ns, name) for kind, ns, name, status in list(kube.store.status_updates)
                        if kind == "HTTPRoute" and any(c.get("type") == "Accepted" and c.get("status") == "True"
                                                       for p in status.get("parents", []) for c in p.get("conditions", []))}
            if routes <= accepted and self.middlewares_loaded():
                accepted_at = accepted_at or time.monotonic()
                try:
                    status, _, _ = self.request(first["host"], first["path"], session=False)
                    if status != 404 or time.monotonic() - accepted_at > 5:
                        return True
                except OSError:
                    pass
            time.sleep(0.2)
        self.fail(f"routes were not live after {timeout} s (accepted: {sorted(accepted)}; paths the fake API does not serve: {sorted(set(kube.store.unknown))})")
        return False

    def middlewares_loaded(self):
        """Traefik's CRD provider delivers the Middlewares apart from the Gateway
        provider's routers; until it has, routers that use them fail. Its API lists what
        it has loaded."""
        wanted = {f"{m['metadata']['namespace']}-{m['metadata']['name']}@kubernetescrd" for m in self.of_kind("Middleware")}
        if not wanted:
            return True
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=2)
            connection.request("GET", "/api/http/middlewares?per_page=1000")
            loaded = {m.get("name") for m in json.loads(connection.getresponse().read() or b"[]")}
            connection.close()
        except (OSError, ValueError, http.client.HTTPException):
            return False
        return wanted <= loaded

    def request(self, host, path, session, check=None):
        """One request; a check may set its method, extra headers and the client
        address (sent as a PROXY protocol v1 header, which both Traefik and Caddy
        take from loopback here, so remote_ip and ipAllowList see that address)."""
        check = check or {}
        if getattr(self, "use_tls", False):
            # The source side's websecure entry point speaks TLS (SNI = the host).
            connection = TLSConnection("127.0.0.1", self.listener_port, host, timeout=10)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.listener_port, timeout=10)
        headers = {"Host": host}
        headers.update(check.get("headers", {}))
        if session:
            headers["Cookie"] = SESSION_COOKIE
            if "credentials" in self.expectations:
                headers["Authorization"] = "Basic " + base64.b64encode(self.expectations["credentials"].encode()).decode()
        if "clientIP" in check:
            connection.connect()
            family = "TCP6" if ":" in check["clientIP"] else "TCP4"
            local = "::1" if family == "TCP6" else "127.0.0.1"
            connection.sock.sendall(f"PROXY {family} {check['clientIP']} {local} 40000 {self.listener_port}\r\n".encode())
        try:
            connection.request(check.get("method", "GET"), path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            # The proxy closed the connection without an answer (Caddy's abort).
            connection.close()
            return 0, {}, {}
        connection.close()
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        return response.status, dict(response.getheaders()), data

    def auth_calls(self):
        return sum(len(stub.auth_calls) for stub in self.auth_stubs)

    def check(self, check):
        if "listener" in check:
            # This one request arrives on another listener.
            saved = self.listener_port
            self.listener_port = self.ports[check["listener"]]
            try:
                self.check({k: v for k, v in check.items() if k != "listener"})
            finally:
                self.listener_port = saved
            return
        host, path = check["host"], check["path"]
        where = f"{host}{path}" + "".join(f" {k}={check[k]}" for k in ("method", "headers", "clientIP") if k in check)
        before = self.auth_calls()
        marks = [len(stub.auth_calls) for stub in self.auth_stubs]
        status, headers, body = self.request(host, path, session=False, check=check)
        backend = body.get("backend")
        if "redirect" in check:
            want = check["redirect"]
            if status != want["status"] or headers.get("Location") != want["location"]:
                self.fail(f"{where}: expected a {want['status']} redirect to {want['location']}, got {status} {headers.get('Location')}")
            return
        if check.get("backend") is None:
            # Answered without a backend (respond, abort, nothing handled): neither
            # without a session nor with one may a backend be reached.
            if backend is not None:
                self.fail(f"{where}: expected no backend, reached {backend} without a session")
            status, _, body = self.request(host, path, session=True, check=check)
            if body.get("backend") is not None or not (status >= 500 or status == 404 or status == check.get("status")):
                self.fail(f"{where}: expected an answer without a backend, got {status} from {body.get('backend')}")
            return
        if check.get("protected"):
            if backend is not None:
                self.fail(f"{where}: protected, but reached {backend} without a session (status {status})")
            if status not in (302, 401):
                self.fail(f"{where}: protected, expected the auth server's 302 or 401 without a session, got {status}")
            for stub in self.auth_stubs:
                for call_path, _ in stub.auth_calls:
                    if call_path.split("?")[0] != stub.endpoint:
                        self.fail(f"{where}: the auth server was called on {call_path}, expected {stub.endpoint}")
            if check.get("protected") == "basic" and "credentials" not in self.expectations:
                # Real users' hashes, whose passwords the harness does not know.
                return
            status, headers, body = self.request(host, path, session=True, check=check)
            backend = body.get("backend")
            if backend != check["backend"]:
                self.fail(f"{where}: with a session expected {check['backend']}, got {status} from {backend}")
                return
            received = {k.lower() for k in body.get("headers", {})}
            wanted = {h for stub in self.auth_stubs for h in getattr(stub, "copied_by_all", {x.lower() for x in stub.response_headers})}
            if "credentials" in self.expectations and check.get("protected") == "basic":
                if "authorization" not in received:
                    self.fail(f"{where}: basic auth passed but the backend got no Authorization header")
            elif wanted and not (wanted & received):
                self.fail(f"{where}: the backend got none of the auth response headers {sorted(wanted)}")
        else:
            if backend != check["backend"]:
                self.fail(f"{where}: public, expected {check['backend']}, got {status} from {backend}")
                return
            if self.auth_calls() != before:
                self.fail(f"{where}: public, but the auth server was called")
        for name, value in check.get("backendHeaders", {}).items():
            got = {k.lower(): v for k, v in body.get("headers", {}).items()}.get(name.lower())
            if got != value:
                self.fail(f"{where}: expected the backend to get {name}: {value}, it got {got}")
        if "upstreamPath" in check and body.get("path") != check["upstreamPath"]:
            self.fail(f"{where}: expected the backend to get {check['upstreamPath']}, it got {body.get('path')}")
        if "authSees" in check:
            calls = [call for stub, mark in zip(self.auth_stubs, marks) for call in stub.auth_calls[mark:]]
            seen = sorted({next((v for k, v in headers.items() if k.lower() == "x-forwarded-uri"), None) for _, headers in calls}, key=str)
            if seen != [check["authSees"]]:
                self.fail(f"{where}: expected the auth server to be asked about {check['authSees']}, it was asked about {seen}")

    # -- the differential against real Traefik serving the source -----------------------

    def sample_words(self):
        args_path = os.path.join(self.sample_dir, "args")
        if not os.path.exists(args_path):
            return []
        with open(args_path) as handle:
            return handle.read().split()

    def source_arguments(self):
        """Provider settings the sample's own flags say the source ran with."""
        words = self.sample_words()
        arguments = []
        if "--traefik-strict-prefix" in words:
            arguments.append("--providers.kubernetesIngress.strictPrefixMatching=true")
        return arguments

    def compare(self, theirs, ours, check, session, names, against, why):
        """One request's outcome on both sides: a difference is declared (`why()`
        gives the reason) or a failure. Requests for Authentik's own paths do not
        compare whether auth ran (the outpost lets them through)."""
        if check["path"].lower().startswith("/outpost.goauthentik.io"):
            for key in ("auth ran", "auth saw"):
                theirs.pop(key, None)
                ours.pop(key, None)
        if theirs == ours:
            return
        extra = "".join(f" {k}={check[k]}" for k in ("method", "headers", "clientIP") if k in check)
        where = f"{check['host']}{check['path']}{extra} {'with' if session else 'without'} a session"
        detail = "; ".join(f"{key}: {names[0]} {theirs[key]!r}, {names[1]} {ours.get(key)!r}" for key in theirs if theirs[key] != ours.get(key))
        reason = why()
        if reason:
            self.differences.append(f"{where}: {detail} ({reason})")
        else:
            self.fail(f"{where} differs from {against}: {detail}")

    def announced_to_source(self, theirs, ours, check):
        """Why a difference from the source is expected, when authgate itself says so."""
        with open(os.path.join(self.sample_dir, "expected-stderr.txt")) as handle:
            warnings = handle.read()
        if theirs["backend"] is None and ours["backend"] is None and theirs.get("location") is None and ours.get("location") is None:
            return "neither reaches a backend; only the error answer differs"
        if theirs["backend"] is None and theirs.get("location") is None and ours["backend"] is None \
                and ours.get("location") == f"https://{check['host']}{check['path']}":
            # A TLS-only router (router.tls) never answered plain HTTP, so its
            # redirectScheme never ran; the output redirects to the page over HTTPS.
            return "the source answered plain HTTP with an error (its router is TLS-only); the output redirects it to HTTPS"
        if "after logging in, users land" in warnings and {k for k in theirs if theirs[k] != ours.get(k)} == {"location"}:
            return "authgate warned: the login redirect loses the parameters nginx filled in per request"
        if ours.get("auth ran") and not theirs.get("auth ran") and ours["backend"] in (theirs["backend"], None) \
                and "is Traefik 1.7's" in warnings:
            return "authgate reads Traefik 1.7's annotations as 1.7 ran them (it warned); the oracle, Traefik 3, ignores them"
        known = self.source.known_difference(check["host"], check["path"])
        if known:
            return known
        outpost = {s.name for s in self.auth_stubs if s.kind == "authentik"}
        if check["path"].lower().startswith("/outpost.goauthentik.io/") and ours["backend"] in outpost \
                and re.search(r"authgate adds a route for /outpost\.goauthentik\.io/ on [^;]*\b" + re.escape(check["host"]), warnings):
            return "authgate warned: it adds the outpost route the input lacked"
        return None

    def source_differential(self):
        problem = self.source.wait_until_live()
        if problem:
            self.fail(problem)
            return
        for router in self.source.disabled():
            self.note(f"the source-side Traefik disabled router {router}")
        listener = self.expectations.get("listener", "web")
        port = self.source.ports[listener]
        requests = [dict(check) for check in self.expectations["checks"]]
        for host in dict.fromkeys(check["host"] for check in self.expectations["checks"]):
            # A path nobody wrote, on the listener the host's checks use.
            first = next(check for check in self.expectations["checks"] if check["host"] == host)
            requests.append({"host": host, "path": "/authgate-probe/x", **({"listener": first["listener"]} if "listener" in first else {})})
        # What the sample declares Traefik's ingress-nginx provider does differently
        # from ingress-nginx for every request (`sourceIgnore: {field: why}`).
        ignored = self.expectations.get("sourceIgnore", {})
        for field, why in ignored.items():
            self.differences.append(f"{field} is not compared with the source side: {why}")
        for check in requests:
            for session in (False, True):
                # A check on another listener (websecure, TLS on the source side).
                own = check.get("listener", listener)
                theirs = self.observe(self.source.ports[own], check["host"], check["path"], session, check, tls=own == "websecure")
                ours = self.observe(self.ports[own] if "listener" in check else self.listener_port, check["host"], check["path"], session, check)
                for field in ignored:
                    theirs.pop(field, None)
                    ours.pop(field, None)
                self.compare(theirs, ours, check, session, ("source", "output"), "real Traefik serving the source",
                             lambda: check.get("sourceDiffers") or self.announced_to_source(theirs, ours, check))

    # -- the differential against real Caddy ---------------------------------------------

    OUTSIDE = {"lan", "local", "localdomain", "home", "internal", "intranet", "corp", "private", "arpa", "test",
               "example", "invalid", "com", "net", "org", "io", "dev", "app", "info", "biz", "me", "co", "xyz",
               "cloud", "eu", "de", "uk", "fr", "nl", "ch", "at", "be", "se", "no", "dk", "fi", "it", "es", "pl",
               "cz", "us", "ca", "au", "nz", "jp", "in", "br", "ru", "tech", "site"}

    @staticmethod
    def label(text, prefix="x"):
        result = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        if not result or not result[0].isalpha():
            result = prefix + "-" + result
        return result[:63].rstrip("-")

    def stub_for_dial(self, dial, authentik_auth):
        """The stub a Caddy upstream reaches, by the placement rules DESIGN.md states
        (written again here, independently of authgate's Swift code)."""
        for source in (dial, "localhost" + dial if dial.startswith(":") else None):
            if source in self.upstream_map:
                dial = self.upstream_map[source]
                break
        if ":" not in dial:
            self.fail(f"Caddy upstream {dial} has no port and no --upstream mapping in the sample's args")
            return None
        host, _, port = dial.rpartition(":")
        host = host.strip("[]").lower()
        port = int(port)
        routes = self.of_kind("HTTPRoute")
        namespace = routes[0]["metadata"]["namespace"] if routes else "default"
        labels = host.split(".")
        is_ip = re.match(r"^\d+\.\d+\.\d+\.\d+$", host) or ":" in host
        in_cluster = (len(labels) == 2 and labels[1] not in self.OUTSIDE) or (len(labels) == 3 and labels[2] == "svc") \
            or (len(labels) == 5 and labels[2:] == ["svc", "cluster", "local"])
        if authentik_auth and not in_cluster:
            for stub in self.auth_stubs:
                if stub.kind == "authentik":
                    return stub
        if host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost"):
            # The Caddy host itself: the output names a Service it does not write.
            key = (namespace, self.label(f"localhost-{port}"), port)
        elif is_ip:
            key = (namespace, self.label("ip-" + host), port)
        elif len(labels) == 1:
            key = (namespace, host, port)
        elif in_cluster:
            key = (labels[1], labels[0], port)
        else:
            key = (namespace, self.label(host, "host"), port)
        stub = self.stubs.get(key)
        if stub is None and authentik_auth is False:
            # An auth server outside the cluster that Traefik calls directly.
            stub = self.stubs.get((host, host, port))
        if stub is None and dial in getattr(self, "authentik_dials", ()):
            # The source proxies Authentik's own paths to its server; the output sends
            # them to the outpost.
            stub = next((s for s in self.auth_stubs if s.kind == "authentik"), None)
        if stub is None and getattr(self, "dead_upstreams_allowed", False):
            # No route of the output reaches it; a stub of its own makes any request
            # real Caddy sends there show up as a different backend.
            stub = backend_stub(f"{key[0]}/{key[1]}:{key[2]}")
            self.stubs[key] = stub
            self.note(f"Caddy upstream {dial} -> stub {key[0]}/{key[1]}:{key[2]} (no route of the output uses it)")
            return stub
        if stub is None:
            self.fail(f"Caddy upstream {dial} maps to Service {key[0]}/{key[1]}:{key[2]}, which no route of the output uses")
        return stub

    def caddy_config(self, port):
        adapted = subprocess.run([self.caddy, "adapt", "--config", os.path.join(self.sample_dir, "Caddyfile"), "--adapter", "caddyfile"],
                                 capture_output=True, text=True, timeout=60)
        if adapted.returncode != 0:
            self.fail(f"caddy adapt failed: {adapted.stderr.strip()}")
            return None
        config = json.loads(adapted.stdout)
        servers = config.get("apps", {}).get("http", {}).get("servers", {})
        ordered = sorted(servers.values(), key=lambda server: 0 if ":443" in server.get("listen", []) else 1)
        routes = [route for server in ordered for route in server.get("routes", [])]

        def walk(handlers):
            for handler in handlers:
                if handler.get("handler") == "subroute":
                    for route in handler.get("routes", []):
                        walk(route.get("handle", []))
                if handler.get("handler") == "reverse_proxy":
                    uri = handler.get("rewrite", {}).get("uri", "")
                    is_auth = "handle_response" in handler
                    for upstream in handler.get("upstreams", []):
                        stub = self.stub_for_dial(upstream["dial"], is_auth and uri.startswith("/outpost.goauthentik.io/"))
                        if stub is None:
                            continue
                        if is_auth and hasattr(stub, "endpoints"):
                            stub.endpoints.add(uri.split("?")[0])
                        self.note(f"Caddy upstream {upstream['dial']} -> stub {stub.name} 127.0.0.1:{stub.port}")
                        upstream["dial"] = f"127.0.0.1:{stub.port}"
                    transport = handler.get("transport", {})
                    transport.pop("tls", None)

        def authentik_dials(handlers):
            found = set()
            for handler in handlers:
                for route in handler.get("routes", []):
                    found |= authentik_dials(route.get("handle", []))
                if handler.get("handler") == "reverse_proxy" and "handle_response" in handler \
                        and handler.get("rewrite", {}).get("uri", "").startswith("/outpost.goauthentik.io/"):
                    found |= {u["dial"] for u in handler.get("upstreams", [])}
            return found

        self.authentik_dials = set()
        for route in routes:
            self.authentik_dials |= authentik_dials(route.get("handle", []))
        for route in routes:
            walk(route.get("handle", []))
        config["apps"]["http"]["servers"] = {"srv0": {"listen": [f"127.0.0.1:{port}"], "routes": routes,
                                                      "automatic_https": {"disable": True},
                                                      "listener_wrappers": [{"wrapper": "proxy_protocol", "allow": ["127.0.0.1/32"]}]}}
        config["apps"].pop("tls", None)
        config["admin"] = {"disabled": True}
        return config

    def observe(self, port, host, path, session, check=None, tls=False):
        counts = [len(stub.auth_calls) for stub in self.auth_stubs]
        saved = self.listener_port
        self.listener_port = port
        self.use_tls = tls
        try:
            status, headers, body = self.request(host, path, session, check)
            status_class = f"{status // 100}xx" if status else "no answer"
        except (OSError, http.client.HTTPException):
            status, headers, body, status_class = 0, {}, {}, "no answer"
        finally:
            self.listener_port = saved
            self.use_tls = False
        auth_ran = any(len(stub.auth_calls) > count for stub, count in zip(self.auth_stubs, counts))
        # The path the auth server was asked about (an Authelia policy may depend on it).
        calls = [call for stub, count in zip(self.auth_stubs, counts) for call in stub.auth_calls[count:]]
        auth_saw = next((v for k, v in calls[0][1].items() if k.lower() == "x-forwarded-uri"), None) if calls else None
        wanted = {h.lower() for stub in self.auth_stubs for h in stub.response_headers}
        received = sorted(h for h in (k.lower() for k in body.get("headers", {})) if h in wanted)
        location = headers.get("Location") if 300 <= status < 400 else None
        if tls and location and location.startswith(f"https://{host}/"):
            # The same request over TLS: the auth server sends the browser back to https.
            location = "http://" + location[len("https://"):]
        return {"backend": body.get("backend"), "auth ran": auth_ran, "auth saw": auth_saw, "status": status_class, "auth headers": received,
                "path": body.get("path") if body.get("backend") else None,
                "location": location}

    @staticmethod
    def announced(theirs, ours, host, warnings):
        """Why a difference is expected, when authgate itself says so, or nil."""
        if theirs["backend"] is None and ours["backend"] is None and theirs.get("location") is None and ours.get("location") is None:
            return "neither reaches a backend; only the error answer differs"
        added_auth = ours.get("auth ran") and not theirs.get("auth ran")
        same_or_stopped = ours["backend"] in (theirs["backend"], None)
        if added_auth and same_or_stopped and f"auth added on {host}" in warnings:
            return f"authgate warned: auth added on {host} (Caddy matched the path case-insensitively)"
        differing = {key for key in theirs if theirs[key] != ours.get(key)}
        if differing == {"path"} and f"different upstream path on {host}" in warnings:
            return f"authgate warned: different upstream path on {host}"
        return None

    def differential(self, folder):
        port = free_port()
        config = self.caddy_config(port)
        if config is None:
            return
        path = os.path.join(folder, "caddy.json")
        with open(path, "w") as handle:
            json.dump(config, handle)
        environment = {"HOME": folder, "XDG_DATA_HOME": folder, "XDG_CONFIG_HOME": folder, "PATH": os.environ.get("PATH", "")}
        log = open(os.path.join(folder, "caddy.log"), "w")
        process = subprocess.Popen([self.caddy, "run", "--config", path], env=environment, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    self.fail(f"Caddy exited with status {process.returncode}")
                    return
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                self.fail("Caddy did not listen within 20 s")
                return
            # The checked requests, the same paths in upper case (Caddy matches paths
            # case-insensitively), and a path nobody wrote, on every checked host.
            requests = [dict(check) for check in self.expectations["checks"] if "listener" not in check]
            for check in self.expectations["checks"]:
                if check["path"].upper() != check["path"] and "caddyDiffers" not in check \
                        and not check["path"].lower().startswith("/outpost.goauthentik.io"):
                    requests.append({**{k: check[k] for k in ("method", "headers", "clientIP") if k in check},
                                     "host": check["host"], "path": check["path"].upper()})
            with open(os.path.join(self.sample_dir, "expected-stderr.txt")) as handle:
                warnings = handle.read()
            for host in dict.fromkeys(check["host"] for check in self.expectations["checks"]):
                requests.append({"host": host, "path": "/authgate-probe/x"})
            for check in requests:
                for session in (False, True):
                    theirs = self.observe(port, check["host"], check["path"], session, check)
                    ours = self.observe(self.listener_port, check["host"], check["path"], session, check)
                    self.compare(theirs, ours, check, session, ("Caddy", "Traefik"), "real Caddy",
                                 lambda: check.get("caddyDiffers") or self.announced(theirs, ours, check["host"], warnings))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traefik", required=True)
    parser.add_argument("--caddy")
    parser.add_argument("--allow-dead-upstreams", action="store_true",
                        help="an upstream the source never reaches (shadowed by an earlier handler) gets a stub of its own instead of failing the run")
    parser.add_argument("sample")
    arguments = parser.parse_args()
    harness = Harness(arguments.sample, arguments.traefik, arguments.caddy)
    harness.dead_upstreams_allowed = arguments.allow_dead_upstreams
    started = time.monotonic()
    ok = harness.run()
    for line in harness.mapping_notes:
        print(f"map: {line}")
    for line in harness.differences:
        print(f"differs from the source, as declared: {line}")
    checks = len(harness.expectations["checks"])
    if ok:
        against = " and match real Caddy" if arguments.caddy and os.path.exists(os.path.join(arguments.sample, "Caddyfile")) else ""
        if os.path.exists(os.path.join(arguments.sample, "manifests.yaml")):
            against = " and match real Traefik serving the source"
        print(f"{harness.sample}: {checks} checks passed in real Traefik{against} ({time.monotonic() - started:.1f} s)")
        return 0
    print(f"{harness.sample}: FAILED")
    for failure in harness.failures:
        print(f"  {failure}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
