"""The one HTTP client of clippings: fetching, link checking and API lookups all go through it.

Why not plain `requests.get`: every caller needs the same guarantees, and they belong to the
client, not to each call site (the lychee habit):

- only http/https, re-checked on every redirect hop; every hop recorded; loops detected;
- a byte cap enforced on *decoded* bytes (we inflate gzip/deflate ourselves, in bounded
  steps, so a small compressed body cannot blow up memory);
- connect/read timeouts plus an overall deadline, so a server trickling bytes forever stops;
- retries with exponential backoff on connection errors, timeouts, 5xx and 429, honouring
  `Retry-After` up to a cap; a status that is still bad at the end is *returned*, because
  link checking wants to classify it;
- per-host concurrency limits and spacing inside the client, safe to share between threads;
- every failure becomes one `HttpError` with a one-line message naming the URL: a
  `NoAnswer` (a `NetworkError`, exit 3) when no answer came, a `BadAnswer` (a
  `SourceError`, exit 1) when the server answered with something unusable.

`decode_body` (bytes + Content-Type -> text) is a pure function so extraction code can use it
on saved files too.
"""

from __future__ import annotations

import codecs
import email.utils
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import requests.cookies
import urllib3
import urllib3.connection
import urllib3.exceptions
from requests.structures import CaseInsensitiveDict

from clippings import __version__
from clippings.errors import ClippingsError, NetworkError, SourceError, UsageError

PROJECT_URL = "https://github.com/clippings/clippings"
MB = 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_CHUNK = 64 * 1024
_DETECT_SAMPLE = 256 * 1024   # bytes handed to charset detection
_META_SCAN = 8 * 1024          # bytes searched for <meta charset> / <?xml encoding?>


# --------------------------------------------------------------------------- errors

class BadURL(UsageError):
    """The URL given is not an absolute http(s) URL with a host (exit 2)."""


class PrivateAddress(BadURL):
    """The URL's host is (or resolves to) a loopback, private, link-local or metadata
    address, and the client was told not to reach those (`allow_private_addresses`)."""


class HttpError(ClippingsError):
    """Base of the client's failures; `url` is the address that failed. Whose problem
    it is comes from the subclass: `NoAnswer` or `BadAnswer`."""

    exit_code = NetworkError.exit_code   # unclassified: counted as the network's

    def __init__(self, message: str, url: str):
        super().__init__(" ".join(message.split()))   # always one line
        self.url = url


class NoAnswer(HttpError, NetworkError):
    """No answer came (DNS, connection, timeout, TLS): the network failed (exit 3)."""


class BadAnswer(HttpError, SourceError):
    """The server answered, but with nothing usable (an error status, a redirect loop, a
    body too large or unreadable): a problem with the source, not the network (exit 1)."""

    exit_code = SourceError.exit_code


class Timeout(NoAnswer):
    """No answer within the connect/read timeout, or the overall deadline passed."""

    def __init__(self, message: str, url: str, *, deadline: bool = False):
        super().__init__(message, url)
        self.deadline = deadline   # a passed deadline is final: never retried


class ConnectionFailed(NoAnswer):
    """The connection was refused, reset or closed early."""


class HostNotFound(NoAnswer):
    """The host name does not resolve (DNS failure)."""


class TLSError(NoAnswer):
    """TLS handshake or certificate verification failed."""


class TooLarge(BadAnswer):
    """The body is larger than the byte cap."""

    def __init__(self, message: str, url: str, limit: int):
        super().__init__(message, url)
        self.limit = limit


class TooManyRedirects(BadAnswer):
    """More redirect hops than `max_redirects`."""


class RedirectLoop(TooManyRedirects):
    """A redirect chain came back to the same URL again."""


class BadRedirect(BadAnswer):
    """A server redirected to something that is not an http(s) URL (ftp:, file:, ...)."""


class BadResponse(BadAnswer):
    """The server sent something unreadable (e.g. a corrupt gzip body)."""


