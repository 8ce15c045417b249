"""Real HTTP(S) servers on 127.0.0.1 for network tests, with misbehaviour on demand.

A `TestServer` is a threaded `http.server` with a route table: `server.route(path, behaviour)`
returns the URL, and a behaviour is any callable taking the request handler. The factories
below build the usual ones: plain answers, redirects, sleeps, resets, 429 with Retry-After,
gzip (and gzip bombs), huge or endless bodies, answers that change from one call to the next.
The server counts hits per path, remembers request headers and records how many requests
were in flight at once (to check client-side concurrency limits from the server side).

    with TestServer() as server:
        url = server.route("/a", send(200, b"hello"))
"""

from __future__ import annotations

import gzip
import itertools
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Behaviour = Callable[["_Handler"], None]


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    at: float            # time.monotonic() on arrival


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, like real servers
    server: _Server

    def do_GET(self) -> None:
        self.server.owner._dispatch(self)

    do_HEAD = do_POST = do_GET

    def log_message(self, *args) -> None:   # keep test output clean
        pass

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stopping


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: TestServer
    tls: ssl.SSLContext | None = None

    def finish_request(self, request, client_address) -> None:
        # Handshake in the worker thread, so a client rejecting our certificate cannot
        # stall the accept loop; handshake failures are the test's expected outcome.
        if self.tls is not None:
            request.settimeout(10)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            super().finish_request(request, client_address)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass

    def handle_error(self, request, client_address) -> None:
        pass   # clients hanging up mid-answer is what several tests do on purpose


class TestServer:
    """A threaded HTTP (or HTTPS with `tls`) server on 127.0.0.1 with a route table."""

    __test__ = False   # not a pytest test class

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.routes: dict[str, Behaviour] = {}
        self.hits: Counter[str] = Counter()
        self.seen: list[Seen] = []
        self.active = 0
        self.max_active = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._httpd.tls = tls
        self.scheme = "https" if tls else "http"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def route(self, path: str, behaviour: Behaviour) -> str:
        self.routes[path] = behaviour
        return self.url(path)

    def start(self) -> TestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()          # ends sleeping / trickling behaviours
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _dispatch(self, h: _Handler) -> None:
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.hits[path] += 1
            self.seen.append(Seen(h.command, h.path, dict(h.headers.items()), time.monotonic()))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.routes.get(path, send(404, b"not found", "text/plain"))(h)
        finally:
            with self._lock:
                self.active -= 1


# --------------------------------------------------------------------------- behaviours

def _head(h: _Handler, status: int, headers: dict[str, str]) -> None:
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name, value)
    h.end_headers()


def send(status: int = 200, body: bytes = b"",
         content_type: str | None = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None) -> Behaviour:
    """A complete answer with Content-Length."""

    def behaviour(h: _Handler) -> None:
        all_headers = {"Content-Length": str(len(body)), **(headers or {})}
        if content_type:
            all_headers["Content-Type"] = content_type
        _head(h, status, all_headers)
        if h.command != "HEAD":
            h.wfile.write(body)

    return behaviour


def redirect(location: str, status: int = 302) -> Behaviour:
    return send(status, b"", "text/plain", {"Location": location})


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th call gets the n-th behaviour; the last one repeats."""
    calls = itertools.count()
    lock = threading.Lock()

    def behaviour(h: _Handler) -> None:
        with lock:
            n = next(calls)
        behaviours[min(n, len(behaviours) - 1)](h)

    return behaviour


def slow(seconds: float, then: Behaviour) -> Behaviour:
    """Wait before answering (cut short when the server stops)."""

    def behaviour(h: _Handler) -> None:
        if not h.stopping.wait(seconds):
            then(h)

    return behaviour


def never_answer(limit: float = 30.0) -> Behaviour:
    """Accept the request and say nothing (until the server stops)."""
    return lambda h: h.stopping.wait(limit)


def _rst(h: _Handler) -> None:
    # SO_LINGER with a zero timeout makes close() send a TCP RST instead of a FIN.
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def reset() -> Behaviour:
    """Read the request, then reset the connection without answering."""
    return _rst


def reset_mid_body(declared: int = 10_000, sent: int = 100) -> Behaviour:
    """Promise `declared` bytes, send `sent`, then reset the connection."""

    def behaviour(h: _Handler) -> None:
        _head(h, 200, {"Content-Length": str(declared), "Content-Type": "text/plain"})
        h.wfile.write(b"x" * sent)
        h.wfile.flush()
        time.sleep(0.05)
        _rst(h)

    return behaviour


def gzipped(body: bytes, content_type: str = "text/html; charset=utf-8") -> Behaviour:
    return send(200, gzip.compress(body), content_type, {"Content-Encoding": "gzip"})


def gzip_bomb(inflated_size: int) -> Behaviour:
    """A small gzip body of zeros that inflates to `inflated_size` bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    mb = 1024 * 1024
    parts = [packer.compress(bytes(mb)) for _ in range(inflated_size // mb)]
    parts.append(packer.compress(bytes(inflated_size % mb)))
    parts.append(packer.flush())
    return send(200, b"".join(parts), "text/plain", {"Content-Encoding": "gzip"})


def _close_delimited(h: _Handler, content_type: str) -> None:
    # No Content-Length: the body ends when the connection closes (HTTP/1.0 style).
    _head(h, 200, {"Content-Type": content_type, "Connection": "close"})
    h.close_connection = True


def huge(size: int, declare_length: bool = True, chunk: int = 64 * 1024) -> Behaviour:
    """`size` bytes of 'a', with or without a Content-Length header."""

    def behaviour(h: _Handler) -> None:
        if declare_length:
            _head(h, 200, {"Content-Type": "text/plain", "Content-Length": str(size)})
        else:
            _close_delimited(h, "text/plain")
        left = size
        try:
            while left > 0 and not h.stopping.is_set():
                n = min(chunk, left)
                h.wfile.write(b"a" * n)
                left -= n
        except (BrokenPipeError, ConnectionResetError):
            pass

    return behaviour


def trickle(interval: float = 0.05, limit: float = 15.0) -> Behaviour:
    """An endless body: one byte every `interval` seconds (gives up after `limit`)."""

    def behaviour(h: _Handler) -> None:
        _close_delimited(h, "text/plain")
        end = time.monotonic() + limit
        try:
            while time.monotonic() < end and not h.stopping.wait(interval):
                h.wfile.write(b"z")
                h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    return behaviour


# --------------------------------------------------------------------------- helpers

def unused_port() -> int:
    """A local port with nothing listening (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """A throwaway certificate for 127.0.0.1 (openssl CLI, else `cryptography`); None if
    neither is available."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    openssl = shutil.which("openssl")
    if openssl:
        done = subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            capture_output=True, timeout=30)
        if done.returncode == 0:
            return cert, key
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return None
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert, key


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
