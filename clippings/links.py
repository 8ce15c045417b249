"""Link checking: collect -> check -> classify -> report, plus the web-archive client.

The pipeline follows lychee's shape:

- `collect` turns library entries into `Link`s (every `url` and `archiveurl`);
- `probe` does the network part for one URL (HEAD and/or GET through the shared
  `HttpClient`, which owns retries, Retry-After, timeouts and per-host politeness) and
  returns a `Probe`: what the server said, or which network error happened;
- `classify` is pure: Probe + Link -> `Result` with one `Status`;
- `check_all` runs probes concurrently with a host-aware scheduler and yields results as
  they finish (the CLI draws progress and handles Ctrl-C);
- `Wayback` asks the Internet Archive's availability API for the closest copy and can ask
  its save endpoint to archive a page;
- `fixes` / `apply_fixes` turn results into field changes of library.bib.

Why GET rather than HEAD for ordinary pages: soft 404s and drift can only be seen in the
body, so a HEAD would always be followed by a GET and double the requests to every host.
HEAD goes first where the body is not needed: documents (PDF, office files, media) and
archive copies; GET follows when HEAD is refused or unreliable (405, 403, 501, other
errors, a missing length, an HTML answer where a document was expected, or a host that
refused HEAD before in this run).
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field   # `field` is also a Link/Result attribute
from datetime import datetime, timezone
from enum import Enum
from urllib.parse import quote, urlsplit

from .http import (BadURL, ConnectionFailed, HostNotFound, HttpClient, HttpError,
                   HttpSettings, RedirectLoop, Response, Timeout, TLSError)

MB = 1024 * 1024


class Status(str, Enum):
    """Every outcome of checking one link (the names of the CLI contract)."""

    OK = "ok"
    REDIRECTED = "redirected"   # permanent redirect: the URL should be updated
    BROKEN = "broken"           # 404/410 and the like
    GONE = "gone"               # host does not resolve / refuses connections
    BLOCKED = "blocked"         # 401/403/429 and similar bot protection
    TIMEOUT = "timeout"
    TLS_ERROR = "tls_error"
    SOFT_404 = "soft_404"       # a 200 that is really an error page, or a redirect home
    DRIFTED = "drifted"         # the page is there, its text no longer matches the snapshot
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


# Statuses that make `clippings check` exit 1; blocked and timeout are only warnings.
FAILING = frozenset({Status.BROKEN, Status.GONE, Status.SOFT_404})
# Statuses for which an archived copy is looked up.
RECOVER = frozenset({Status.BROKEN, Status.GONE, Status.SOFT_404, Status.DRIFTED})
# Report order: the things to act on first.
ORDER = (Status.BROKEN, Status.GONE, Status.SOFT_404, Status.DRIFTED, Status.REDIRECTED,
         Status.BLOCKED, Status.TIMEOUT, Status.TLS_ERROR, Status.ERROR, Status.OK)

PERMANENT = frozenset({301, 308})
DRIFT_THRESHOLD = 0.5      # containment of the snapshot's shingles in the live text
SHINGLE = 3                # words per shingle
PAGE_CAP = 2 * MB          # enough for any article's text; the rest is not read
DOC_CAP = 64 * 1024        # a GET of a document only needs to prove it is there

_DOC_EXT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|odt|ods|odp|rtf|epub|zip|gz|tgz|7z|rar|"
                      r"mp3|mp4|m4a|ogg|webm|avi|mov|jpe?g|png|gif|webp|tiff?|svg)$", re.I)
# Hosts known to answer HEAD wrongly (405/403/404 or an error page) but GET correctly.
HEAD_HOSTILE = ("amazon.com", "amazon.de", "linkedin.com", "twitter.com", "x.com",
                "facebook.com", "instagram.com", "medium.com")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "")


# --------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Link:
    """One URL of one entry to check."""

    key: str
    url: str
    field: str = "url"            # url or archiveurl
    urldate: str = ""             # ISO date the page was visited (for the archive lookup)
    archiveurl: str = ""          # the entry's archived copy, if it has one
    snapshot_text: str | None = None
    # The saved page itself (snapshots/KEY/page.html), read only when needed.
    snapshot_page: Callable[[], str | None] | None = dc_field(default=None, compare=False)


@dataclass
class Probe:
    """What the network said about one URL: an answer or an error, never both."""

    url: str
    method: str = "GET"
    status: int | None = None
    final_url: str = ""
    redirects: list[tuple[str, int]] = dc_field(default_factory=list)
    headers: dict[str, str] = dc_field(default_factory=dict)
    content_type: str = ""
    text: str | None = None       # decoded body when it was read (GET of a page)
    home_url: str | None = None   # where the site's root leads, when that was needed
    error: Exception | None = None
    elapsed_ms: int = 0


@dataclass
class Result:
    """The verdict on one link, as reported and cached."""

    key: str
    url: str
    status: Status
    http_status: int | None = None
    final_url: str | None = None
    archive_url: str | None = None
    message: str = ""
    elapsed_ms: int = 0
    field: str = "url"
    archive_date: str | None = None
    new_url: str | None = None     # for permanent redirects: what `url` should become
    similarity: float | None = None
    redirects: list[tuple[str, int]] = dc_field(default_factory=list)
    checked_at: str = ""
    cached: bool = False
    unresolved: bool = False       # the host name could not be looked up (DNS)
    text_similarity: float | None = None   # share of the article's text unchanged
    changed: bool | None = None    # the main text differs from the snapshot's at all

    def as_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        data["redirects"] = [[u, s] for u, s in self.redirects]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = Status(values["status"])
        values["redirects"] = [tuple(r) for r in values.get("redirects") or []]
        return cls(**values)


# --------------------------------------------------------------------------- collect

def collect(lib, keys: Iterable[str] | None = None, snapshot_text=None,
            snapshot_page=None) -> list[Link]:
    """The links of the given entries (all when `keys` is empty), in library order.

    A link belongs to the entry whose own fields hold it: a crossref/xdata child that
    inherits its parent's `url` or `archiveurl` does not get a link of its own, so the
    URL is checked once and `--fix` writes into the entry that owns the field. Asking
    for such a child checks the parent's link. `snapshot_text(key)` returns the saved
    main text of an entry (None when there is none); it is only read for entries that
    have a `url`.
    """
    chosen = [lib.resolve_key(k) for k in keys] if keys else lib.keys()
    if keys:
        chosen += [owner for k in chosen for f in ("url", "archiveurl")
                   if (owner := field_owner(lib, k, f)) not in (None, k)]
    links: list[Link] = []
    for key in dict.fromkeys(chosen):
        own = lib.record(key, resolve=False).fields
        url = own.get("url", "").strip()
        archive = own.get("archiveurl", "").strip()
        visited = own.get("urldate", "").strip() or own.get("date", "").strip()
        if url:
            text = snapshot_text(key) if snapshot_text else None
            page = (lambda k=key: snapshot_page(k)) if snapshot_page and text else None
            links.append(Link(key, url, "url", visited, archive, text, page))
        if archive:
            links.append(Link(key, archive, "archiveurl", visited, archive))
    return links


def field_owner(lib, key: str, field: str, seen: set[str] | None = None) -> str | None:
    """The key of the entry whose own fields hold `field` for `key` (itself, or the
    crossref/xdata parent it inherits the field from), or None."""
    seen = seen if seen is not None else set()
    if key.casefold() in seen:
        return None
    seen.add(key.casefold())
    own = lib.record(key, resolve=False).fields
    if own.get(field, "").strip():
        return key
    parents = [own.get("crossref", "")] + own.get("xdata", "").split(",")
    for parent in (p.strip() for p in parents):
        resolved = lib.resolve_key(parent, required=False) if parent else None
        if resolved:
            found = field_owner(lib, resolved, field, seen)
            if found:
                return found
    return None


# --------------------------------------------------------------------------- probe

def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_document(url: str) -> bool:
    try:
        return bool(_DOC_EXT.search(urlsplit(url).path))
    except ValueError:
        return False


def _head_hostile(host: str) -> bool:
    return any(host == h or host.endswith("." + h) for h in HEAD_HOSTILE)


def _is_html(content_type: str) -> bool:
    return content_type in _HTML_TYPES


def _from_response(r: Response, method: str, read_text: bool) -> Probe:
    text = None
    if read_text and _is_html(r.content_type) and r.content:
        text = r.text
    return Probe(url=r.url, method=method, status=r.status, final_url=r.final_url,
                 redirects=list(r.redirects),
                 headers={k.lower(): v for k, v in r.headers.items()},
                 content_type=r.content_type, text=text, elapsed_ms=r.elapsed_ms)


class Prober:
    """Runs the HEAD/GET protocol for URLs; remembers hosts that refused HEAD."""

    def __init__(self, client: HttpClient):
        self.client = client
        self._no_head: set[str] = set()
        self._homes: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def wants_head(self, link: Link) -> bool:
        host = host_of(link.url)
        with self._lock:
            if host in self._no_head:
                return False
        return (is_document(link.url) or link.field == "archiveurl") \
            and not _head_hostile(host)

    def probe(self, link: Link) -> Probe:
        got = self._probe(link)
        if got.error is None and got.status and 200 <= got.status < 300 and \
                needs_home_page(link.url, got.final_url, got.redirects):
            got.home_url = self.home_of(got.final_url)
        return got

    def home_of(self, url: str) -> str | None:
        """Where the root of `url`'s site leads (its final URL), asked once per site;
        None when the root cannot be fetched."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        root = f"{parts.scheme}://{parts.netloc}/"
        with self._lock:
            if root in self._homes:
                return self._homes[root]
        try:
            r = self.client.get(root, max_bytes=DOC_CAP, allow_truncate=True)
            home = r.final_url if 200 <= r.status < 300 else None
        except (HttpError, BadURL):
            home = None
        with self._lock:
            self._homes[root] = home
        return home

    def _probe(self, link: Link) -> Probe:
        try:
            if self.wants_head(link):
                head = _from_response(self.client.head(link.url), "HEAD", False)
                if not self._head_unreliable(head):
                    return head
                if head.status in (405, 501):
                    with self._lock:
                        self._no_head.add(host_of(link.url))
                cap = PAGE_CAP if _is_html(head.content_type) else DOC_CAP
                got = _from_response(self.client.get(link.url, max_bytes=cap,
                                                     allow_truncate=True), "GET", True)
                got.elapsed_ms += head.elapsed_ms
                return got
            return _from_response(self.client.get(link.url, max_bytes=PAGE_CAP,
                                                  allow_truncate=True), "GET", True)
        except (HttpError, BadURL) as exc:
            return Probe(url=link.url, error=exc)

    @staticmethod
    def _head_unreliable(head: Probe) -> bool:
        status = head.status or 0
        if not 200 <= status < 300:
            return True   # 405/403/501, and any error: confirm with GET before judging
        if _is_html(head.content_type):
            return True   # a document that became a page (often an error page)
        return "content-length" not in head.headers


