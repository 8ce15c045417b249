"""The web application: routes, and the middleware every page goes through.

Security lives here, once, rather than in each view: JSON negotiation, request-size
limits, signed sessions, allowed Host names, security headers (a Content-Security-Policy
without inline scripts), error pages without stack traces. Every POST view reads its
form through `views.post_form`, which checks the CSRF token.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from pathlib import Path
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import Settings
from ..errors import ClippingsError
from ..lru import LRU
from . import views
from .library_state import LibraryState
from .pending import Pending
from .throttle import Throttle, logins_path
from .users import Users

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'self'")
# Raw snapshot files: a unique opaque origin, no scripts, no forms, no plugins.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
NOT_JSON_PREFIXES = ("/static/", "/snapshot/", "/links/")


class Config:
    """What the views need to know about this server."""

    def __init__(self, bib_path: Path, settings: Settings, read_only: bool, users: Users,
                 max_upload_mb: float, page_cache: int = 256, secret: str = ""):
        self.bib_path = Path(bib_path)
        self.folder = self.bib_path.parent
        self.settings = settings
        self.read_only = read_only
        self._users = users
        self.max_upload = int(max_upload_mb * 1024 * 1024)
        self.state = LibraryState(self.bib_path, settings)
        self.throttle = Throttle(logins_path(self.folder))
        self.pending = Pending(self.folder, secret or secrets.token_urlsafe(32))
        self.pages = PageCache(page_cache)

    @property
    def users(self) -> Users:
        """The accounts as the file has them now."""
        return self._users.refresh()


class PageCache:
    """The last search pages computed, for the current library version only."""

    def __init__(self, size: int):
        self.pages = LRU(size)
        self.version = None
        self.lock = threading.Lock()   # a version change and its first page together

    @property
    def size(self) -> int:
        return self.pages.limit

    def get(self, key):
        return self.pages.get(key)

    def put(self, key, page, snapshot) -> None:
        with self.lock:
            if self.version is not snapshot:   # the library changed: drop the old pages
                self.pages.clear()
                self.version = snapshot
            self.pages.put(key, page)


KEY_PREFIXES = ("/entry/", "/snapshot/")


class KeySegments:
    """Keys may hold `/` (`DBLP:journals/corr/Roters16`): their URLs carry it as %2F
    (views.urlkey), which the server decodes before routing, splitting the key. Under
    /entry/ and /snapshot/ the path is decoded again from the raw one, segment by segment,
    with a `/` inside a segment written %2F: keys never hold `%`, so the `key` convertor
    turns it back unambiguously."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (scope["type"] == "http" and scope["path"].startswith(KEY_PREFIXES)
                and scope.get("raw_path")):
            raw = scope["raw_path"].decode("latin-1")
            path = "/".join(unquote(part).replace("/", "%2F") for part in raw.split("/"))
            scope = dict(scope, path=path)
        await self.app(scope, receive, send)


class KeyConvertor(Convertor):
    """A key in a route, one segment as KeySegments leaves it."""
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value.replace("%2F", "/")

    def to_string(self, value: str) -> str:
        return views.urlkey(value)


register_url_convertor("key", KeyConvertor())


