"""The source side of an Ingress sample: real Traefik serving the sample's own objects.

authgate's promise for manifests is that the HTTPRoutes it writes end every request the
way the controller that ran the Ingresses ended it. Comparing with authgate's own model
of that controller proves nothing when the model is wrong, so this module starts a
second real Traefik 3.7 that serves the *source* objects — Ingresses through the
`kubernetesIngress` provider (their Middlewares through `kubernetesCRD`), nginx-class
Ingresses through `kubernetesIngressNGINX` (Traefik's implementation of ingress-nginx's
annotations) — and the harness sends the same requests to both.

What the source objects point at is mapped to the stubs the output side already uses,
visibly and by rules written here (not authgate's):
- each Ingress backend (Service, port by number or by name through the Service) gets an
  EndpointSlice to the stub of that Service and port, so both sides name one backend;
- forwardAuth addresses and `auth-url` annotations point at the auth stub of the same
  Service (`name.namespace.svc…`); Authentik's outpost, which authgate replaces with an
  outpost of its own, at the output's Authentik stub; `https://$host/path` at the stub
  of the Service that the same host routes that path to;
- Middlewares of the removed `traefik.containo.us` group are served as `traefik.io`
  (Traefik 3 reads only that; authgate converts them as Traefik 2 ran them);
- an IngressClass the input does not hold is added for each class its Ingresses name,
  with the controller the name says (authgate's fallback, and the common case).

Differences between Traefik's ingress-nginx provider and ingress-nginx itself (which is
what authgate models, since that is what ran) are declared per check in the sample's
expectations with `sourceDiffers: why`, and printed, not failed.
"""
import copy
import http.client
import json
import os
import re
import signal
import subprocess
import time
from urllib.parse import urlparse

import yaml

from fake_kube import FakeKube
from stubs import auth_stub, backend_stub

NGINX = "nginx.ingress.kubernetes.io/"
SERVED_KINDS = {"Ingress", "IngressClass", "Middleware", "Service", "Secret", "ConfigMap", "EndpointSlice", "Namespace"}
SERVER_SET = ("status", "managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")