# --------------------------------------------------------------------------- classify

def classify(link: Link, probe: Probe, threshold: float = DRIFT_THRESHOLD) -> Result:
    """The verdict for one link from what the network said (pure)."""
    result = Result(key=link.key, url=link.url, field=link.field, status=Status.OK,
                    elapsed_ms=probe.elapsed_ms)
    if probe.error is not None:
        result.status, result.message = _error_status(probe.error)
        result.unresolved = isinstance(probe.error, HostNotFound)
        return result
    status = probe.status or 0
    result.http_status = status
    result.final_url = probe.final_url or link.url
    result.redirects = list(probe.redirects)
    if not 200 <= status < 300:
        result.status, result.message = _http_status(status, probe.headers)
        if probe.redirects:
            result.message += f" (after redirects to {result.final_url})"
        return result

    home = redirected_home(link.url, probe.final_url, probe.redirects, probe.home_url)
    if home:
        result.status, result.message = Status.SOFT_404, home
        return result
    if probe.text is not None:
        reason = soft_404_reason(probe.text)
        if reason:
            result.status, result.message = Status.SOFT_404, reason
            return result

    new_url = permanent_target(probe.redirects, probe.final_url)
    if new_url and new_url != link.url:
        result.status = Status.REDIRECTED
        result.new_url = new_url
        result.message = f"moved permanently to {new_url}"
    elif probe.redirects:
        result.message = f"temporary redirect to {probe.final_url}"

    if link.snapshot_text and probe.text is not None and \
            result.status in (Status.OK, Status.REDIRECTED):
        compare_with_snapshot(result, link.snapshot_text, probe.text, threshold,
                              link.snapshot_page)
    return result