class JsonSuffix:
    """`/entry/KEY.json` is `/entry/KEY` answered as JSON; so is `Accept: application/json`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            wants = False
            if path.endswith(".json") and not path.startswith(NOT_JSON_PREFIXES):
                scope = dict(scope, path=path[:-5] or "/", raw_path=None)
                wants = True
            else:
                accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
                first = accept.split(",")[0].strip().lower()
                wants = first.startswith("application/json")
            scope.setdefault("state", {})["json"] = wants
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses request bodies over the limit (413) before anything reads them."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await _too_large(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise views.too_large(scope["app"].state.config.max_upload)
            return message
        await self.app(scope, limited, send)


async def _too_large(scope, receive, send):
    from starlette.requests import Request
    response = await views.exception_page(
        Request(scope, receive), views.too_large(scope["app"].state.config.max_upload))
    await response(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"same-origin"),
                            (b"cross-origin-opener-policy", b"same-origin")]
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                message = dict(message, headers=headers)
            await send(message)
        await self.app(scope, receive, with_headers)


def create_app(bib_path: Path, settings: Settings, *, read_only: bool = False,
               users: Users | None = None, allowed_hosts: list[str] | None = None,
               max_upload_mb: float | None = None, page_cache: int = 256,
               secure_cookies: bool = False, warm: bool = False) -> Starlette:
    """The application for the library at `bib_path`; `secure_cookies` when users reach
    it over HTTPS (a TLS proxy in front): the session cookie is then never sent in clear.
    `warm`: as it starts, decode the library and prepare its searches in the background
    (`clippings serve` does)."""
    users = users or Users.of(Path(bib_path).parent)
    # The signing key lives in web-users.json (shared by every worker and restart) once
    # there is one; a server started without accounts makes up its own.
    secret = users.secret() if users.configured or users.data.get("secret") \
        else secrets.token_urlsafe(32)
    config = Config(bib_path, settings, read_only, users,
                    max_upload_mb if max_upload_mb is not None else settings.max_download_mb,
                    page_cache, secret)
    routes = [
        Route("/", views.search_view, name="search"),
        Route("/browse/{facet}", views.browse_view, name="browse"),
        Route("/entry/{key:key}", views.entry_view, name="entry"),
        Route("/entry/{key:key}/edit", views.edit_view, methods=["GET", "POST"],
              name="edit"),
        Route("/entry/{key:key}/rename", views.rename_view, methods=["POST"],
              name="rename"),
        Route("/entry/{key:key}/remove", views.remove_view, methods=["GET", "POST"],
              name="remove"),
        Route("/entry/{key:key}/keywords", views.keywords_view, methods=["POST"],
              name="keywords"),
        Route("/entry/{key:key}/check", views.check_view, methods=["POST"], name="check"),
        Route("/entry/{key:key}/similar", views.similar_view, name="similar"),
        Route("/snapshot/{key:key}/{name}", views.snapshot_file, name="snapshot"),
        Route("/add", views.add_view, methods=["GET", "POST"], name="add"),
        Route("/add/proposal/{pid}", views.proposal_view, methods=["GET", "POST"],
              name="proposal"),
        Route("/add/batch/{bid}", views.batch_view, name="batch"),
        Route("/clip", views.clip_view, methods=["POST"], name="clip"),
        Route("/cite", views.cite_view, name="cite"),
        Route("/links", views.links_view, name="links"),
        Route("/links/rot.svg", views.rot_chart, name="rot_chart"),
        Route("/export", views.export_view, name="export"),
        Route("/login", views.login_view, methods=["GET", "POST"], name="login"),
        Route("/logout", views.logout_view, methods=["POST"], name="logout"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(KeySegments),   # before JsonSuffix, which drops raw_path
        Middleware(JsonSuffix),
    ]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    middleware += [
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="clippings_session",
                   max_age=14 * 24 * 3600, same_site="lax", https_only=secure_cookies),
        # inside the session: its 413 is a page in the layout and the user's language
        Middleware(BodyLimit, limit=config.max_upload + 16 * 1024),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        if warm:
            # In the background: the server answers at once, and its first searches
            # wait for this one preparation (behind its locks) instead of each doing it.
            threading.Thread(target=_warm, args=(config.state,), daemon=True,
                             name="clippings-warm").start()
        yield

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={Exception: views.exception_page,
                                        HTTPException: views.exception_page,
                                        # a user's mistake, not a server error to log
                                        ClippingsError: views.exception_page})
    app.state.config = config
    return app


def _warm(state: LibraryState) -> None:
    try:
        state.warm()
    except Exception:   # noqa: BLE001
        # A broken library.bib, a damaged index, a database that is down: the request
        # that needs it meets the same failure and reports it.
        pass


# `clippings serve --workers N` starts N processes; uvicorn imports the app in each by
# name, so the options travel in the environment.
SERVE_ENV = "CLIPPINGS_SERVE_OPTIONS"


def app_from_environment() -> Starlette:
    """The app as `clippings serve` configured it (for uvicorn's worker processes)."""
    import json
    import os
    from ..config import load_settings
    options = json.loads(os.environ[SERVE_ENV])
    bib = Path(options.pop("bib_path"))
    settings = load_settings(bib.parent)
    settings.allow_private_addresses = options.pop("allow_private_addresses")
    from ..search.backend import use_backend
    use_backend(settings, options.pop("backend", None))   # as `serve` did before forking
    return create_app(bib, settings, warm=True, **options)