class HTTPStatusError(BadAnswer):
    """Raised by `Response.raise_for_status()` for 4xx/5xx answers."""

    def __init__(self, message: str, url: str, response: Response):
        super().__init__(message, url)
        self.response = response
        self.status = response.status


# --------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class HttpSettings:
    """Knobs of the client; defaults match the documented settings (cli.md)."""

    user_agent: str | None = None     # None: clippings/<version> (+project; mailto:<email>)
    email: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 120.0           # whole request: retries, redirects and body
    max_bytes: int = 25 * MB
    max_redirects: int = 10
    retries: int = 2
    backoff: float = 0.5              # first retry waits this long, then doubles
    retry_after_cap: float = 30.0
    per_host: int = 2
    host_spacing: float = 0.0         # seconds between request starts to one host
    verify_tls: bool = True
    # False on a server (`clippings serve`): user-given URLs must not reach the office
    # network, the machine itself or a cloud metadata service.
    allow_private_addresses: bool = True
    pool_size: int = 16               # connections kept per host pool / host pools cached x4

    def effective_user_agent(self) -> str:
        if self.user_agent:
            return self.user_agent
        contact = f"+{PROJECT_URL}" + (f"; mailto:{self.email}" if self.email else "")
        return f"clippings/{__version__} ({contact})"


# --------------------------------------------------------------------------- response

@dataclass
class Response:
    """One finished request. Non-2xx statuses are returned, not raised."""

    url: str                                 # as requested
    final_url: str                           # after redirects
    status: int
    headers: CaseInsensitiveDict
    content: bytes
    redirects: list[tuple[str, int]] = field(default_factory=list)   # (url, status) per hop
    elapsed_ms: int = 0
    truncated: bool = False                  # only ever True with allow_truncate=True
    _decoded: tuple[str, str, str] | None = field(default=None, init=False, repr=False,
                                                  compare=False)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def _decode(self) -> tuple[str, str, str]:
        # Decoding is lazy: a 25 MB PDF never needs charset detection.
        if self._decoded is None:
            self._decoded = _decode(self.content, self.headers.get("content-type"))
        return self._decoded

    @property
    def text(self) -> str:
        return self._decode()[0]

    @property
    def encoding(self) -> str:
        """Python codec name used for `text` (e.g. 'utf-8', 'cp1251')."""
        return self._decode()[1]

    @property
    def encoding_source(self) -> str:
        """How the encoding was found: bom, header, meta, detected or fallback."""
        return self._decode()[2]

    def raise_for_status(self) -> Response:
        if self.status >= 400:
            try:
                phrase = HTTPStatus(self.status).phrase
            except ValueError:
                phrase = "error"
            raise HTTPStatusError(f"HTTP {self.status} {phrase} for {self.final_url}",
                                  self.final_url, self)
        return self


# --------------------------------------------------------------------------- URLs

