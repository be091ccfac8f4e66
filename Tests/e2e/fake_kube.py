"""A small fake Kubernetes API server on loopback, enough for Traefik's Kubernetes
providers (client-go informers): lists, watches, discovery, and status updates.

What Traefik 3.7 (client-go 0.35) needs, learned the hard way:
- Informers start as streaming watches (watch=true&sendInitialEvents=true). We answer
  those with a 400 Status, so client-go falls back to list + watch.
- Lists and the objects in them carry kind and apiVersion; there is no server-side
  defaulting, so objects must be written out complete.
- Traefik PUTs .../status of GatewayClass, Gateway and HTTPRoute: we store it and
  answer with the object.
- Traefik opens ~27 watches at once: the listen backlog is raised to 128.
- Like the real API server, a Secret's stringData is merged into data on write
  (Traefik reads only data).
"""
import base64
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# resource (plural) -> (group, version, kind, namespaced)
RESOURCES = {
    ("", "v1", "namespaces"): ("Namespace", False),
    ("", "v1", "services"): ("Service", True),
    ("", "v1", "endpoints"): ("Endpoints", True),
    ("", "v1", "secrets"): ("Secret", True),
    ("", "v1", "configmaps"): ("ConfigMap", True),
    ("", "v1", "nodes"): ("Node", False),
    ("", "v1", "pods"): ("Pod", True),
    ("discovery.k8s.io", "v1", "endpointslices"): ("EndpointSlice", True),
    ("apps", "v1", "deployments"): ("Deployment", True),
    ("networking.k8s.io", "v1", "ingresses"): ("Ingress", True),
    ("networking.k8s.io", "v1", "ingressclasses"): ("IngressClass", False),
    ("gateway.networking.k8s.io", "v1", "gatewayclasses"): ("GatewayClass", False),
    ("gateway.networking.k8s.io", "v1", "gateways"): ("Gateway", True),
    ("gateway.networking.k8s.io", "v1", "httproutes"): ("HTTPRoute", True),
    ("gateway.networking.k8s.io", "v1", "grpcroutes"): ("GRPCRoute", True),
    ("gateway.networking.k8s.io", "v1", "backendtlspolicies"): ("BackendTLSPolicy", True),
    ("gateway.networking.k8s.io", "v1", "tlsroutes"): ("TLSRoute", True),
    ("gateway.networking.k8s.io", "v1", "listenersets"): ("ListenerSet", True),
    ("gateway.networking.k8s.io", "v1beta1", "referencegrants"): ("ReferenceGrant", True),
    ("gateway.networking.k8s.io", "v1alpha2", "tcproutes"): ("TCPRoute", True),
    ("gateway.networking.k8s.io", "v1alpha2", "tlsroutes"): ("TLSRoute", True),
    ("gateway.networking.k8s.io", "v1alpha3", "backendtlspolicies"): ("BackendTLSPolicy", True),
}
TRAEFIK_KINDS = {
    "ingressroutes": "IngressRoute", "ingressroutetcps": "IngressRouteTCP", "ingressrouteudps": "IngressRouteUDP",
    "middlewares": "Middleware", "middlewaretcps": "MiddlewareTCP", "serverstransports": "ServersTransport",
    "serverstransporttcps": "ServersTransportTCP", "tlsoptions": "TLSOption", "tlsstores": "TLSStore",
    "traefikservices": "TraefikService",
}
for plural, kind in TRAEFIK_KINDS.items():
    RESOURCES[("traefik.io", "v1alpha1", plural)] = (kind, True)

PATH = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                  r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>status))?$")


