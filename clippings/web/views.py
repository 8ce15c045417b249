"""The pages. Each view parses the request, calls the package function the command line
calls for the same job, and renders a template, or the CLI's JSON shape when asked
(`Accept: application/json` or a `.json` suffix). Library work runs in a worker thread,
so one slow request never stalls the others."""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import threading
import weakref
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import (FileResponse, HTMLResponse, JSONResponse, RedirectResponse,
                                 Response)

from ..errors import ClippingsError, ConflictError, NetworkError, UsageError
from ..search.backend import DatabaseStopped
from . import i18n

HERE = Path(__file__).parent
PER_PAGE = 20
FACET_NAMES = ("decade", "year", "type", "journal", "lang", "keyword", "link")
EDIT_FIELDS = ("title", "subtitle", "author", "editor", "date", "journaltitle",
               "organization", "url", "langid", "keywords", "abstract", "note")
SNAPSHOT_FILES = {"page.html": "text/html; charset=utf-8", "document.pdf": "application/pdf",
                  "text.txt": "text/plain; charset=utf-8"}
EXPORT_TYPES = {"bibtex": ("bib", "application/x-bibtex"), "biblatex": ("bib", "application/x-bibtex"),
                "ris": ("ris", "application/x-research-info-systems"),
                "csljson": ("json", "application/vnd.citationstyles.csl+json"),
                "html": ("html", "text/html")}
UPLOAD_TYPES = {".pdf": b"%PDF-", ".html": None, ".htm": None}
LINK_CLASSES = {"ok": "ok", "redirected": "warn", "blocked": "warn", "timeout": "warn",
                "drifted": "warn", "broken": "bad", "gone": "bad", "soft_404": "bad",
                "tls_error": "bad", "error": "warn", "unchecked": "none"}