def load_source(path):
    """The sample's objects, `kind: List` items unpacked, server-set fields dropped."""
    with open(path) as handle:
        documents = [d for d in yaml.safe_load_all(handle) if d]
    objects = []
    for document in documents:
        items = document.get("items", []) if document.get("kind") == "List" else [document]
        for obj in items:
            if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
                continue  # not a Kubernetes object (authgate warns about it)
            obj = copy.deepcopy(obj)
            obj.pop("status", None)
            meta = obj.setdefault("metadata", {})
            for key in SERVER_SET:
                meta.pop(key, None)
            (meta.get("annotations") or {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
            objects.append(obj)
    return objects


class SourceSide:
    def __init__(self, harness, manifests):
        self.harness = harness
        self.objects = load_source(manifests)
        self.notes = []
        self.skipped = []
        self.extra = []

    def note(self, text):
        self.notes.append(text)

    # -- what the source points at ------------------------------------------------------

    def services(self):
        return {(o["metadata"].get("namespace", "default"), o["metadata"]["name"]): o
                for o in self.objects if o["kind"] == "Service"}

    def ingresses(self):
        return [o for o in self.objects if o["kind"] == "Ingress"]

    @staticmethod
    def backends_of(ingress):
        spec = (ingress.get("spec") or {})
        found = []
        default = spec.get("defaultBackend") or spec.get("backend")
        if default:
            found.append(default)
        for rule in spec.get("rules", []) or []:
            for path in (rule.get("http") or {}).get("paths", []) or []:
                found.append(path.get("backend", {}))
        return found

    @staticmethod
    def service_and_port(backend):
        if "service" in backend:
            port = backend["service"].get("port", {})
            return backend["service"]["name"], port.get("number", port.get("name"))
        return backend.get("serviceName"), backend.get("servicePort")

    def port_number(self, namespace, name, port):
        if isinstance(port, int):
            return port
        service = self.services().get((namespace, name))
        for entry in (service or {}).get("spec", {}).get("ports", []):
            if entry.get("name") == port:
                return entry["port"]
        if isinstance(port, str) and port.isdigit():
            return int(port)
        return None

    def stub_for(self, namespace, name, port):
        key = (namespace, name, port)
        stub = self.harness.stubs.get(key)
        if stub is None:
            stub = backend_stub(f"{namespace}/{name}:{port}")
            self.harness.stubs[key] = stub
            self.note(f"Service {namespace}/{name}:{port} has no stub on the output side; it gets one of its own")
        return stub

    def map_backends(self):
        """An EndpointSlice to the stub for every Service port an Ingress uses."""
        used = {}
        for ingress in self.ingresses():
            namespace = ingress["metadata"].get("namespace", "default")
            for backend in self.backends_of(ingress):
                name, port = self.service_and_port(backend)
                number = self.port_number(namespace, name, port) if name else None
                if number is None:
                    continue
                used.setdefault((namespace, name), set()).add(number)
        services = self.services()
        for (namespace, name), numbers in sorted(used.items()):
            service = services.get((namespace, name))
            if service is None:
                service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
                           "spec": {"type": "ClusterIP", "ports": [{"name": f"http-{n}", "port": n, "protocol": "TCP", "targetPort": n} for n in sorted(numbers)]}}
                self.extra.append(service)
                self.note(f"Service {namespace}/{name} (assumed to exist) is written for the source side")
            if service["spec"].get("type") == "ExternalName" and not self.nginx_only(namespace, name):
                self.note(f"Service {namespace}/{name} is ExternalName: Traefik's Ingress provider refuses it (allowExternalNameServices is off by default), as it did in the cluster")
                continue
            if service["spec"].get("type") == "ExternalName":
                # Served by ingress-nginx: the stub stands for the outside host.
                service["spec"] = {"type": "ClusterIP", "ports": service["spec"].get("ports", [])}
            service["spec"].pop("selector", None)
            ports = []
            for entry in service["spec"].get("ports", []):
                stub = self.stub_for(namespace, name, entry["port"])
                ports.append({"name": entry.get("name", ""), "port": stub.port, "protocol": "TCP"})
                self.note(f"source Service {namespace}/{name}:{entry['port']} -> stub {stub.name} 127.0.0.1:{stub.port}")
            self.objects = [o for o in self.objects if not (o["kind"] == "EndpointSlice" and o["metadata"].get("namespace", "default") == namespace
                                                           and o["metadata"].get("labels", {}).get("kubernetes.io/service-name") == name)]
            self.extra.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                               "metadata": {"name": f"{name}-source", "namespace": namespace, "labels": {"kubernetes.io/service-name": name}},
                               "addressType": "IPv4",
                               "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True, "serving": True}}],
                               "ports": ports})

    def nginx_only(self, namespace, name):
        """Whether only nginx-class Ingresses use the Service (ingress-nginx serves an
        ExternalName backend; Traefik's Ingress provider refuses it by default)."""
        users = [i for i in self.ingresses() if i["metadata"].get("namespace", "default") == namespace
                 and any(self.service_and_port(b)[0] == name for b in self.backends_of(i))]
        return bool(users) and all("nginx" in ((i.get("spec") or {}).get("ingressClassName") or (i["metadata"].get("annotations") or {}).get("kubernetes.io/ingress.class") or "") for i in users)

    def auth_stub_for(self, url):
        """The stub an auth address reaches (see the module's rules)."""
        parsed = urlparse(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        host = (parsed.hostname or "").lower()
        labels = host.split(".")
        key = None
        if len(labels) >= 2 and (len(labels) == 2 or labels[2] == "svc"):
            key = (labels[1], labels[0], port)
        elif len(labels) == 1:
            key = None
        stub = self.harness.stubs.get(key) if key else None
        if stub is None and parsed.path.startswith("/outpost.goauthentik.io/"):
            stub = next((s for s in self.harness.auth_stubs if s.kind == "authentik"), None)
        if stub is None:
            stub = next((s for s in self.harness.auth_stubs if s.name == f"{host}:{port}"), None)
        if stub is None:
            kind = "authentik" if parsed.path.startswith("/outpost.goauthentik.io/") else "generic"
            stub = auth_stub(f"{host}:{port}", kind, parsed.path, [])
            stub.copied_by_all = set()
            self.harness.stubs[(host, host, port)] = stub
            self.harness.auth_stubs.append(stub)
            self.note(f"auth server {host}:{port} has no stub on the output side; it gets one of its own")
        if hasattr(stub, "endpoints"):
            stub.endpoints.add(parsed.path)
        return stub, parsed

    def host_route(self, host, path):
        """The Service (namespace, name, port) an Ingress on `host` sends `path` to:
        the longest matching path, as both controllers take it here."""
        best = None
        for ingress in self.ingresses():
            namespace = ingress["metadata"].get("namespace", "default")
            for rule in (ingress.get("spec") or {}).get("rules", []) or []:
                if (rule.get("host") or "").lower() != host:
                    continue
                for entry in (rule.get("http") or {}).get("paths", []) or []:
                    prefix = entry.get("path", "/") or "/"
                    if path.startswith(prefix.rstrip("/") or "/") and (best is None or len(prefix) > best[0]):
                        name, port = self.service_and_port(entry.get("backend", {}))
                        best = (len(prefix), (namespace, name, self.port_number(namespace, name, port)))
        return best[1] if best else None

    def map_auth(self):
        for obj in self.objects:
            if obj["kind"] == "Middleware":
                forward = (obj.get("spec") or {}).get("forwardAuth")
                if forward and "address" in forward:
                    stub, parsed = self.auth_stub_for(forward["address"])
                    query = f"?{parsed.query}" if parsed.query else ""
                    self.note(f"source forwardAuth {obj['metadata'].get('namespace', 'default')}/{obj['metadata']['name']}: {forward['address']} -> stub {stub.name} 127.0.0.1:{stub.port}")
                    forward["address"] = f"http://127.0.0.1:{stub.port}{parsed.path}{query}"
            if obj["kind"] == "Ingress":
                annotations = obj["metadata"].get("annotations") or {}
                url = annotations.get(NGINX + "auth-url")
                if not url:
                    continue
                match = re.match(r"^(https?)://\$(host|http_host|best_http_host)(/[^?]*)?(\?.*)?$", url.strip())
                if match:
                    for rule in (obj.get("spec") or {}).get("rules", []) or []:
                        target = self.host_route((rule.get("host") or "").lower(), match.group(3) or "/")
                        if target and target[2]:
                            stub = self.stub_for(*target)
                            if hasattr(stub, "endpoints"):
                                stub.endpoints.add(match.group(3) or "/")
                            annotations[NGINX + "auth-url"] = f"http://127.0.0.1:{stub.port}{match.group(3) or '/'}{match.group(4) or ''}"
                            self.note(f"source auth-url {url} on {rule.get('host')} -> {target[0]}/{target[1]}:{target[2]} -> stub {stub.name}")
                            break
                    continue
                stub, parsed = self.auth_stub_for(url.strip())
                query = f"?{parsed.query}" if parsed.query else ""
                annotations[NGINX + "auth-url"] = f"http://127.0.0.1:{stub.port}{parsed.path}{query}"
                self.note(f"source auth-url {url} -> stub {stub.name} 127.0.0.1:{stub.port}")

    def classes(self):
        """IngressClasses for the class names the Ingresses use that the input lacks."""
        have = {o["metadata"]["name"] for o in self.objects if o["kind"] == "IngressClass"}
        for ingress in self.ingresses():
            name = (ingress.get("spec") or {}).get("ingressClassName") or (ingress["metadata"].get("annotations") or {}).get("kubernetes.io/ingress.class")
            if name and name not in have:
                controller = "k8s.io/ingress-nginx" if "nginx" in name.lower() else "traefik.io/ingress-controller"
                self.extra.append({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": name}, "spec": {"controller": controller}})
                have.add(name)
                self.note(f"IngressClass {name} (not in the input) -> controller {controller}")

    def served(self):
        objects = []
        for obj in self.objects + self.extra:
            if obj["kind"] not in SERVED_KINDS:
                self.skipped.append(f"{obj['kind']} {obj['metadata'].get('name')}")
                continue
            if obj["apiVersion"] == "traefik.containo.us/v1alpha1":
                obj["apiVersion"] = "traefik.io/v1alpha1"
            if obj["apiVersion"] in ("networking.k8s.io/v1beta1", "extensions/v1beta1") and obj["kind"] == "Ingress":
                obj = upgrade_legacy(obj)
            if obj["kind"] != "Namespace" and obj["kind"] != "IngressClass":
                obj["metadata"].setdefault("namespace", "default")
            objects.append(obj)
        namespaces = {o["metadata"].get("namespace") for o in objects} - {None}
        namespaces -= {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
        return objects + [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in sorted(namespaces)]

    # -- where Traefik's ingress-nginx provider is not ingress-nginx ----------------------

    def regex_host(self, host):
        """ingress-nginx (and Traefik's provider) make every path of a host regex when
        any of its Ingresses sets use-regex or rewrite-target."""
        for ingress in self.ingresses():
            annotations = ingress["metadata"].get("annotations") or {}
            if str(annotations.get(NGINX + "use-regex", "")).lower() == "true" or annotations.get(NGINX + "rewrite-target"):
                if any((rule.get("host") or "").lower() == host for rule in (ingress.get("spec") or {}).get("rules", []) or []):
                    return True
        return False

    def known_difference(self, host, path):
        """A documented difference between Traefik's ingress-nginx provider and
        ingress-nginx that decides this request, or None."""
        paths = [entry for ingress in self.ingresses() if "nginx" in ((ingress.get("spec") or {}).get("ingressClassName") or (ingress["metadata"].get("annotations") or {}).get("kubernetes.io/ingress.class") or "")
                 for rule in (ingress.get("spec") or {}).get("rules", []) or [] if (rule.get("host") or "").lower() == host
                 for entry in (rule.get("http") or {}).get("paths", []) or []]
        if self.regex_host(host):
            for entry in paths:
                written = entry.get("path") or "/"
                try:
                    taken = re.match("(?i)^" + written, path) is not None
                except re.error:
                    taken = False
                if entry.get("pathType") == "Exact" and taken:
                    return (f"on a host with use-regex, ingress-nginx makes Exact {written} the expression ^{written} too, tried by length "
                            f"with the others (it may take {path}); Traefik's ingress-nginx provider keeps it exact and ranks it by rule length")
            return None
        if any(e.get("pathType") == "Exact" and e.get("path") == path for e in paths) and any(e.get("pathType") != "Exact" and path.startswith((e.get("path") or "/").rstrip("/")) for e in paths):
            return (f"ingress-nginx's exact location for {path} wins over every prefix; Traefik's ingress-nginx provider ranks by rule length, "
                    "and its prefix rule (Path || PathPrefix) is the longer")
        for entry in paths:
            written = entry.get("path") or "/"
            if entry.get("pathType") != "Exact" and len(written) > 1 and written.endswith("/") and path == written.rstrip("/"):
                return (f"ingress-nginx's location {written} does not take {path}; Traefik's ingress-nginx provider trims the trailing slash "
                        "and matches segment-wise")
        for ingress in self.ingresses():
            name = (ingress.get("spec") or {}).get("ingressClassName") or (ingress["metadata"].get("annotations") or {}).get("kubernetes.io/ingress.class") or ""
            if "nginx" not in name:
                continue
            for rule in (ingress.get("spec") or {}).get("rules", []) or []:
                if (rule.get("host") or "").lower() != host:
                    continue
                for entry in (rule.get("http") or {}).get("paths", []) or []:
                    written = entry.get("path", "/") or "/"
                    stem = written.rstrip("/")
                    if entry.get("pathType", "ImplementationSpecific") == "ImplementationSpecific" and path.startswith(written) \
                            and not (path == stem or path.startswith(stem + "/")):
                        return ("ingress-nginx matches an ImplementationSpecific path as nginx's prefix location, character by character "
                                f"({written} takes {path}); Traefik's ingress-nginx provider matches it segment-wise")
        return None

    # -- running ------------------------------------------------------------------------

    def default_controller(self, arguments):
        """Which controller took Ingresses without a class in the cluster: the input's
        IngressClass marked is-default-class, else the sample's --default-ingress-class."""
        for obj in self.objects:
            annotations = obj["metadata"].get("annotations") or {}
            if obj["kind"] == "IngressClass" and str(annotations.get("ingressclass.kubernetes.io/is-default-class", "")).lower() == "true":
                return "nginx" if (obj.get("spec") or {}).get("controller") == "k8s.io/ingress-nginx" else "traefik"
        for flag, value in zip(arguments, arguments[1:]):
            if flag == "--default-ingress-class":
                return "nginx" if "nginx" in value else "traefik"
        return "traefik"

    def start(self, folder, arguments, free_port, sample_words=()):
        self.map_backends()
        self.map_auth()
        self.classes()
        if self.default_controller(list(sample_words)) == "nginx":
            # Traefik's ingress-nginx provider reads no default class: it takes the
            # class-less Ingresses only when told to, and its Ingress provider must
            # then leave them alone.
            arguments = arguments + ["--providers.kubernetesIngressNGINX.watchIngressWithoutClass=true",
                                     "--providers.kubernetesIngress.ingressClass=traefik"]
            self.note("class-less Ingresses go to the ingress-nginx provider (the default class is ingress-nginx's)")
        self.kube = FakeKube(self.served())
        self.kube.__enter__()
        kubeconfig = os.path.join(folder, "source-kubeconfig")
        self.kube.kubeconfig(kubeconfig)
        self.ports = {"web": free_port(), "websecure": free_port()}
        self.api_port = free_port()
        self.log_path = os.path.join(folder, "source-traefik.log")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        environment["KUBECONFIG"] = kubeconfig
        command = [self.harness.traefik,
                   f"--entryPoints.web.address=127.0.0.1:{self.ports['web']}",
                   f"--entryPoints.websecure.address=127.0.0.1:{self.ports['websecure']}",
                   # websecure terminates TLS, as in Traefik's Helm chart: the routers
                   # the Ingresses make TLS (router.tls, ingress-nginx's -tls routers)
                   # answer there, with Traefik's default certificate.
                   "--entryPoints.websecure.http.tls=true",
                   "--entryPoints.web.proxyProtocol.trustedIPs=127.0.0.1/32",
                   "--entryPoints.websecure.proxyProtocol.trustedIPs=127.0.0.1/32",
                   f"--entryPoints.traefik.address=127.0.0.1:{self.api_port}", "--api.insecure=true",
                   "--providers.kubernetesIngress=true", "--providers.kubernetesCRD=true",
                   "--providers.kubernetesCRD.allowCrossNamespace=true",
                   "--experimental.kubernetesIngressNGINX=true", "--providers.kubernetesIngressNGINX=true",
                   "--providers.kubernetesIngressNGINX.httpEntryPoint=web",
                   "--providers.kubernetesIngressNGINX.httpsEntryPoint=websecure",
                   # A cluster whose Ingresses carry snippets allowed them (ingress-nginx
                   # refuses them otherwise); Traefik skips the whole Ingress without this.
                   "--providers.kubernetesIngressNGINX.allowSnippetAnnotations=true",
                   # Regex characters in a Prefix path: older ingress-nginx served them,
                   # and an input that has them ran on one.
                   "--providers.kubernetesIngressNGINX.strictValidatePathType=false",
                   "--log.level=DEBUG", f"--log.filePath={self.log_path}"] + arguments
        self.process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def routers(self):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=2)
            connection.request("GET", "/api/http/routers?per_page=1000")
            routers = json.loads(connection.getresponse().read() or b"[]")
            connection.close()
            return routers
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def wait_until_live(self, timeout=30):
        """Live once Traefik's API lists the Ingress routers and the list has not
        changed for a second (the CRD and Ingress providers load apart)."""
        deadline = time.monotonic() + timeout
        last, since = None, None
        wanted = bool(self.ingresses())
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"the source-side Traefik exited with status {self.process.returncode}"
            routers = self.routers()
            names = sorted((r.get("name"), r.get("status")) for r in routers or [] if not r.get("name", "").endswith("@internal"))
            if routers is not None and (names or not wanted):
                if names != last:
                    last, since = names, time.monotonic()
                elif time.monotonic() - since > 1.5:
                    return None
            time.sleep(0.2)
        return f"the source-side Traefik listed no stable routers within {timeout} s"

    def disabled(self):
        return [f"{r['name']}: {'; '.join(r.get('error', []))}" for r in self.routers() or [] if r.get("status") != "enabled"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.kube.__exit__(None, None, None)

    def errors(self):
        with open(self.log_path) as handle:
            return [line for line in handle.read().splitlines() if "error" in line.lower() or "ERR" in line][-15:]


def upgrade_legacy(ingress):
    """A `networking.k8s.io/v1beta1` or `extensions/v1beta1` Ingress written as v1
    (Traefik 3 reads only v1; the API server served the old versions as v1 too)."""
    upgraded = copy.deepcopy(ingress)
    upgraded["apiVersion"] = "networking.k8s.io/v1"
    spec = upgraded.get("spec", {})

    def backend(old):
        port = old.get("servicePort")
        return {"service": {"name": old.get("serviceName"), "port": {"number": port} if isinstance(port, int) else {"name": port}}}

    if "backend" in spec:
        spec["defaultBackend"] = backend(spec.pop("backend"))
    for rule in spec.get("rules", []) or []:
        for path in (rule.get("http") or {}).get("paths", []) or []:
            if "serviceName" in path.get("backend", {}):
                path["backend"] = backend(path["backend"])
            path.setdefault("pathType", "ImplementationSpecific")
    return upgraded