class Store:
    """Objects by (group, version, resource), with recorded status updates."""

    def __init__(self, objects):
        self.lock = threading.Lock()
        self.objects = {}
        self.status_updates = []
        # Paths asked for that the fake does not serve (to tell what a new Traefik wants).
        self.unknown = []
        for index, obj in enumerate(objects):
            if obj["kind"] == "Secret" and "stringData" in obj:
                # What the API server does on write: stringData is merged into data.
                data = obj.setdefault("data", {})
                for key, value in obj.pop("stringData").items():
                    data[key] = base64.b64encode(value.encode()).decode()
            group, _, version = obj["apiVersion"].rpartition("/")
            plural = self.plural(group, version, obj["kind"])
            meta = obj.setdefault("metadata", {})
            meta.setdefault("resourceVersion", "1")
            meta.setdefault("uid", f"00000000-0000-0000-0000-{index:012d}")
            meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
            meta.setdefault("generation", 1)
            self.objects.setdefault((group, version, plural), []).append(obj)

    @staticmethod
    def plural(group, version, kind):
        for (g, v, resource), (k, _) in RESOURCES.items():
            if g == group and v == version and k == kind:
                return resource
        raise ValueError(f"the fake API does not serve {group}/{version} {kind}")

    def list(self, key, namespace):
        with self.lock:
            items = self.objects.get(key, [])
            return [o for o in items if namespace is None or o["metadata"].get("namespace") == namespace]

    def find(self, key, namespace, name):
        for obj in self.list(key, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store = None

    def log_message(self, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, message):
        self.send_json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code})

    def discovery(self, path):
        if path == "/version":
            return {"major": "1", "minor": "34", "gitVersion": "v1.34.0", "platform": "linux/amd64"}
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        groups = {}
        for (group, version, _), _ in RESOURCES.items():
            if group:
                groups.setdefault(group, [])
                if version not in groups[group]:
                    groups[group].append(version)
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}} for g, vs in sorted(groups.items())]}
        match = re.match(r"^/(?:api/(v1)|apis/([^/]+)/([^/]+))$", path)
        if match:
            group = match.group(2) or ""
            version = match.group(1) or match.group(3)
            resources = [{"name": r, "singularName": "", "namespaced": ns, "kind": k,
                          "verbs": ["get", "list", "watch", "update"]}
                         for (g, v, r), (k, ns) in RESOURCES.items() if g == group and v == version]
            if not resources:
                return None
            return {"kind": "APIResourceList", "apiVersion": "v1",
                    "groupVersion": f"{group}/{version}" if group else version, "resources": resources}
        return None

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        found = self.discovery(url.path)
        if found is not None:
            return self.send_json(200, found)
        match = PATH.match(url.path)
        if not match:
            self.store.unknown.append(url.path)
            return self.status(404, "NotFound", f"no such path {url.path}")
        group = match.group("group") or ""
        version = match.group("core") or match.group("version")
        key = (group, version, match.group("resource"))
        if key not in RESOURCES:
            self.store.unknown.append(url.path)
            return self.status(404, "NotFound", f"the server could not find the requested resource {url.path}")
        kind, _ = RESOURCES[key]
        api_version = f"{group}/{version}" if group else version
        namespace = match.group("ns")
        if match.group("name"):
            obj = self.store.find(key, namespace, match.group("name"))
            return self.send_json(200, obj) if obj else self.status(404, "NotFound", "not found")
        if query.get("watch", ["false"])[0] in ("true", "1"):
            if query.get("sendInitialEvents", ["false"])[0] == "true":
                # Refuse the streaming list: client-go falls back to list + watch.
                return self.status(400, "BadRequest", "sendInitialEvents is not supported by this fake")
            return self.hold_watch(float(query.get("timeoutSeconds", ["300"])[0]))
        items = self.store.list(key, namespace)
        return self.send_json(200, {"kind": f"{kind}List", "apiVersion": api_version,
                                    "metadata": {"resourceVersion": "1"}, "items": items})

    def hold_watch(self, timeout):
        """An open watch that never sends an event (nothing changes)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + min(timeout, 300)
        try:
            while time.monotonic() < deadline and not self.server.stopping:
                time.sleep(0.2)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def do_PUT(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        match = PATH.match(url.path)
        if not match or not match.group("name"):
            return self.status(404, "NotFound", "not found")
        group = match.group("group") or ""
        version = match.group("core") or match.group("version")
        key = (group, version, match.group("resource"))
        obj = self.store.find(key, match.group("ns"), match.group("name"))
        if obj is None:
            return self.status(404, "NotFound", "not found")
        if match.group("sub") == "status":
            with self.store.lock:
                obj["status"] = body.get("status", {})
                self.store.status_updates.append((obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"], obj["status"]))
        return self.send_json(200, obj)

    do_PATCH = do_PUT


class QuietServer(ThreadingHTTPServer):
    """Clients drop watches when they stop; that is not worth a traceback."""

    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass


class FakeKube:
    def __init__(self, objects):
        self.store = Store(objects)
        handler = type("BoundHandler", (Handler,), {"store": self.store})
        self.server = QuietServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.stopping = False
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.stopping = True
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self, path):
        with open(path, "w") as handle:
            handle.write(f"""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: http://127.0.0.1:{self.port}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
current-context: fake
users:
- name: fake
  user:
    token: fake
""")
