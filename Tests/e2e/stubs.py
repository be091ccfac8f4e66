"""Loopback stand-ins for what authgate's output points at.

- A backend stub per Service: answers every request with JSON saying which Service it
  stands for and echoing the path and headers it got.
- An auth stub per auth server, acting like its provider:
  - Authentik's outpost: `/outpost.goauthentik.io/auth/traefik` answers 200 with the
    `X-authentik-*` headers for a request carrying the session cookie, else 302 to
    `/outpost.goauthentik.io/start`; any other `/outpost.goauthentik.io/…` path (routed
    to the outpost directly) answers as the outpost.
  - any other forward-auth server: 200 with the response headers for a session, else 401.
  Every auth call's path is recorded, so the harness can check the endpoint.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SESSION_COOKIE = "authgate_session=valid"


class QuietServer(ThreadingHTTPServer):
    """Proxies drop idle keep-alive connections; that is not worth a traceback."""

    def handle_error(self, request, client_address):
        pass


class Stub:
    def __init__(self, name, handler_class):
        self.name = name
        self.calls = []
        self.lock = threading.Lock()
        handler = type("BoundStubHandler", (handler_class,), {"stub": self})
        self.server = QuietServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, path, headers):
        with self.lock:
            self.calls.append((path, headers))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class BackendHandler(BaseHandler):
    def do_GET(self):
        headers = {k: v for k, v in self.headers.items()}
        self.stub.record(self.path, headers)
        self.reply(200, {"backend": self.stub.name, "path": self.path, "headers": headers})

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_PROPFIND = do_GET


class AuthHandler(BaseHandler):
    """Configured through the stub: kind, endpoint path, response headers."""

    def do_GET(self):
        stub = self.stub
        headers = {k: v for k, v in self.headers.items()}
        path = self.path.split("?", 1)[0]
        if path not in stub.endpoints and path.startswith("/outpost.goauthentik.io/"):
            # Routed to the outpost itself (start, callback, sign_out…).
            stub.record(self.path, headers)
            return self.reply(200, {"backend": stub.name, "path": self.path, "headers": headers})
        if path not in stub.endpoints and stub.kind != "authentik":
            # The auth server's own site (an Authelia portal…).
            stub.record(self.path, headers)
            return self.reply(200, {"backend": stub.name, "path": self.path, "headers": headers})
        stub.auth_calls.append((self.path, headers))
        session = SESSION_COOKIE in headers.get("Cookie", "")
        if stub.kind == "authentik" and headers.get("X-Forwarded-Uri", "").startswith("/outpost.goauthentik.io"):
            # Authentik lets requests for its own paths through without a session
            # (proxyv2 forwardHandleCaddy / forwardHandleTraefik).
            return self.reply(200, {"auth": "outpost path"})
        if session:
            return self.reply(200, {"auth": "ok"}, [(name, f"{name.lower()}-value") for name in stub.response_headers])
        if stub.kind == "authentik":
            # Authentik redirects to an absolute URL on the application's own host.
            origin = f"{headers.get('X-Forwarded-Proto', 'http')}://{headers.get('X-Forwarded-Host', '')}"
            return self.reply(302, {"auth": "login"}, [("Location", origin + "/outpost.goauthentik.io/start?rd=" + headers.get("X-Forwarded-Uri", "/"))])
        return self.reply(401, {"auth": "denied"})

    do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_PROPFIND = do_GET


def backend_stub(name):
    return Stub(name, BackendHandler)


def auth_stub(name, kind, endpoint, response_headers):
    stub = Stub(name, AuthHandler)
    stub.kind = kind
    stub.endpoint = endpoint
    # The endpoint paths it answers as an auth server (Traefik's, and the source
    # proxy's when the differential run adds it).
    stub.endpoints = {endpoint}
    stub.response_headers = list(response_headers)
    stub.auth_calls = []
    return stub