def compare_with_snapshot(result: Result, snapshot_text: str, html: str,
                          threshold: float = DRIFT_THRESHOLD, snapshot_page=None) -> None:
    """Drift and change of the live page against the snapshot's text (in place).

    Two measures: `similarity` (how much of the snapshot the page still holds; below
    `threshold` the page is no longer the article: `drifted`) and `text_similarity`
    (how much of the article's own text is the same: any edit makes `changed` true,
    and an `ok` page says "text changed, 97 % the same").

    `text.txt` was extracted when the page was clipped, perhaps by an older extractor;
    when it differs from the live text and the saved page is there (`snapshot_page()`),
    the saved page's text is extracted again by today's extractor, so only a change of
    the page counts, not a change of the extractor."""
    live = main_text(html)
    score = drift_score(snapshot_text, html, live)
    if score is not None:
        result.similarity = round(score, 3)
        if score < threshold:
            result.status = Status.DRIFTED
            result.message = (f"text differs from the snapshot: similarity "
                              f"{score:.2f} < {threshold:.2f}")
    same = text_similarity(snapshot_text, live)
    if same is not None and same < 1.0 and snapshot_page is not None:
        saved = snapshot_page()
        then = main_text(saved) if saved else ""
        again = text_similarity(then, live) if then else None
        if again is not None:
            same = again
    if same is None:
        return
    result.text_similarity = round(same, 3)
    result.changed = same < 1.0
    if result.changed and result.status is not Status.DRIFTED:
        percent = min(99, int(same * 100))   # never "100 % the same" for a changed text
        result.message = _join(result.message, f"text changed, {percent} % the same")


def _error_status(exc: Exception) -> tuple[Status, str]:
    message = str(exc)
    if isinstance(exc, Timeout):
        return Status.TIMEOUT, message
    if isinstance(exc, TLSError):
        return Status.TLS_ERROR, message
    if isinstance(exc, HostNotFound):
        return Status.GONE, message
    if isinstance(exc, ConnectionFailed) and "refused" in message:
        return Status.GONE, message
    if isinstance(exc, RedirectLoop):
        # The session keeps cookies like a browser, so this is no cookie-check bounce:
        # a reader gets "too many redirects" too.
        return Status.BROKEN, message
    return Status.ERROR, message   # too many hops, non-http redirect, bad URL, ...


_REASONS = {401: "unauthorized", 403: "forbidden", 404: "not found", 410: "gone for good",
            429: "too many requests", 451: "unavailable for legal reasons"}