# The templates ship with the package and do not change under a running server: no
# stat of each template file on every page.
env = Environment(loader=FileSystemLoader(HERE / "templates"),
                  autoescape=select_autoescape(["html", "xml"], default=True),
                  trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def safe_url(value) -> str | None:
    """Only http(s) addresses become links: never javascript:, data: or the like."""
    text = str(value or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else None


_MARKED = re.compile(r"\*\*(.+?)\*\*")


def highlight(snippet: str) -> Markup:
    """The search snippet with its **matched words** as <mark>, everything else escaped."""
    pieces = [str(escape(piece)) for piece in _MARKED.split(snippet or "")]
    pieces[1::2] = [f"<mark>{piece}</mark>" for piece in pieces[1::2]]
    return Markup("".join(pieces))


def mark_spans(text: str, spans) -> Markup:
    """`text` escaped, its matched words (`spans`, as `Hit.title_spans`) as <mark>."""
    from ..search.query import marked_pieces
    return Markup("".join(f"<mark>{escape(piece)}</mark>" if matched else str(escape(piece))
                          for piece, matched in marked_pieces(text, spans)))


def without_cli_hint(message: str) -> str:
    """A checker's message without its advice for the command line (no --force here)."""
    from ..validate import FORCE_HINT
    return re.sub(r"[;,]?\s*" + re.escape(FORCE_HINT), "", str(message))


def urlkey(key: str) -> str:
    """A key as one URL path segment. Keys may hold `/` (`DBLP:journals/corr/Roters16`),
    `?`, `&` or letters like `ü`: all percent-encoded, `/` as %2F (app.KeySegments keeps
    it inside the segment when routing)."""
    return quote(str(key), safe=":@")


def entry_url(key: str, rest: str = "") -> str:
    return "/entry/" + urlkey(key) + rest


env.filters["safe_url"] = safe_url
env.filters["urlkey"] = urlkey
env.filters["without_cli_hint"] = without_cli_hint
env.filters["highlight"] = highlight
env.filters["mark_spans"] = mark_spans
env.globals["link_class"] = lambda status: LINK_CLASSES.get(status or "unchecked", "none")


# -- plumbing ---------------------------------------------------------------------------

def config(request):
    return request.app.state.config


def wants_json(request) -> bool:
    return bool(request.scope.get("state", {}).get("json"))


def user_of(request) -> str | None:
    name = request.session.get("user")
    cfg = config(request)
    return name if name and name in cfg.users.data["users"] else None


def can_edit(request) -> bool:
    return bool(user_of(request)) and not config(request).read_only


def csrf_token(request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def language(request) -> str:
    """The page's language, from the browser's (German first)."""
    return i18n.pick(request.headers.get("accept-language"))


def render(request, template: str, status: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    cfg = config(request)
    context.update(request=request, t=i18n.translator(lang), lang=lang,
                   field_label=lambda name: i18n.field_label(lang, name),
                   value_label=lambda facet, value: i18n.value_label(lang, facet, value),
                   error_kind=lambda name: i18n.ERROR_KINDS.get(name, "err_value"),
                   language_name=lambda value: i18n.language_name(lang, value),
                   user=user_of(request), can_edit=can_edit(request),
                   read_only=cfg.read_only, csrf=csrf_token(request),
                   accounts=cfg.users.configured)
    html = env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status,
                        headers={"Vary": "Accept, Accept-Language, Cookie"})


def json_response(data, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Vary": "Accept"})


def error_line(request, exc: ClippingsError) -> str:
    """What a page says of `exc`: in its language; a JSON answer keeps the English line
    (programs read it)."""
    return exc.line_for("en" if wants_json(request) else language(request))


def http_error(status: int, english: str, text_id: str, **values) -> HTTPException:
    """An HTTPException whose page shows TEXTS[text_id] in the request's language; a JSON
    answer keeps `english` (programs may read it)."""
    exc = HTTPException(status, english)
    exc.text_id, exc.values = text_id, values
    return exc


def too_large(max_upload: int) -> HTTPException:
    return http_error(413, "the upload is too large", "err_too_large",
                      mb=f"{round(max_upload / 2**20, 1):g}")


async def post_form(request):
    """The POSTed form, after checking its CSRF token against the session's."""
    cfg = config(request)
    try:
        form = await request.form(max_files=1, max_fields=500, max_part_size=cfg.max_upload)
    except HTTPException as exc:
        if "maximum size" in str(exc.detail):
            raise too_large(cfg.max_upload) from None
        raise
    except Exception:
        raise HTTPException(400, "malformed form") from None
    expected = request.session.get("csrf", "")
    given = str(form.get("csrf", "") or request.headers.get("x-csrf-token", ""))
    if not expected or not hmac.compare_digest(expected, given):
        raise http_error(403, "the form's security token is missing or expired; reload "
                              "the page and try again", "err_csrf")
    return form


def require_editor(request) -> str:
    if config(request).read_only:
        raise http_error(403, "this server is read-only", "err_read_only")
    name = user_of(request)
    if not name:
        raise HTTPException(401, "log in to make changes")
    return name


def status_for(exc: Exception) -> int:
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, NetworkError):
        return 502
    if isinstance(exc, DatabaseStopped):
        return 503
    if isinstance(exc, UsageError) and str(exc).startswith("unknown key"):
        return 404
    if isinstance(exc, ClippingsError):
        return 400
    return 500


async def error_response(request, status: int, message: str) -> Response:
    if wants_json(request):
        return json_response({"error": message, "status": status}, status)
    try:
        return render(request, "error.html", status=status, status_code=status,
                      message=message)
    except Exception:   # e.g. a broken session: still no stack trace
        return HTMLResponse(f"<h1>{status}</h1><p>{escape(message)}</p>", status_code=status)


async def exception_page(request, exc: Exception) -> Response:
    status = status_for(exc)
    if isinstance(exc, HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if getattr(exc, "text_id", None) and not wants_json(request):
            message = i18n.translator(language(request))(exc.text_id, **exc.values)
    elif isinstance(exc, ClippingsError):
        message = error_line(request, exc)
    else:
        import logging
        logging.getLogger("clippings.web").exception("internal error")
        message = "internal error (the server's log has the details)"
    response = await error_response(request, status, message)
    if status == 401 and not wants_json(request):
        return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)
    return response


def snapshot_now(request):
    return config(request).state.current()


def _filters(params) -> dict[str, list[str]]:
    return {name: [v for v in params.getlist(name) if v] for name in FACET_NAMES
            if params.getlist(name)}


def _int(value, default: int) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


# -- searching and browsing -----------------------------------------------------------

def run_search(request, params):
    from .. import search
    cfg = config(request)
    text = params.get("q", "").strip()
    if text:
        from ..search.query import prepare
        prepare(text)   # a bad query is reported before any indexing
    snap = cfg.state.searchable() if text else snapshot_now(request)
    per_page = min(_int(params.get("per_page"), PER_PAGE) or PER_PAGE, 200)
    page_no = max(1, _int(params.get("page"), 1))
    filters = _filters(params)
    sort = params.get("sort", "")
    # Pages of one library version are kept: paging, narrowing and going back to a
    # search ask for the same page again; any change to the library starts afresh.
    exact = params.get("exact") == "1"   # every match listed, not a sample's
    cache_key = (id(snap), text, tuple(sorted((k, tuple(v)) for k, v in filters.items())),
                 sort, page_no, per_page, exact)
    page = cfg.pages.get(cache_key)
    if page is None:
        page = search.results_page(cfg.bib_path, text, filters, offset=(page_no - 1) * per_page,
                           limit=per_page, sort=sort, records=snap.records,
                           statuses=snap.statuses, settings=cfg.settings, rows=snap.rows,
                           check_index=False, exact=exact)
        cfg.pages.put(cache_key, page, snap)
    return page, snap


async def search_view(request):
    params = request.query_params
    page, snap = await run_search_async(request, params)
    if wants_json(request):
        data = page.as_json()
        return json_response(data)
    base = [(k, v) for k, v in params.multi_items() if k not in ("page",)]

    def url_with(**change) -> str:
        items = [(k, v) for k, v in base if k not in change]
        for k, v in change.items():
            if v is not None:
                items.append((k, v))
        return "/?" + urlencode(items) if items else "/"

    base_query = urlencode(base)
    active = set(base)

    def toggle(name: str, value: str) -> str:
        if (name, value) in active:
            items = list(base)
            items.remove((name, value))
            return "/?" + urlencode(items) if items else "/"
        # Adding a value (a page has a few hundred such links): the rest is encoded once.
        added = urlencode([(name, value)])
        return f"/?{base_query}&{added}" if base_query else f"/?{added}"

    per_page = page.limit or PER_PAGE
    pages = max(1, -(-page.listed // per_page))
    current = page.offset // per_page + 1
    if current > pages:
        # A page past the end (an old link, a shrunken library) goes to the last one
        # rather than showing "page 99 / 4" with nothing on it.
        return RedirectResponse(url_with(page=pages if pages > 1 else None), 303)
    lang = language(request)
    return render(request, "search.html", page=page, snap=snap, toggle=toggle,
                  facet_groups=facet_groups(page, toggle, lang),
                  url_with=url_with, pages=pages, current=current,
                  active=[(n, v) for n, vs in page.filters.items() for v in vs],
                  shown=len(page.hits), export_formats=EXPORT_TYPES,
                  removed=request.session.pop("removed", None),   # shown once
                  query_items=[(k, v) for k, v in base if k in FACET_NAMES or k == "q"])


FACET_VALUES_SHOWN = 12


def facet_groups(page, toggle, lang: str) -> list[tuple[str, list[tuple]]]:
    """The facets beside a result list: [(facet, [(label, count, link, chosen), ...])],
    years once a decade is chosen or when all hits share one decade. Made here rather
    than in the template: a page shows about seventy of them."""
    by_year = page.filters.get("decade") or page.filters.get("year") or \
        len(page.facets.get("decade", [])) <= 1
    groups = []
    for name in FACET_NAMES:
        if name == ("decade" if by_year else "year"):
            continue
        chosen = page.filters.get(name, [])
        items = [(i18n.value_label(lang, name, value), count, toggle(name, value),
                  value in chosen)
                 for value, count in page.facets.get(name, [])[:FACET_VALUES_SHOWN]]
        if items:
            groups.append((name, items))
    return groups


# Searches are Python work under one GIL: more than two of them at once in a process
# only take turns, and the turns cost (8 clients of one worker: 36 ms of CPU a new
# search instead of 23, 30 pages/s instead of 41). Others wait in the event loop.
SEARCH_THREADS = 2
_search_slots: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]" \
    = weakref.WeakKeyDictionary()


async def searching(fn, *args):
    """`fn(*args)`, a search (pages, facets, similar clippings), in a worker thread once
    one of the process's SEARCH_THREADS slots is free."""
    # One limiter per event loop (a worker process has one; tests start several).
    loop = asyncio.get_running_loop()
    slots = _search_slots.get(loop)
    if slots is None:
        slots = _search_slots[loop] = anyio.CapacityLimiter(SEARCH_THREADS)
    return await anyio.to_thread.run_sync(fn, *args, limiter=slots)


async def run_search_async(request, params):
    return await searching(run_search, request, params)


async def browse_view(request):
    facet = request.path_params["facet"]
    if facet not in FACET_NAMES:
        raise http_error(404, f"no such facet {facet!r}", "err_no_facet", facet=facet)
    from .. import search
    cfg = config(request)
    snap = snapshot_now(request)
    page = await searching(lambda: search.results_page(
        cfg.bib_path, "", None, limit=1, records=snap.records, statuses=snap.statuses,
        facet_limit=None, rows=snap.rows, check_index=False))
    values = page.facets.get(facet, [])
    if facet in ("journal", "keyword"):
        values = sorted(values, key=lambda vc: vc[0].casefold())
    if wants_json(request):
        return json_response([{"value": v, "count": n} for v, n in values])
    return render(request, "browse.html", facet=facet, values=values)


# -- one entry ------------------------------------------------------------------------

def _entry_data(request, key: str):
    from .. import snapshots
    from ..manage import record_json
    snap = snapshot_now(request)
    key = snap.lib.resolve_key(key)
    rec = snap.records.get(key) or snap.lib.record(key)   # decoded once per version
    data = record_json(rec)
    data["snapshot"] = snapshots.info(config(request).folder, key)
    data["link"] = snap.links.get(key)
    return snap, key, rec, data


SNAPSHOT_TEXT_SHOWN = 20_000   # characters of a snapshot's text on the entry page


def _text_start(text: str) -> tuple[str, bool]:
    """The start of a snapshot's text and whether it was cut: a page of many megabytes
    would make the entry page as big (a minute on a phone); the rest has its own link."""
    if len(text) <= SNAPSHOT_TEXT_SHOWN:
        return text, False
    head = text[:SNAPSHOT_TEXT_SHOWN]
    for end in ("\n\n", "\n", " "):   # at a paragraph, else a line, else a word
        at = head.rfind(end)
        if at > SNAPSHOT_TEXT_SHOWN // 2:
            return head[:at].rstrip(), True
    return head, True


async def entry_view(request):
    from .. import snapshots
    from ..manage import entry_version, field_values
    cfg = config(request)
    snap, key, rec, data = await run_in_threadpool(_entry_data, request,
                                                   request.path_params["key"])
    if wants_json(request):
        return json_response(data)
    # one character more than is shown says whether there is more: a 17 MB text is not
    # read for its first 20,000 characters
    text = snapshots.text(cfg.folder, key, SNAPSHOT_TEXT_SHOWN + 1) if data["snapshot"] \
        else None
    text, text_cut = _text_start(text or "")
    bibtex = snap.lib.entry_text(key)
    return render(request, "entry.html", key=key, rec=rec, data=data,
                  fields=list(field_values(rec).items()),
                  snapshot=data["snapshot"], link=data["link"], text=text,
                  text_cut=text_cut,
                  bibtex=bibtex, version=entry_version(bibtex),
                  message=request.query_params.get("message", ""))


async def similar_view(request):
    """Similar clippings: a list the entry page loads after it is shown (a search of
    its own), or a page of its own without JavaScript."""
    from .. import search
    cfg = config(request)
    snap = snapshot_now(request)
    key = snap.lib.resolve_key(request.path_params["key"])
    await run_in_threadpool(cfg.state.searchable)
    hits = await searching(search.similar, cfg.bib_path, snap.records[key], 5,
                           cfg.settings, False)
    if wants_json(request):
        return json_response([h.as_json() for h in hits])
    fragment = request.headers.get("x-fragment") == "1"
    return render(request, "similar_fragment.html" if fragment else "similar.html",
                  key=key, rec=snap.records[key], similar=hits)


async def snapshot_file(request):
    """A snapshot's saved file, sandboxed: the page's scripts never run in our origin."""
    from .. import snapshots
    from ..keys import is_valid_key
    key, name = request.path_params["key"], request.path_params["name"]
    if name not in SNAPSHOT_FILES or not is_valid_key(key) or key in (".", ".."):
        raise http_error(404, "no such snapshot file", "err_no_snapshot_file")
    snap = snapshot_now(request)
    key = snap.lib.resolve_key(key)
    root = (config(request).folder / snapshots.SNAPSHOTS).resolve()
    path = (snapshots.folder(config(request).folder, key) / name).resolve()
    if root not in path.parents or not path.is_file():
        raise http_error(404, "no such snapshot file", "err_no_snapshot_file")
    headers = {"Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; "
                                          "style-src 'unsafe-inline'",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if name == "document.pdf":
        # Headers are Latin-1: the key (`Железногорск2020`, `a/b`) goes in as filename*.
        fallback = re.sub(r"[^A-Za-z0-9_.:-]", "_", key)
        headers["Content-Disposition"] = (f'attachment; filename="{fallback}.pdf"; '
                                          f"filename*=UTF-8''{quote(key, safe='')}.pdf")
    return FileResponse(path, media_type=SNAPSHOT_FILES[name], headers=headers)


def _form_values(form) -> dict[str, str]:
    values = {}
    for name in EDIT_FIELDS:
        if name in form:
            values[name] = str(form.get(name, ""))
    for extra_name, extra_value in zip(form.getlist("extra_name"), form.getlist("extra_value")):
        extra_name = str(extra_name).strip().lower()
        if extra_name:
            values[extra_name] = str(extra_value)
    return values


async def edit_view(request):
    from ..manage import FieldErrors, entry_version, field_values, update_entry
    cfg = config(request)
    require_editor(request)
    snap, key, rec, data = await run_in_threadpool(_entry_data, request,
                                                   request.path_params["key"])
    errors, conflict, status = {}, None, 200
    entry_type = rec.type
    own = field_values(rec)   # by the fields' own names: a field `type` stays editable
    values = {n: own.get(n, "") for n in EDIT_FIELDS}
    extras = [(n, v) for n, v in own.items() if n not in EDIT_FIELDS]
    version = entry_version(snap.lib.entry_text(key))
    if request.method == "POST":
        form = await post_form(request)
        entry_type = str(form.get("type", rec.type)).strip().lower()
        values = _form_values(form)
        extras = [(n, v) for n, v in values.items() if n not in EDIT_FIELDS]
        version = str(form.get("version", ""))
        try:
            changed = await run_in_threadpool(update_entry, cfg.bib_path, key, entry_type,
                                              values, version, cfg.settings)
        except FieldErrors as exc:
            errors, status = exc.errors, 422
        except ConflictError as exc:
            conflict = error_line(request, exc)
            status = 409
        else:
            if wants_json(request):
                return json_response({"key": key, "changed": changed})
            return RedirectResponse(entry_url(key, "?message=saved"), 303)
        if wants_json(request):
            return json_response({"error": conflict or "invalid fields",
                                  "fields": errors}, status)
    current = snapshot_now(request).lib.entry_text(key) if conflict else None
    if current is not None:
        # The form now stands against the entry shown beside it: saving after review
        # succeeds, a later change by someone else is still a conflict.
        version = entry_version(current)
    return render(request, "edit.html", status=status, key=key, entry_type=entry_type,
                  values=values, extras=extras, errors=errors, conflict=conflict,
                  current=current, version=version, fields=EDIT_FIELDS)


async def rename_view(request):
    from ..manage import rename
    require_editor(request)
    form = await post_form(request)
    cfg = config(request)
    new = str(form.get("new_key", "")).strip()
    old, _ = await run_in_threadpool(rename, cfg.bib_path, request.path_params["key"], new,
                                     cfg.settings)
    if wants_json(request):
        return json_response({"old": old, "key": new})
    return RedirectResponse(entry_url(new, "?message=saved"), 303)


async def remove_view(request):
    from ..manage import remove
    require_editor(request)
    cfg = config(request)
    if request.method == "GET":
        snap, key, rec, data = await run_in_threadpool(_entry_data, request,
                                                       request.path_params["key"])
        return render(request, "remove.html", key=key, rec=rec)
    await post_form(request)
    done = await run_in_threadpool(remove, cfg.bib_path, [request.path_params["key"]],
                                   False, cfg.settings)
    if wants_json(request):
        return json_response([{"key": d.key, "snapshot_removed": d.snapshot} for d in done])
    # The notice travels in the signed session, not in the address: a crafted link
    # could otherwise show any text as our green success notice.
    request.session["removed"] = done[0].key
    return RedirectResponse("/", 303)


async def keywords_view(request):
    from ..manage import set_fields, unset_fields
    require_editor(request)
    form = await post_form(request)
    cfg = config(request)
    words = [w.strip() for w in str(form.get("keywords", "")).split(",") if w.strip()]
    key = request.path_params["key"]
    if words:
        key = await run_in_threadpool(set_fields, cfg.bib_path, key,
                                      [("keywords", ", ".join(dict.fromkeys(words)))],
                                      False, cfg.settings)
    else:
        key, _ = await run_in_threadpool(unset_fields, cfg.bib_path, key, ["keywords"],
                                         cfg.settings)
    if wants_json(request):
        return json_response({"key": key, "keywords": words})
    return RedirectResponse(entry_url(key, "?message=saved"), 303)


async def check_view(request):
    from ..links import run_check
    require_editor(request)
    await post_form(request)
    cfg = config(request)
    snap = snapshot_now(request)
    key = snap.lib.resolve_key(request.path_params["key"])
    run = await run_in_threadpool(run_check, cfg.bib_path, [key], cfg.settings)
    if wants_json(request):
        return json_response([r.as_dict() for r in run.results])
    return RedirectResponse(entry_url(key, "#links"), 303)


# -- adding -----------------------------------------------------------------------------

def pending_item(request, ident: str, user: str):
    """A proposal or batch of this user, from any worker process."""
    from .pending import Expired
    try:
        return config(request).pending.get(ident, user)
    except Expired:
        raise http_error(404, "this proposal was already saved or has expired; add the "
                              "source again if it is not in the library",
                              "err_proposal_gone") from None


def _fetch(cfg, source: str):
    from ..adding import fetch_source
    # A web user's source is never a path on the server (that would read its files).
    return fetch_source(source, cfg.settings, files=False)


def _fetch_upload(cfg, filename: str, data: bytes):
    """An uploaded PDF or HTML file, read the way `clippings add FILE` reads one."""
    import tempfile
    from ..adding import fetch_source
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise UsageError("only PDF and HTML files can be uploaded",
                         german="Hochladen lassen sich nur PDF- und HTML-Dateien")
    magic = UPLOAD_TYPES[suffix]
    if magic and not data.startswith(magic):
        raise UsageError("the file is not a PDF", german="Die Datei ist kein PDF")
    if not magic and data.lstrip()[:1] not in (b"<", b"\xef"):
        raise UsageError("the file does not look like HTML",
                         german="Die Datei sieht nicht nach HTML aus")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("upload" + suffix)
        path.write_bytes(data)
        fetched = fetch_source(str(path), cfg.settings)
    fetched.meta = dict(fetched.meta or {}, source_file=Path(filename).name)
    return fetched


def _from_html(url: str, html: bytes):
    """The page as the user's browser sent it (the bookmarklet), read like a fetched one."""
    from ..adding import read_page
    return read_page(html, url, "text/html; charset=utf-8",
                     {"requested_url": url, "final_url": url,
                      "via": "bookmarklet (the page as the user's browser showed it)"})


def _duplicates(cfg, record):
    from ..manage import duplicate_index
    return duplicate_index(cfg.state.current().lib).find(record)


def _first_paragraph(text: str) -> str:
    """The first line that reads like prose (a sentence, not the headline)."""
    for para in re.split(r"\n\s*\n|\n", text or ""):
        if len(para.strip()) > 40 and para.strip()[-1:] in ".!?…\"“”»«":
            return para.strip()[:600]
    return (text or "").strip()[:600]


def _proposal_values(record) -> tuple[str, dict[str, str]]:
    from ..manage import record_json
    data = record_json(record)
    return record.type, {n: str(data.get(n, "")) for n in EDIT_FIELDS}


async def add_view(request):
    user = require_editor(request)
    cfg = config(request)
    if request.method == "GET":
        return render(request, "add.html", prefill=request.query_params.get("url", ""),
                      token=cfg.users.token(user), error=None)
    form = await post_form(request)
    upload = form.get("file")
    sources = [s.strip() for s in str(form.get("sources", "")).splitlines() if s.strip()]
    try:
        if upload is not None and getattr(upload, "filename", ""):
            data = await upload.read()
            fetched = await run_in_threadpool(_fetch_upload, cfg, upload.filename, data)
        elif len(sources) == 1:
            fetched = await run_in_threadpool(_fetch, cfg, sources[0])
        elif len(sources) > 1:
            return _start_batch(request, user, sources, form)
        else:
            raise UsageError("give a URL, DOI or ISBN, or choose a file",
                             german="Bitte eine URL, DOI oder ISBN angeben oder eine Datei "
                                    "wählen")
        # The keywords typed beside the source belong to a single one too, not only to
        # a batch: the proposal starts with them, merged with those the page gave.
        from ..manage import apply_assignments
        apply_assignments(fetched.record, (), _form_tags(form))
    except ClippingsError as exc:
        if wants_json(request):
            return json_response({"error": str(exc)}, status_for(exc))
        return render(request, "add.html", status=status_for(exc), prefill="\n".join(sources),
                      token=cfg.users.token(user), error=error_line(request, exc))
    pid = cfg.pending.put(user, fetched)
    return RedirectResponse(f"/add/proposal/{pid}", 303)


async def clip_view(request):
    """The bookmarklet's POST from a news page: authorised by the user's clip token (a
    cross-site form cannot carry our session), it holds the page's URL and HTML."""
    cfg = config(request)
    try:
        form = await request.form(max_files=0, max_fields=10, max_part_size=cfg.max_upload)
    except HTTPException:
        raise
    except Exception:
        raise HTTPException(400, "malformed form") from None
    user = cfg.users.by_token(str(form.get("token", "")))
    if not user or cfg.read_only:
        raise HTTPException(403, "unknown clip token: copy the bookmarklet again from "
                                 "the add page")
    url = safe_url(form.get("url"))
    if not url:
        raise HTTPException(400, "the bookmarklet sent no http(s) address")
    html = str(form.get("html", "")).encode("utf-8")
    if html.strip():
        fetched = await run_in_threadpool(_from_html, url, html)
    else:
        fetched = await run_in_threadpool(_fetch, cfg, url)
    pid = cfg.pending.put(user, fetched)
    return RedirectResponse(f"/add/proposal/{pid}", 303)


async def proposal_view(request):
    from ..adding import add_with_snapshot
    from ..manage import FieldErrors, check_fields, record_from_assignments
    user = require_editor(request)
    cfg = config(request)
    pid = request.path_params["pid"]
    fetched = pending_item(request, pid, user)
    if isinstance(fetched, dict):   # saved already (a second click, the back button)
        key = fetched["saved"]
        if wants_json(request):
            return json_response({"error": f"this proposal was already saved as {key!r}",
                                  "status": 409, "key": key}, 409)
        return RedirectResponse(entry_url(key, "?message=already_saved"), 303)
    entry_type, values = _proposal_values(fetched.record)
    errors, message, status = {}, None, 200
    if request.method == "POST":
        form = await post_form(request)
        entry_type = str(form.get("type", entry_type)).strip().lower()
        values = _form_values(form)
        errors = check_fields(entry_type, values)
        if not errors:
            try:
                record = record_from_assignments(
                    entry_type, [(n, v) for n, v in values.items() if v.strip()])
                # Fields the form does not show (doi, isbn, publisher ...) stay as fetched.
                for name, value in fetched.record.fields.items():
                    if name not in values and name not in record.fields:
                        record.fields[name] = value
                result = await run_in_threadpool(
                    add_with_snapshot, cfg.bib_path, record, fetched,
                    force=bool(form.get("force")), settings=cfg.settings)
            except FieldErrors as exc:
                errors = exc.errors
            except ConflictError as exc:
                message = error_line(request, exc)
                status = 409
            else:
                # Kept as a marker until it expires: a re-post finds the entry.
                cfg.pending.update(pid, user, {"saved": result.key})
                if wants_json(request):
                    from ..manage import record_json
                    return json_response({"key": result.key,
                                          "entry": record_json(result.record),
                                          "snapshot": result.snapshot, "duplicates": []})
                return RedirectResponse(entry_url(result.key, "?message=saved"), 303)
        if errors:
            status = 422
    from ..manage import record_from_assignments as build
    try:
        probe = build(entry_type, [(n, v) for n, v in values.items()
                                   if v.strip() and n not in errors])
    except ClippingsError:
        probe = fetched.record
    duplicates = await run_in_threadpool(_duplicates, cfg, probe)
    if wants_json(request):
        from ..manage import record_json
        return json_response({"key": None, "entry": record_json(fetched.record),
                              "snapshot": None, "duplicates": [k for k, _ in duplicates],
                              "errors": errors}, status)
    return render(request, "proposal.html", status=status, pid=pid, entry_type=entry_type,
                  values=values, errors=errors, message=message, duplicates=duplicates,
                  first=_first_paragraph(fetched.text), fields=EDIT_FIELDS,
                  meta=fetched.meta or {}, extras=[])


class Batch:
    def __init__(self, sources: list[str]):
        self.sources = sources
        self.done: list[dict] = []
        self.finished = False


def _run_batch(cfg, ident: str, user: str, batch: Batch, tags) -> None:
    from ..adding import add_sources
    for source in batch.sources:
        try:
            results, failures = add_sources(cfg.bib_path, [source], settings=cfg.settings,
                                            tags=tags, files=False)
            batch.done.append({"source": source, "key": results[0].key, "error": None})
        except ClippingsError as exc:
            batch.done.append({"source": source, "key": None, "error": str(exc)})
        except Exception as exc:   # noqa: BLE001 - one bad source must not end the batch
            batch.done.append({"source": source, "key": None,
                               "error": f"internal error: {type(exc).__name__}"})
        batch.finished = len(batch.done) == len(batch.sources)
        cfg.pending.update(ident, user, batch)   # progress, for whichever worker is asked


def _form_tags(form) -> tuple[str, ...]:
    return tuple(w.strip() for w in str(form.get("tags", "")).split(",") if w.strip())


def _start_batch(request, user: str, sources: list[str], form):
    cfg = config(request)
    if len(sources) > 200:
        raise HTTPException(400, "at most 200 sources at once")
    tags = _form_tags(form)
    batch = Batch(sources)
    bid = cfg.pending.put(user, batch)
    threading.Thread(target=_run_batch, args=(cfg, bid, user, batch, tags),
                     daemon=True).start()
    return RedirectResponse(f"/add/batch/{bid}", 303)


async def batch_view(request):
    user = require_editor(request)
    batch = pending_item(request, request.path_params["bid"], user)
    if not isinstance(batch, Batch):
        raise HTTPException(404, "no such batch")
    if wants_json(request):
        return json_response({"total": len(batch.sources), "done": batch.done,
                              "finished": batch.finished})
    return render(request, "batch.html", batch=batch)


# -- citing and exporting -------------------------------------------------------------

def _selected_records(request, params):
    """The entries chosen by checkboxes (`key`), or all results of the search (`all`)."""
    snap = snapshot_now(request)
    if params.get("all"):
        page, snap = run_search(request, _AllParams(params))
        keys = page.keys   # every match; only the first has a snippet made
    else:
        keys = [snap.lib.resolve_key(k) for k in dict.fromkeys(params.getlist("key"))]
    if not keys:
        raise UsageError("nothing selected", german=i18n.TEXTS["nothing_selected"][0])
    return [snap.records[k] for k in keys if k in snap.records]


class _AllParams:
    """The search parameters of a selection, asking for every result in one page."""

    def __init__(self, params):
        self.params = params

    def get(self, name, default=None):
        if name in ("per_page", "page", "exact"):
            return "1"
        return self.params.get(name, default)

    def getlist(self, name):
        return self.params.getlist(name)


def _cite(request, params):
    from ..export import cite, export
    cfg = config(request)
    records = _selected_records(request, params)
    style, locale = _asked_style(params, cfg), _asked_locale(params)
    return {"style": style, "locale": locale, "count": len(records),
            "keys": [r.key for r in records],
            "references": export(records, "text", style, locale),
            "references_html": export(records, "html", style, locale),
            "citation": cite(records, style, locale)}, _style_choices(style)


# What a request may name: a style of the collection, never a file of the server's (a
# path read any file, and pandoc's error quoted it: the accounts file's secret with it).
_STYLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,199}")
_LOCALE_NAME = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")


def _asked_style(params, cfg) -> str:
    """The style a request names (the configured one when it names none)."""
    name = params.get("style")
    if not name or name == cfg.settings.style:   # the server's own, a path perhaps
        return cfg.settings.style
    if not _STYLE_NAME.fullmatch(name):
        raise UsageError(f"unknown style {name!r}: give a style's name, e.g. apa",
                         german=f"unbekannter Zitierstil {name!r}: bitte den Namen eines "
                                "Stils angeben, z. B. apa")
    return name


def _asked_locale(params) -> str | None:
    name = params.get("locale")
    if name and not _LOCALE_NAME.fullmatch(name):
        raise UsageError(f"unknown locale {name!r} (e.g. de-DE, en-US)",
                         german=f"unbekannte Sprache der Zitate {name!r} (z. B. de-DE, en-US)")
    return name or None


# Offered in the style box; any other style of the collection can be typed in.
COMMON_STYLES = ("din-iso-690", "iso690-author-date-de", "din-1505-2", "apa",
                 "chicago-author-date", "modern-language-association",
                 "harvard-cite-them-right", "ieee", "plain", "alpha")


def _style_choices(current: str) -> list[str]:
    return list(dict.fromkeys((current,) + COMMON_STYLES))


async def cite_view(request):
    params = request.query_params
    try:
        data, styles = await run_in_threadpool(_cite, request, params)
    except UsageError as exc:
        if str(exc) == "nothing selected" and not wants_json(request):
            return await error_response(request, 400, i18n.translator(
                language(request))("nothing_selected"))
        raise
    if wants_json(request):
        return json_response(data)
    back = [(k, v) for k, v in params.multi_items() if k not in ("style", "locale")]
    return render(request, "cite.html", data=data, styles=styles,
                  references_html=Markup(_clean_html(data["references_html"])),
                  params=back, style=data["style"], locale=data["locale"] or "")


def _clean_html(fragment: str) -> str:
    """Rendered references come from our own renderer, which escapes the data; still,
    only the handful of tags it produces survive here."""
    import lxml.html
    from lxml_html_clean import Cleaner
    if not fragment.strip():
        return ""
    cleaner = Cleaner(scripts=True, javascript=True, comments=True, style=True,
                      links=True, meta=True, forms=True, embedded=True, frames=True,
                      safe_attrs_only=True, safe_attrs=frozenset({"class", "href"}),
                      allow_tags=["div", "span", "i", "b", "em", "strong", "sup", "sub",
                                  "p", "a"], remove_unknown_tags=False)
    cleaned = cleaner.clean_html(lxml.html.fragment_fromstring(fragment, create_parent="div"))
    # Addresses in references are links, but only http(s) and mailto: every other
    # scheme (javascript:, data:, file:, relative paths) loses its href.
    for a in cleaned.iter("a"):
        href = (a.get("href") or "").strip()
        if safe_url(href) or (href.lower().startswith("mailto:") and len(href) > 7):
            a.set("href", href)
            a.set("rel", "noopener noreferrer")
        else:
            a.attrib.pop("href", None)
    return lxml.html.tostring(cleaned, encoding="unicode")


def _export(request, params):
    from ..export import export
    cfg = config(request)
    fmt = params.get("format", "bibtex")
    if fmt not in EXPORT_TYPES:
        raise UsageError(f"unknown download format {fmt!r}",
                         german=f"unbekanntes Download-Format {fmt!r}")
    records = _selected_records(request, params)
    style, locale = _asked_style(params, cfg), _asked_locale(params)
    text = export(records, fmt, style, locale)
    if fmt == "html":
        text = _html_page(text, language(request))
    return fmt, text


def _html_page(fragment: str, lang: str) -> str:
    title = "Literatur" if lang == "de" else "References"
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
            f"{fragment}</body>\n</html>\n")


async def export_view(request):
    fmt, text = await run_in_threadpool(_export, request, request.query_params)
    ext, media = EXPORT_TYPES[fmt]
    return Response(text.encode("utf-8"), media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="clippings.{ext}"'})


# -- the health of the links -------------------------------------------------------------

def _health(request):
    from .. import links_cache
    from ..linkreport import health
    snap = snapshot_now(request)
    return health(snap.records.values(), links_cache.load(config(request).folder).values())


async def links_view(request):
    """Statuses by count, the links to act on with their archive copies, and the chart
    of link rot by year of publication (from the last `check`, index/links.json)."""
    from ..linkreport import CATEGORIES, COLORS, chart_description
    found = await run_in_threadpool(_health, request)
    if wants_json(request):
        return json_response(found.as_dict())
    lang = language(request)
    order = ["ok", "redirected", "broken", "gone", "soft_404", "drifted", "blocked",
             "timeout", "tls_error", "error"]
    counts = [(s, found.counts.get(s, 0)) for s in order if found.counts.get(s)]
    return render(request, "links.html", health=found, counts=counts,
                  description=chart_description(found, lang), categories=CATEGORIES,
                  colors=COLORS)


async def rot_chart(request):
    """The chart as an SVG file (drawn by linkreport, every text escaped); served as an
    image with a sandbox CSP, so nothing in it could run."""
    from ..linkreport import rot_chart_svg
    found = await run_in_threadpool(_health, request)
    lang = language(request)
    svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + rot_chart_svg(found, lang)
    return Response(svg.encode("utf-8"), media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "sandbox; default-src 'none'; "
                                                        "style-src 'unsafe-inline'",
                             "Cache-Control": "no-store"})


# -- accounts -------------------------------------------------------------------------

def _safe_next(value: str) -> str:
    value = value or "/"
    return value if value.startswith("/") and not value.startswith("//") \
        and "\\" not in value else "/"


async def login_view(request):
    cfg = config(request)
    t = i18n.translator(language(request))
    if request.method == "GET":
        return render(request, "login.html", error=None,
                      next=_safe_next(request.query_params.get("next", "/")))
    form = await post_form(request)
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    where = request.client.host if request.client else "?"
    nxt = _safe_next(str(form.get("next", "/")))
    users = cfg.users
    # Checked and counted in one step, in the file every worker shares.
    wait, ok = await run_in_threadpool(cfg.throttle.attempt, ("ip:" + where, "user:" + name),
                                       lambda: users.check(name, password))
    if wait > 0:
        return render(request, "login.html", status=429, next=nxt,
                      error=t("login_slow", seconds=int(wait) + 1))
    if not ok:
        return render(request, "login.html", status=401, next=nxt, error=t("login_failed"))
    request.session.clear()
    request.session["user"] = name
    request.session["csrf"] = secrets.token_urlsafe(24)
    return RedirectResponse(nxt, 303)


async def logout_view(request):
    await post_form(request)
    request.session.clear()
    return RedirectResponse("/", 303)