def check_url(url: str) -> str:
    """Return `url` stripped if it is an absolute http(s) URL with a host, else raise BadURL."""
    url = url.strip() if isinstance(url, str) else ""
    if not url:
        raise BadURL("empty URL")
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise BadURL(f"URL contains control characters: {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError:   # e.g. an unclosed IPv6 bracket
        raise BadURL(f"malformed URL: {url}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise BadURL(f"only http and https URLs can be fetched ({shown}): {url}")
    try:
        host = parts.hostname
        parts.port   # raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise BadURL(f"invalid host or port in URL: {url}") from None
    if not host:
        raise BadURL(f"URL has no host: {url}")
    return url


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local (169.254.x.x: cloud metadata), shared,
    reserved, multicast and unspecified addresses, also when mapped into IPv6."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public_host(url: str) -> None:
    """Raise PrivateAddress unless every address the URL's host resolves to is public.

    Checked on every hop, so a public page redirecting into the office network is
    refused as well; a name resolving to both kinds is refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https"
                                                        else 80), proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise HostNotFound(f"host not found: {host}", url) from None
    for info in infos:
        address = info[4][0]
        if not is_public_address(address):
            # A web user cannot change the server's settings: their lines leave it out.
            raise PrivateAddress(f"refusing to fetch {url}: {host} is a private, loopback "
                                 f"or link-local address ({address}); set "
                                 "allow_private_addresses to allow it",
                                 web=f"refusing to fetch {url}: {host} is a private, "
                                     f"loopback or link-local address ({address})",
                                 german=f"{url} wird nicht abgerufen: {host} ist eine private, "
                                        f"Loopback- oder Link-lokale Adresse ({address})")


def _host_key(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _redirect_target(current: str, location: str) -> str:
    # http.client decodes header bytes as latin-1; servers usually mean UTF-8.
    try:
        location = location.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return urljoin(current, location.strip())


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _human_bytes(n: int) -> str:
    if n >= MB and n % MB == 0:
        return f"{n // MB} MB"
    if n >= MB:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


# --------------------------------------------------------------------------- charsets

_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';\s]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.+-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_:.+-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(label: str | bytes | None) -> str | None:
    """A Python codec name for a charset label, with the web's usual aliases; None if unknown."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    # Browsers read latin-1/ascii labels as windows-1252, its superset (curly quotes, euro).
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    return name


def _is_utf8(name: str) -> bool:
    return name in ("utf-8", "utf-8-sig")


def _mostly_utf8(content: bytes) -> bool:
    """UTF-8 with a few broken bytes (a bad footer), not legacy text: keep UTF-8 with '?'s."""
    text = content.decode("utf-8", "replace")
    bad = text.count("\ufffd") - content.count(b"\xef\xbf\xbd")
    good = sum(1 for c in text if ord(c) > 127) - text.count("\ufffd")
    return good > 0 and bad <= max(2, good // 20)


def _strict(content: bytes, name: str) -> str | None:
    try:
        return content.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


# Among encodings that decode a page identically, report the one the web actually uses.
_PREFERRED = ("cp1252", "cp1251", "iso8859-15", "cp1250", "koi8-r", "iso8859-2")
# Detection may only pick encodings a browser would use (the WHATWG Encoding Standard's
# legacy set): otherwise short German text comes back as EBCDIC or Urdu code pages.
_WEB_ENCODINGS = frozenset(codecs.lookup(n).name for n in (
    "cp866", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "gbk", "gb18030",
    "big5", "euc-jp", "iso2022-jp", "shift-jis", "euc-kr",
    *(f"iso8859-{i}" for i in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    *(f"cp{i}" for i in range(1250, 1259))))


def _detect(content: bytes) -> tuple[str, str]:
    if _strict(content, "utf-8") is not None or _mostly_utf8(content):
        return content.decode("utf-8", "replace"), "utf-8"
    from charset_normalizer import from_bytes   # lazy: only undeclared legacy pages need it

    for match in from_bytes(content[:_DETECT_SAMPLE]):
        names = [_codec(n) for n in (match.encoding, *match.could_be_from_charset)]
        names = [n for n in names if n in _WEB_ENCODINGS]
        if names:
            name = next((p for p in _PREFERRED if p in names), names[0])
            return content.decode(name, "replace"), name
    return content.decode("cp1252", "replace"), "cp1252"


def _decode(content: bytes, content_type_header: str | None) -> tuple[str, str, str]:
    """(text, codec, source): BOM, then header charset, then meta/XML declaration, then detection.

    A declaration is only trusted when the bytes decode under it; and a legacy declaration
    is overruled by bytes that are valid, non-ASCII UTF-8 (servers defaulting to latin-1 in
    front of UTF-8 pages are common, and legacy text is almost never valid UTF-8 by chance).
    """
    if not content:
        return "", "utf-8", "fallback"
    for bom, name in _BOMS:
        if content.startswith(bom):
            return content.decode(name, "replace"), name, "bom"

    declared: list[tuple[str, str]] = []
    match = _HEADER_CHARSET.search(content_type_header or "")
    if match and (name := _codec(match.group(1))):
        declared.append((name, "header"))
    head = content[:_META_SCAN]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if match and (name := _codec(match.group(1))):
        # A page cannot really be UTF-16 if its meta tag was readable as ASCII.
        declared.append(("utf-8" if name.startswith("utf-16") else name, "meta"))

    utf8 = None
    for name, source in declared:
        if not _is_utf8(name) and not content.isascii():
            utf8 = _strict(content, "utf-8") if utf8 is None else utf8
            if utf8:
                return utf8, "utf-8", "detected"
        text = _strict(content, name)
        if text is not None:
            return text, name, source
        if _is_utf8(name) and _mostly_utf8(content):
            return content.decode("utf-8", "replace"), "utf-8", source
    text, name = _detect(content)
    return text, name, "detected"


def decode_body(content: bytes, content_type_header: str | None) -> tuple[str, str]:
    """Decode a document to text: returns (text, codec name). Never raises on bad bytes."""
    text, name, _source = _decode(content, content_type_header)
    return text, name


# --------------------------------------------------------------------------- bodies

class _Inflater:
    """Content-Encoding gzip/deflate decoded in bounded steps (decompression-bomb safe)."""

    def __init__(self, content_encoding: str):
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        # We only ever ask for gzip/deflate; anything else is passed through untouched.
        self.coding = codings[0] if len(codings) == 1 else None
        self._obj = self._new() if self.coding in ("gzip", "x-gzip", "deflate") else None
        self._started = False

    def _new(self, raw: bool = False):
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else 32 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._obj is None:
            if data:
                yield data
            return
        while data:
            if self._obj.eof:
                if not data.startswith(b"\x1f\x8b"):
                    return               # padding or junk after the stream: ignored
                self._obj = self._new()  # another gzip member follows
            try:
                out = self._obj.decompress(data, _CHUNK)   # at most _CHUNK bytes out
            except zlib.error:
                if self.coding == "deflate" and not self._started:
                    self._obj = self._new(raw=True)   # raw deflate without zlib header
                    self._started = True
                    continue
                raise
            self._started = True
            data = self._obj.unused_data if self._obj.eof else self._obj.unconsumed_tail
            if out:
                yield out

    def finish(self) -> bytes:
        return self._obj.flush() if self._obj is not None and not self._obj.eof else b""


# --------------------------------------------------------------------------- exceptions

def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests -> urllib3 -> socket)."""
    todo, seen = [exc], set()
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        nested = [getattr(e, "reason", None), e.__cause__, e.__context__,
                  *(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))]
        todo.extend(n for n in nested if isinstance(n, BaseException))


def _tls_reason(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError) and e.verify_message:
            return e.verify_message
        if isinstance(e, ssl.SSLError) and e.reason:
            return e.reason.lower().replace("_", " ")
    return "handshake failed"


def _translate(exc: BaseException, url: str, timeouts: tuple[float, float]) -> HttpError | BadURL:
    """Map a requests/urllib3/socket exception to ours; never let a raw one escape."""
    chain = list(_chain(exc))

    def has(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    if has(requests.exceptions.SSLError, ssl.SSLError, urllib3.exceptions.SSLError):
        return TLSError(f"TLS error for {url}: {_tls_reason(exc)}", url)
    if has(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return HostNotFound(f"host not found: {_host_key(url)} ({url})", url)
    # Before timeouts: urllib3's NewConnectionError subclasses ConnectTimeoutError.
    if has(ConnectionRefusedError):
        return ConnectionFailed(f"connection refused by {url}", url)
    if has(ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return ConnectionFailed(f"connection reset by the server for {url}", url)
    if has(requests.exceptions.ConnectTimeout) or any(
            isinstance(e, urllib3.exceptions.ConnectTimeoutError)
            and not isinstance(e, urllib3.exceptions.NewConnectionError) for e in chain):
        return Timeout(f"timed out connecting to {url} after {timeouts[0]:g} s", url)
    if has(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return Timeout(f"no answer from {url} within {timeouts[1]:g} s", url)
    if has(http.client.RemoteDisconnected, http.client.IncompleteRead,
           urllib3.exceptions.IncompleteRead, urllib3.exceptions.ProtocolError,
           requests.exceptions.ChunkedEncodingError):
        return ConnectionFailed(f"connection closed early by the server for {url}", url)
    if has(requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
           requests.exceptions.MissingSchema, urllib3.exceptions.LocationParseError):
        return BadURL(f"invalid URL: {url}")
    if has(requests.exceptions.ConnectionError, urllib3.exceptions.NewConnectionError,
           ConnectionError):
        return ConnectionFailed(f"could not connect to {url}", url)
    if has(zlib.error, requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError):
        return BadResponse(f"unreadable compressed body from {url}", url)
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return NoAnswer(f"request to {url} failed: {detail}", url)


_CAUGHT = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError,
           http.client.HTTPException, OSError, zlib.error)


# --------------------------------------------------------------------------- public-only connections

class _PublicPeer:
    """Checks the address a connection actually reached. The name check before each
    request (`check_public_host`) can be fooled by a DNS answer that changes between
    the check and the connection (DNS rebinding); the connected socket cannot."""

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            peer = sock.getpeername()[0]
        except OSError:
            return sock
        if not is_public_address(peer):
            sock.close()
            raise PrivateAddress(f"refusing to fetch from {self.host}: the connection went "
                                 f"to a private, loopback or link-local address ({peer}); "
                                 "set allow_private_addresses to allow it",
                                 web=f"refusing to fetch from {self.host}: the connection "
                                     f"went to a private, loopback or link-local address "
                                     f"({peer})",
                                 german=f"von {self.host} wird nicht abgerufen: die "
                                        f"Verbindung ging an eine private, Loopback- oder "
                                        f"Link-lokale Adresse ({peer})")
        return sock


class _PublicHTTPConnection(_PublicPeer, urllib3.connection.HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicPeer, urllib3.connection.HTTPSConnection):
    pass


class _PublicHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(requests.adapters.HTTPAdapter):
    """Direct connections only to public addresses (a proxy, if the environment names
    one, is reached as configured; the name check still covers the target)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool,
                                                   "https": _PublicHTTPSPool}


# --------------------------------------------------------------------------- client

@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end: float | None = None

    def start(self) -> None:
        if self.end is None:
            self.end = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return self.seconds if self.end is None else self.end - time.monotonic()


@dataclass
class _Hop:
    status: int
    headers: CaseInsensitiveDict
    content: bytes = b""
    truncated: bool = False


class HttpClient:
    """Thread-safe HTTP client; share one per process (or per command)."""

    def __init__(self, settings: HttpSettings | None = None):
        self.settings = s = settings or HttpSettings()
        self._session = requests.Session()
        self._env_cache: dict[tuple[str, str], dict] = {}
        kind = requests.adapters.HTTPAdapter if s.allow_private_addresses \
            else _PublicOnlyAdapter
        adapter = kind(
            pool_connections=max(4 * s.pool_size, 16),
            pool_maxsize=max(s.pool_size, s.per_host), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._adapter = adapter
        self._session.headers.update({
            "User-Agent": s.effective_user_agent(),
            # Only codings _Inflater handles; urllib3 might otherwise offer br/zstd.
            "Accept-Encoding": "gzip, deflate",
        })
        if not s.verify_tls:
            # The user chose this; one warning per request would only be noise.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    # -- public API ----------------------------------------------------------

    def get(self, url: str, *, accept: str | None = None, max_bytes: int | None = None,
            follow_redirects: bool = True, allow_truncate: bool = False,
            params: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
        """GET `url`. With allow_truncate, a body over the cap is cut (truncated=True)
        instead of raising TooLarge (handy for sniffing the start of a page)."""
        return self._request("GET", url, accept=accept, max_bytes=max_bytes,
                             follow_redirects=follow_redirects, allow_truncate=allow_truncate,
                             params=params, headers=headers)

    def head(self, url: str, *, accept: str | None = None, follow_redirects: bool = True,
             params: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None) -> Response:
        return self._request("HEAD", url, accept=accept, max_bytes=None,
                             follow_redirects=follow_redirects, allow_truncate=False,
                             params=params, headers=headers)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- the request loop ----------------------------------------------------

    def _request(self, method: str, url: str, *, accept: str | None, max_bytes: int | None,
                 follow_redirects: bool, allow_truncate: bool,
                 params: Mapping[str, str] | None,
                 headers: Mapping[str, str] | None) -> Response:
        s = self.settings
        url = check_url(url)
        if params:
            prepared = requests.models.PreparedRequest()
            prepared.prepare_url(url, params)
            url = prepared.url
        cap = max_bytes if max_bytes is not None else s.max_bytes
        hdrs = {"Accept": accept or DEFAULT_ACCEPT, **(headers or {})}
        began = time.monotonic()
        deadline = _Deadline(s.deadline)
        budget = [s.retries]       # retries left for the whole call, shared by all hops
        redirects: list[tuple[str, int]] = []
        visits: Counter[str] = Counter({url: 1})
        current = url
        while True:
            hop = self._hop(method, current, hdrs, cap, allow_truncate, follow_redirects,
                            deadline, budget)
            location = hop.headers.get("location")
            if not (follow_redirects and hop.status in REDIRECT_STATUSES and location):
                return Response(url=url, final_url=current, status=hop.status,
                                headers=hop.headers, content=hop.content, redirects=redirects,
                                elapsed_ms=round((time.monotonic() - began) * 1000),
                                truncated=hop.truncated)
            redirects.append((current, hop.status))
            target = location
            try:
                target = _redirect_target(current, location)
                check_url(target)
            except (BadURL, ValueError):
                raise BadRedirect(f"{current} redirected to a non-http(s) address: {target}",
                                  url) from None
            # One return to a URL is allowed (cookie-check bounces); a second is a loop.
            visits[target] += 1
            if visits[target] > 2:
                raise RedirectLoop(f"redirect loop: {url} keeps coming back to {target}", url)
            if len(redirects) > s.max_redirects:
                raise TooManyRedirects(f"more than {s.max_redirects} redirects from {url}", url)
            if hop.status == 303:
                method = "GET" if method != "HEAD" else method
            current = target

    def _hop(self, method: str, url: str, hdrs: dict[str, str], cap: int,
             allow_truncate: bool, follow_redirects: bool, deadline: _Deadline,
             budget: list[int]) -> _Hop:
        """One URL: attempts with retries; returns the last answer or raises the last error."""
        if not self.settings.allow_private_addresses:
            check_public_host(url)
        attempt = 0
        while True:
            wait: float | None = None
            try:
                with self._slot(url, deadline):
                    hop, wait = self._attempt(method, url, hdrs, cap, allow_truncate,
                                              follow_redirects, deadline, budget, attempt)
                if wait is None:
                    return hop
            except (Timeout, ConnectionFailed) as exc:
                if isinstance(exc, Timeout) and exc.deadline:
                    raise
                wait = self._backoff(attempt)
                if budget[0] <= 0 or wait >= deadline.remaining():
                    raise
            budget[0] -= 1
            attempt += 1
            time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return self.settings.backoff * (2 ** attempt)

    def _retry_wait(self, status: int, headers: Mapping[str, str], attempt: int,
                    deadline: _Deadline, budget: list[int]) -> float | None:
        """Seconds to wait before retrying this answer, or None to keep it."""
        if budget[0] <= 0 or not (status == 429 or (status >= 500 and status != 501)):
            return None
        asked = parse_retry_after(headers.get("retry-after"))
        if asked is not None and asked > self.settings.retry_after_cap:
            return None
        wait = asked if asked is not None else self._backoff(attempt)
        return None if wait >= deadline.remaining() else wait

    def _attempt(self, method: str, url: str, hdrs: dict[str, str], cap: int,
                 allow_truncate: bool, follow_redirects: bool, deadline: _Deadline,
                 budget: list[int], attempt: int) -> tuple[_Hop, float | None]:
        s = self.settings
        remaining = deadline.remaining()
        if remaining <= 0:
            raise self._deadline_error(url)
        timeouts = (min(s.connect_timeout, remaining), min(s.read_timeout, remaining))
        try:
            r = self._send(method, url, hdrs, timeouts)
        except _CAUGHT as exc:
            raise _translate(exc, url, timeouts) from None
        try:
            headers = CaseInsensitiveDict(r.headers)
            hop = _Hop(r.status_code, headers)
            wait = self._retry_wait(r.status_code, headers, attempt, deadline, budget)
            skip_body = (method == "HEAD" or wait is not None
                         or (follow_redirects and r.status_code in REDIRECT_STATUSES
                             and "location" in headers))
            if not skip_body:
                hop.content, hop.truncated = self._read_body(r, url, cap, allow_truncate,
                                                             deadline, timeouts)
            return hop, wait
        finally:
            r.close()

    def _send(self, method: str, url: str, hdrs: dict[str, str],
              timeouts: tuple[float, float]) -> requests.Response:
        # Straight to the adapter: Session.send would parse the Location header of every
        # 3xx to prepare a redirect we do not want (and raise ValueError on a malformed one).
        session = self._session
        prepared = session.prepare_request(requests.Request(method, url, headers=hdrs))
        # verify per request: a session-level False would lose to REQUESTS_CA_BUNDLE.
        # Proxies and CA bundle come from the environment, which does not change during a
        # run: look them up once per scheme and host (scanning os.environ for every
        # request was a quarter of the client's CPU time per request).
        origin = urlsplit(prepared.url)[:2]
        env = self._env_cache.get(origin)
        if env is None:
            env = self._env_cache[origin] = session.merge_environment_settings(
                prepared.url, {}, True, self.settings.verify_tls, None)
        r = self._adapter.send(prepared, stream=True, timeout=timeouts, verify=env["verify"],
                               cert=env["cert"], proxies=env["proxies"])
        requests.cookies.extract_cookies_to_jar(session.cookies, prepared, r.raw)
        return r

    def _read_body(self, r: requests.Response, url: str, cap: int, allow_truncate: bool,
                   deadline: _Deadline, timeouts: tuple[float, float]) -> tuple[bytes, bool]:
        limit_hint = f"the {_human_bytes(cap)} download limit (setting max_download_mb)"
        length = r.headers.get("content-length", "")
        if not allow_truncate and length.isdigit() and int(length) > cap:
            raise TooLarge(f"{url} is {_human_bytes(int(length))}, over {limit_hint}", url, cap)
        inflater = _Inflater(r.headers.get("content-encoding", ""))
        raw = r.raw
        # read1 returns what one socket read gives, so a trickling server cannot hold us
        # inside a single read past the deadline (read() would wait to fill the chunk).
        read = getattr(raw, "read1", None) or raw.read
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                if deadline.remaining() <= 0:
                    raise self._deadline_error(url)
                data = read(_CHUNK, decode_content=False)
                pieces = list(inflater.feed(data)) if data else [inflater.finish()]
                for piece in pieces:
                    parts.append(piece)
                    size += len(piece)
                    if size > cap:
                        if allow_truncate:
                            return b"".join(parts)[:cap], True
                        raise TooLarge(f"{url} is larger than {limit_hint}", url, cap)
                if not data:
                    return b"".join(parts), False
        except _CAUGHT as exc:
            raise _translate(exc, url, timeouts) from None

    def _deadline_error(self, url: str) -> Timeout:
        return Timeout(f"{url} took longer than the {self.settings.deadline:g} s deadline",
                       url, deadline=True)

    # -- politeness ----------------------------------------------------------

    @contextmanager
    def _slot(self, url: str, deadline: _Deadline) -> Iterator[None]:
        """Hold one of the host's `per_host` slots, starting no sooner than `host_spacing`
        after the previous request to that host. The deadline starts once a slot is held,
        so queueing behind other requests does not eat a request's own time."""
        key = _host_key(url)
        with self._hosts_lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(
                    threading.BoundedSemaphore(max(1, self.settings.per_host)))
        with host.slots:
            spacing = self.settings.host_spacing
            if spacing > 0:
                with host.lock:
                    start = max(time.monotonic(), host.next_start)
                    host.next_start = start + spacing
                delay = start - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            deadline.start()
            yield