def _http_status(status: int, headers: dict[str, str]) -> tuple[Status, str]:
    """Status and message for a non-2xx final answer."""
    text = f"HTTP {status}" + (f" {_REASONS[status]}" if status in _REASONS else "")
    if status in (401, 403, 429, 451, 999):
        hint = " (bot protection or login wall; the page may still exist)"
        if status == 429:
            hint = " (rate limited beyond the Retry-After cap)"
        return Status.BLOCKED, text + hint
    if status == 503 and "retry-after" in headers:
        return Status.BLOCKED, text + " with Retry-After beyond the cap (rate limited)"
    if status in (404, 410) or 400 <= status < 500:
        return Status.BROKEN, text
    if 300 <= status < 400:
        return Status.ERROR, text + " redirect without a usable Location"
    return Status.ERROR, text + " server error"


def permanent_target(redirects: list[tuple[str, int]], final_url: str) -> str | None:
    """Where the leading run of permanent (301/308) hops ends, or None.

    `redirects` holds (url, status) per hop; the target of hop i is the url of hop i+1,
    or `final_url` after the last one. A temporary hop stops the run: what follows it
    may change any time, so only the permanent part is worth writing into the library.
    """
    target = None
    for i, (_url, status) in enumerate(redirects):
        if status not in PERMANENT:
            break
        target = redirects[i + 1][0] if i + 1 < len(redirects) else final_url
    return target


_HOME_PATHS = re.compile(r"^/?((index|default|home|start)(\.\w+)?)?/?$", re.I)
# One path segment like /de/, /en-us, /ok: maybe a language home, maybe a page.
_ONE_SEGMENT = re.compile(r"^/?[^/]+/?$")


def is_language_code(segment: str) -> bool:
    """Whether a path segment is a language (and region) code: de, en-us, de_AT, pt-br.
    The codes are the C library's locale names (Python's `locale.locale_alias`), so
    `/ok` or `/tv` are not languages."""
    import locale
    code = segment.strip("/").lower().replace("-", "_")
    lang, _, region = code.partition("_")
    return len(lang) == 2 and lang in locale.locale_alias and (
        not region or code in locale.locale_alias or (len(region) == 2 and region.isalpha()))


def _landing_of_deep_link(url: str, final_url: str, redirects) -> str | None:
    """The path a deep link (a path or a query) was redirected to, when it landed on a
    page without a query; else None."""
    if not redirects:
        return None
    try:
        asked, landed = urlsplit(url), urlsplit(final_url)
    except ValueError:
        return None
    deep = asked.path.strip("/") != "" or bool(asked.query)
    return (landed.path or "/") if deep and not landed.query else None


def needs_home_page(url: str, final_url: str, redirects) -> bool:
    """Whether telling a soft 404 apart needs the site's home page: a deep link that was
    redirected to a page one segment deep (`/de/` may be the home, `/ok` rarely is)."""
    path = _landing_of_deep_link(url, final_url, redirects)
    return path is not None and not _HOME_PATHS.match(path) and bool(_ONE_SEGMENT.match(path))


def same_page(a: str, b: str) -> bool:
    """Two URLs of the same page (scheme, host case and a trailing slash aside)."""
    try:
        x, y = urlsplit(a), urlsplit(b)
    except ValueError:
        return False
    return ((x.hostname or "").lower(), x.path.rstrip("/"), x.query) == \
        ((y.hostname or "").lower(), y.path.rstrip("/"), y.query)


def redirected_home(url: str, final_url: str, redirects, home_url: str | None = None
                    ) -> str | None:
    """A message when a deep link was redirected to a site's home page, else None.

    The root and index pages are homes; a page one segment deep (`/de/`) is the home
    when the site's root leads there too (`home_url`, the root's final URL), or, when
    the root could not be asked, when the segment is a language code."""
    path = _landing_of_deep_link(url, final_url, redirects)
    if path is None:
        return None
    message = f"deep link redirected to the home page {final_url}"
    if _HOME_PATHS.match(path):
        return message
    if _ONE_SEGMENT.match(path):
        if home_url is not None:
            return message if same_page(final_url, home_url) else None
        if is_language_code(path):
            return message
    return None


# Phrases of error pages in titles and headings (casefolded; English, German, Russian,
# plus French/Spanish/Italian that German and Russian press sites also link to).
NOT_FOUND_PHRASES = (
    "page not found", "page cannot be found", "page could not be found",
    "page does not exist", "page doesn't exist", "error 404", "404 error", "404 not found",
    "seite nicht gefunden", "seite wurde nicht gefunden", "seite existiert nicht",
    "seite ist nicht mehr verfügbar", "fehler 404", "fehlerseite", "artikel nicht gefunden",
    "inhalt nicht gefunden", "страница не найдена", "страница не существует",
    "ошибка 404", "запрашиваемая страница не", "страница удалена",
    "page introuvable", "página no encontrada", "pagina non trovata",
)
# Generic phrases that a real headline can hold ("Ursache nicht gefunden", "Причина не
# найдена"): they only count in a short title or heading, as error pages have.
GENERIC_PHRASES = ("not found", "no longer available", "nicht gefunden",
                   "existiert nicht mehr", "nicht mehr verfügbar", "не найдена",
                   "не найдено")
GENERIC_MAX_WORDS = 4


def _phrases(phrases) -> re.Pattern:
    return re.compile("|".join(r"(?<!\w)" + re.escape(p) + r"(?!\w)"
                               for p in sorted(phrases, key=len, reverse=True)))


_PHRASE_RE = _phrases(NOT_FOUND_PHRASES)
_GENERIC_RE = _phrases(GENERIC_PHRASES)
_SITE_SUFFIX = re.compile(r"\s+[-–—|:·»]\s+.*$")   # "Not found | Märkische Allgemeine"
# A bare 404 only counts at the start ("404 | Site", "404 - Seite ..."): "Artikel 404"
# or "404 Einwohner" are real titles.
_BARE_404 = re.compile(r"^\W*404\s*(?:$|[-–—|:·])")
MIN_WORDS = 5   # fewer visible words than this: an (almost) empty page


def soft_404_reason(html: str) -> str | None:
    """Why a 200 page is really an error page (title/heading says so, or it is empty)."""
    title, headings, words = page_outline(html)
    for where, text in (("title", title), *(("heading", h) for h in headings)):
        folded = text.casefold()
        short = len(_SITE_SUFFIX.sub("", folded).split()) <= GENERIC_MAX_WORDS
        if _PHRASE_RE.search(folded) or _BARE_404.match(text) or \
                (short and _GENERIC_RE.search(folded)):
            return f"{where} says {text.strip()[:80]!r}"
    if words < MIN_WORDS:
        return f"almost empty page ({words} word{'s' if words != 1 else ''} of text)"
    return None


_WORD = re.compile(r"\w+")


def page_outline(html: str) -> tuple[str, list[str], int]:
    """(title, first headings, number of visible words) of an HTML page."""
    import lxml.html
    from lxml import etree
    try:
        doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"),
                                            parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return "", [], len(_WORD.findall(html))
    title = " ".join((doc.findtext(".//title") or "").split())
    headings = [" ".join(h.text_content().split()) for h in doc.iter("h1", "h2")][:3]
    return title, headings, len(_WORD.findall(visible_text(doc)))


def visible_text(doc) -> str:
    """All text of a parsed page outside script/style/template/noscript and the head."""
    parts: list[str] = []
    body = doc.find("body")
    root = body if body is not None else doc
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "template",
                                                    "noscript", "head", "title"):
            continue
        if el.text and not _inside_hidden(el):
            parts.append(el.text)
        if el.tail and el.getparent() is not None and not _inside_hidden(el.getparent()):
            parts.append(el.tail)
    return " ".join(" ".join(parts).split())


def _inside_hidden(el) -> bool:
    while el is not None:
        if isinstance(el.tag, str) and el.tag in ("script", "style", "template", "noscript",
                                                 "head", "title"):
            return True
        el = el.getparent()
    return False


def main_text(html: str) -> str:
    """The main text of a page, by the extractor that made the snapshots' text.txt (so
    an unchanged page gives the same text); all visible text when it finds none."""
    from .extract.maintext import main_text as extract
    text = extract(html)
    if text:
        return text
    import lxml.html
    try:
        return visible_text(lxml.html.document_fromstring(html))
    except Exception:
        return ""


MAX_DIFF_WORDS = 20_000   # longer texts are compared on their first words only


def text_similarity(snapshot_text: str, live_text: str) -> float | None:
    """How much of the article's text is unchanged (1.0: word for word the same).

    Words are compared in order (difflib), within the stretch of the live text that
    the snapshot's text spans: a headline or a footer the extractor takes in or leaves
    out around the article is no change; any word edited, added or removed inside it,
    or missing at its ends, is. None when the snapshot has no words."""
    from difflib import SequenceMatcher
    old = _WORD.findall(snapshot_text.casefold())[:MAX_DIFF_WORDS]
    new = _WORD.findall(live_text.casefold())[:MAX_DIFF_WORDS]
    if not old:
        return None
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return 0.0
    window = new[blocks[0].b:blocks[-1].b + blocks[-1].size]
    if window == old:
        return 1.0
    matched = sum(b.size for b in blocks)
    return 2.0 * matched / (len(old) + len(window))


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    """The set of `size`-word shingles of a text (casefolded words; punctuation ignored)."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def containment(old: str, new: str, size: int = SHINGLE) -> float | None:
    """Share of `old`'s shingles found in `new` (1.0: all of old is still there).

    Containment rather than Jaccard: a live page adds menus, comments and teasers around
    the article, which must not count as change; only text that went missing does.
    None when `old` has no words to compare.
    """
    a = shingles(old, size)
    if not a:
        return None
    return len(a & shingles(new, size)) / len(a)


MIN_SNAPSHOT_WORDS = 20


def drift_score(snapshot_text: str, html: str, main: str | None = None) -> float | None:
    """How much of the snapshot's text the live page still holds (0..1), or None when
    the snapshot is too short to judge. The better of the main text (`main`, when the
    caller has it) and the whole visible text counts, so an extractor picking a
    different block on the live page is no drift."""
    if len(_WORD.findall(snapshot_text)) < MIN_SNAPSHOT_WORDS:
        return None
    best = containment(snapshot_text, main if main is not None else main_text(html)) or 0.0
    if best >= DRIFT_THRESHOLD:
        return best
    import lxml.html
    try:
        full = visible_text(lxml.html.document_fromstring(html))
    except Exception:
        full = ""
    return max(best, containment(snapshot_text, full) or 0.0)


# --------------------------------------------------------------------------- archive

def wayback_timestamp(date: str) -> str:
    """YYYYMMDD (or shorter) from an ISO date like 2017-06-26, 2017-06 or 2017; '' if none."""
    digits = re.sub(r"[^0-9]", "", (date or "")[:10])
    return digits if len(digits) in (4, 6, 8) else ""


def iso_from_timestamp(ts: str) -> str | None:
    """The ISO date of a 14-digit Wayback timestamp (20170626120000 -> 2017-06-26)."""
    if not re.fullmatch(r"\d{8}\d*", ts or ""):
        return None
    return f"{ts[0:4]}-{ts[4:6]}-{ts[6:8]}"


_WEB_PATH = re.compile(r"/web/(\d{8,14})[a-z_]*/")


class Wayback:
    """The Internet Archive: availability API (closest copy) and save endpoint."""

    def __init__(self, client: HttpClient, base_url: str, save_url: str):
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.save_url = save_url.rstrip("/")
        self._down: str | None = None   # once unreachable, not asked again this run

    def _get(self, url: str, **kwargs) -> Response:
        if self._down is not None:
            raise HttpError(f"the web archive is unreachable ({self._down})", url)
        try:
            return self.client.get(url, **kwargs)
        except (HostNotFound, ConnectionFailed, Timeout, TLSError) as exc:
            # Remember why, without the first link's address in it.
            self._down = type(exc).__name__ if not str(exc) else str(exc).split(" (")[0]
            raise

    def closest(self, url: str, date: str = "") -> tuple[str, str | None] | None:
        """(archive URL, ISO date) of the copy closest to `date`, or None when there is none.

        Network errors are raised (the caller reports them in the link's message)."""
        params = {"url": url}
        stamp = wayback_timestamp(date)
        if stamp:
            params["timestamp"] = stamp
        r = self._get(f"{self.base_url}/wayback/available", params=params,
                            accept="application/json", max_bytes=MB)
        if r.status != 200:
            raise HttpError(f"Wayback availability API answered HTTP {r.status}", r.url)
        try:
            closest = json.loads(r.text)["archived_snapshots"]["closest"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(closest, dict) or not closest.get("available", True) \
                or not closest.get("url"):
            return None
        if str(closest.get("status", "200"))[:1] not in ("2", "3"):
            return None   # the archive holds an error page: no use as a copy
        return closest["url"], iso_from_timestamp(str(closest.get("timestamp", "")))

    def save(self, url: str) -> tuple[str, str | None] | None:
        """Ask the save endpoint to archive `url`; (archive URL, ISO date) when it says where."""
        target = f"{self.save_url}/save/{quote(url, safe=':/?&=%#+~,;@!$*()')}"
        r = self._get(target, max_bytes=MB, allow_truncate=True)
        if r.status >= 400:
            raise HttpError(f"Wayback save endpoint answered HTTP {r.status}", target)
        for candidate in (r.final_url, r.headers.get("content-location", ""),
                          r.headers.get("location", "")):
            match = _WEB_PATH.search(candidate or "")
            if match:
                path = candidate[match.start():]
                return (f"{self.save_url}{path}" if candidate.startswith("/")
                        else candidate), iso_from_timestamp(match.group(1))
        return None


def recover(result: Result, link: Link, wayback: Wayback, save: bool = False) -> None:
    """Fill `archive_url`/`archive_date` for links that need a copy (in place).

    Broken, gone, soft-404 and drifted links get the copy closest to their `urldate`;
    with `save`, live links without any copy are submitted to the save endpoint."""
    if link.field != "url":
        return
    if link.archiveurl:
        result.archive_url = link.archiveurl   # the entry already has one
        return
    needs = result.status in RECOVER
    if not needs and not save:
        return
    try:
        found = wayback.closest(link.url, link.urldate)
        if found is None and save and result.status in (Status.OK, Status.REDIRECTED):
            found = wayback.save(link.url)
            if found is None:
                result.message = _join(result.message, "submitted to the web archive")
        if found is not None:
            result.archive_url, result.archive_date = found
        elif needs:
            result.message = _join(result.message, "no archived copy found")
    except (HttpError, BadURL) as exc:
        result.message = _join(result.message, f"web archive lookup failed: {exc}")


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


# --------------------------------------------------------------------------- run

@dataclass
class CheckOptions:
    concurrency: int = 16
    per_host: int = 2
    timeout: float = 20.0
    threshold: float = DRIFT_THRESHOLD
    archive: bool = False          # --archive: submit live links without a copy


def http_settings(settings, options: CheckOptions) -> HttpSettings:
    """Client settings for link checking: short waits, one retry, a Retry-After cap."""
    t = max(0.1, float(options.timeout))
    return HttpSettings(
        user_agent=settings.user_agent or None, email=settings.email or None,
        connect_timeout=min(10.0, t), read_timeout=t, deadline=2 * t + 10,
        max_bytes=PAGE_CAP, retries=1, backoff=0.5, retry_after_cap=min(10.0, t),
        per_host=max(1, options.per_host), pool_size=max(1, options.concurrency),
        host_spacing=max(0.0, float(getattr(settings, "host_spacing", 0.0))),
        allow_private_addresses=getattr(settings, "allow_private_addresses", True))


def check_all(links: list[Link], client: HttpClient, options: CheckOptions,
              wayback: Wayback | None = None, stop: threading.Event | None = None,
              ) -> Iterator[Result]:
    """Check links concurrently and yield results as they finish.

    A URL shared by several entries is fetched once. Workers pick the next URL whose host
    has a free slot (round-robin over hosts), so a long run of links to one site never
    occupies all workers while other hosts wait. Closing the generator (or `stop`) makes
    workers take no new URLs; they are daemon threads, so a request still running cannot
    hold up the exit.
    """
    stop = stop or threading.Event()
    prober = Prober(client)
    groups: dict[str, list[Link]] = {}
    for link in links:
        groups.setdefault(link.url, []).append(link)
    scheduler = _HostScheduler(list(groups), options.per_host)
    done: queue.Queue = queue.Queue()

    # `concurrency` requests in flight at once; a few more workers than that, so that
    # reading a page (soft 404, drift) never holds a request slot.
    in_flight = threading.BoundedSemaphore(options.concurrency)

    def work() -> None:
        while not stop.is_set():
            with in_flight:
                url = scheduler.take(stop)
                if url is None:
                    break
                try:
                    probe = prober.probe(groups[url][0])
                finally:
                    scheduler.release(url)
            for link in groups[url]:
                if stop.is_set():
                    break
                try:
                    result = classify(link, probe, options.threshold)
                    if wayback is not None:
                        recover(result, link, wayback, save=options.archive)
                except Exception as exc:   # a bug must cost one link, not the whole run
                    result = Result(link.key, link.url, Status.ERROR, field=link.field,
                                    message=f"internal error: {type(exc).__name__}: {exc}")
                result.checked_at = now_iso()
                done.put(result)
        done.put(None)

    workers = [threading.Thread(target=work, daemon=True, name=f"check-{i}")
               for i in range(max(1, min(options.concurrency + 4, len(groups))))]
    for w in workers:
        w.start()
    finished = 0
    try:
        while finished < len(workers):
            try:
                item = done.get(timeout=0.2)
            except queue.Empty:
                continue
            if item is None:
                finished += 1
            else:
                yield item
    finally:
        stop.set()
        scheduler.wake()


class _HostScheduler:
    """Hands out URLs so that no host has more than `per_host` of them in flight."""

    def __init__(self, urls: list[str], per_host: int):
        self.per_host = max(1, per_host)
        self.pending: dict[str, list[str]] = {}
        for url in urls:
            self.pending.setdefault(host_of(url), []).append(url)
        for lst in self.pending.values():
            lst.reverse()   # pop() from the end keeps the library order
        self.active: dict[str, int] = {}
        self.hosts: list[str] = list(self.pending)
        self.turn = 0
        self.cond = threading.Condition()

    def take(self, stop: threading.Event) -> str | None:
        with self.cond:
            while not stop.is_set():
                if not self.hosts:
                    return None
                n = len(self.hosts)
                for i in range(n):
                    host = self.hosts[(self.turn + i) % n]
                    if self.active.get(host, 0) < self.per_host:
                        url = self.pending[host].pop()
                        self.active[host] = self.active.get(host, 0) + 1
                        if not self.pending[host]:
                            self.hosts.remove(host)
                        self.turn = (self.turn + i + 1) % max(1, len(self.hosts))
                        return url
                self.cond.wait(0.5)
            return None

    def release(self, url: str) -> None:
        with self.cond:
            host = host_of(url)
            self.active[host] -= 1
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------- fix

def fixes(results: Iterable[Result], old_url_field: str = "origurl",
          current: Callable[[str], dict[str, str]] | None = None
          ) -> dict[str, dict[str, str]]:
    """Field changes (plain text) per key that `--fix` makes (pure).

    Permanent redirects of `url`: url := new URL, and the old URL is kept in
    `old_url_field` unless that field already holds an earlier original. Found archive
    copies: archiveurl/archivedate, for entries without an archiveurl. `current(key)`
    gives the entry's fields now; a result is skipped when its URL is no longer there
    (the entry was edited while the check ran).
    """
    changes: dict[str, dict[str, str]] = {}
    for r in results:
        if r.field != "url":
            continue
        fields_now = current(r.key) if current else {}
        if current and fields_now.get("url", "").strip() != r.url:
            continue
        change: dict[str, str] = {}
        if r.status is Status.REDIRECTED and r.new_url:
            change["url"] = r.new_url
            if not fields_now.get(old_url_field):
                change[old_url_field] = r.url
        if r.archive_url and not fields_now.get("archiveurl"):
            change["archiveurl"] = r.archive_url
            if r.archive_date:
                change["archivedate"] = r.archive_date
        if change:
            changes.setdefault(r.key, {}).update(change)
    return changes


def apply_fixes(path, results: list[Result], settings) -> dict[str, dict[str, str]]:
    """Write `fixes` into library.bib (only those entries' text changes); returns them."""
    from . import bibfile
    from .library import Library

    with Library.update(path, settings) as lib:
        def current(key: str) -> dict[str, str]:
            key = lib.resolve_key(key, required=False)
            return lib.record(key, resolve=False).fields if key else {"url": "\0gone"}

        changes = fixes(results, settings.old_url_field or "origurl", current)
        for key, values in changes.items():
            lib.set_fields(key, {k: bibfile.format_value(v, k) for k, v in values.items()})
    return changes


@dataclass
class CheckRun:
    """What `run_check` did: results in library order, fixes written, and how far it got."""

    results: list
    fixed: dict
    checked: int
    todo: int
    interrupted: bool
    network_down: bool = False
    cached: int = 0                # results reused from index/links.json


def saved_page(library_folder, key: str) -> str | None:
    """The snapshot's saved HTML page, decoded, or None (no page.html, or unreadable)."""
    from . import snapshots
    from .http import decode_body
    if not snapshots.has_snapshot(library_folder, key):
        return None
    try:
        path = snapshots.folder(library_folder, key) / "page.html"
        return decode_body(path.read_bytes(), None)[0]
    except (OSError, ValueError):
        return None


def looks_offline(results: list, archive_url: str = "") -> bool:
    """True when not a single host could be looked up: every checked link failed in DNS,
    and so does the web archive's host. Then the machine is offline, and the links are
    not gone; only a host that fails while others resolve is `gone`."""
    if not results or not all(r.unresolved for r in results):
        return False
    return not resolves(host_of(archive_url)) if archive_url else True


def resolves(host: str) -> bool:
    """Whether DNS knows `host` (a name lookup only, no request)."""
    import socket
    if not host:
        return False
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return True


def run_check(path, keys, settings, *, max_age=None, archive=False, fix=False,
              on_result=None, on_start=None) -> CheckRun:
    """Collect the links of the library (or of `keys`), reuse cached verdicts younger than
    `max_age` seconds, check the rest, cache the results and, with `fix`, write what was
    found. Ctrl-C stops the checking cleanly: what was checked is kept, nothing is fixed.
    `on_start(n)` learns how many links are to be checked, `on_result(result)` each
    verdict as it comes."""
    from pathlib import Path

    from . import links_cache, snapshots
    from .http import HttpClient
    from .library import Library
    folder = Path(path).parent
    lib = Library.load(path, settings)
    all_links = collect(lib, keys, snapshot_text=lambda k: snapshots.text(folder, k),
                        snapshot_page=lambda k: saved_page(folder, k))
    results, todo = [], all_links
    if max_age is not None:
        cached, todo = links_cache.load(folder), []
        for link in all_links:
            hit = links_cache.fresh(cached, link.key, link.field, link.url, max_age)
            if hit:
                result = Result.from_dict(hit)
                result.cached = True
                results.append(result)
            else:
                todo.append(link)
    options = CheckOptions(concurrency=settings.concurrency, per_host=settings.per_host,
                           timeout=settings.timeout, archive=archive)
    checked, interrupted = [], False
    if on_start:
        on_start(len(todo))
    with HttpClient(http_settings(settings, options)) as client:
        wayback = Wayback(client, settings.wayback_url, settings.wayback_save_url)
        run = check_all(todo, client, options, wayback)
        try:
            for result in run:
                checked.append(result)
                if on_result:
                    on_result(result)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            run.close()
    offline = looks_offline(checked, settings.wayback_url)
    if checked and not offline:   # verdicts made offline say nothing about the links
        links_cache.save(folder, [r.as_dict() for r in checked])
    results += checked
    order = {(link.key, link.field, link.url): i for i, link in enumerate(all_links)}
    results.sort(key=lambda r: order.get((r.key, r.field, r.url), len(order)))
    fixed = apply_fixes(path, results, settings) if fix and not (interrupted or offline) \
        else {}
    return CheckRun(results, fixed, len(checked), len(todo), interrupted, offline,
                    len(results) - len(checked))


def cached_results(path, keys=None, settings=None) -> tuple[list[Result], int]:
    """The last cached verdict on each link of the library (or of `keys`), however old,
    without touching the network; and how many links have none (never checked, or
    checked under another URL). For `check --cached` and reports."""
    from pathlib import Path

    from . import links_cache
    from .library import Library
    lib = Library.load(path, settings)
    cached = links_cache.load(Path(path).parent)
    results, missing = [], 0
    for link in collect(lib, keys):
        hit = cached.get(links_cache.cache_key(link.key, link.field, link.url))
        try:
            result = Result.from_dict(hit) if hit else None
        except (KeyError, TypeError, ValueError):
            result = None
        if result is None:
            missing += 1
            continue
        result.cached = True
        results.append(result)
    return results, missing
