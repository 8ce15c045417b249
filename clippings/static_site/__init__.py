"""A static, self-contained web page of the reading list: `clippings site -o DIR`.

`build_site(bib_path, out_dir, ...)` writes `index.html` with `site.css` and `site.js`
beside it (no CDN, nothing fetched: it works from file:// and offline). References are
rendered by the same code as `clippings export --format html` (pandoc's citeproc for CSL
styles, pybtex for its styles), grouped by entry type or by year, each with links to its
URL and archive copy. The in-page search is a small script filtering over a JSON index
embedded in the page: every query word must occur in an entry; case, accents and the
German umlaut spellings (ä, ae, a) are folded on both sides, and Cyrillic text is
indexed with its German and English transliterations (`textnorm`, as in `clippings
search`), while a Cyrillic query is transliterated in the page; so Wolgograd, Volgograd
and Волгоград find each other. With `health=True` the link-rot chart (`linkreport`) and
the link statuses are included.

Safety: pages are rendered by Jinja2 with autoescaping, the references come escaped from
pandoc/pybtex, links other than http(s) and mailto are dropped, the JSON index cannot end
its <script> element, and a Content-Security-Policy allows only the site's own script and
style. A new folder is written beside its destination and renamed into place. An existing
one is written into only if it holds nothing but a fresh Pages repository's housekeeping
(`.git`, `CNAME`, ...: `HOUSEKEEPING`) or is a site written by clippings (marked by
`.clippings-site`, which lists the files written there): the new files are written first
and each is renamed over its old version, then the listed files the site no longer has
are deleted; every other file (a Pages repository's `.git`, `CNAME`, ...) is left alone.
Runs writing the same folder take turns on a lock file beside it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import ConflictError, UsageError
from ..linkreport import status_words
from ..model import Record

HERE = Path(__file__).parent
MARKER = ".clippings-site"
MARKER_HEAD = "written by clippings site"   # the marker's first line, all older ones hold
STAGING = f"{MARKER}.new-"                  # the folder inside DIR a run writes first
LOCK_TIMEOUT = 60                           # seconds a run waits for another one's write
# What a fresh GitHub/GitLab Pages repository holds before its first site (made by `git
# init`, the hosts' "new repository" forms, the user for a domain): an unmarked folder of
# only these is no one's site to lose. None is a name the site writes, so none is deleted.
HOUSEKEEPING = frozenset({".git", ".gitignore", ".gitattributes", ".github",
                          ".gitlab-ci.yml", "CNAME", ".nojekyll", "README.md", "LICENSE"})
STATIC = ("site.css", "site.js")
GROUPINGS = ("type", "year")
LANGS = ("de", "en")

_ENTRY_ID = re.compile(r'^<div id="ref-([^"]*)"')
_HREF = re.compile(r'\shref="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")

# Group headings by entry type, in the order they are shown.
TYPE_GROUPS = (
    ("newspaper", "Zeitungsartikel", "Newspaper articles"),
    ("article", "Zeitschriftenartikel", "Journal articles"),
    ("online", "Webseiten", "Web pages"),
    ("book", "Bücher", "Books"),
    ("collection", "Sammelbände", "Edited volumes"),
    ("incollection", "Beiträge in Sammelbänden", "Chapters"),
    ("periodical", "Zeitschriften und Sonderhefte", "Periodicals and special issues"),
    ("report", "Berichte", "Reports"),
    ("manual", "Handbücher und Leitfäden", "Manuals and guides"),
    ("booklet", "Broschüren", "Booklets"),
    ("thesis", "Abschlussarbeiten", "Theses"),
    ("proceedings", "Tagungsbände", "Proceedings"),
    ("inproceedings", "Tagungsbeiträge", "Conference papers"),
    ("misc", "Sonstiges", "Other"),
)
_TYPE_ALIAS = {"inbook": "incollection", "bookinbook": "incollection",
               "mvbook": "book", "mvcollection": "collection", "suppbook": "incollection",
               "suppcollection": "incollection", "suppperiodical": "article",
               "mvproceedings": "proceedings", "phdthesis": "thesis",
               "mastersthesis": "thesis", "techreport": "report", "www": "online",
               "electronic": "online"}

TEXT = {
    "de": {"title": "Literaturliste", "search": "Suchen", "placeholder":
           "Titel, Autor, Zeitung, Jahr, Schlagwort …", "entries": "Einträge",
           "of": "von", "none": "Keine Einträge gefunden.", "link": "Link",
           "archive": "Archivkopie", "style": "Zitierstil", "made": "Erstellt mit",
           "on": "am", "health": "Zustand der Links", "no_year": "ohne Jahr",
           "contents": "Inhalt", "checked": "Links zuletzt geprüft am",
           "download": "Diagramm als SVG", "top": "nach oben",
           "by_status": "Links nach Zustand", "unchecked": "noch nicht geprüft",
           "status": status_words("de")},
    "en": {"title": "Reading list", "search": "Search", "placeholder":
           "title, author, newspaper, year, keyword …", "entries": "entries",
           "of": "of", "none": "No entries found.", "link": "Link",
           "archive": "Archived copy", "style": "Citation style", "made": "Made with",
           "on": "on", "health": "Link health", "no_year": "no date",
           "contents": "Contents", "checked": "Links last checked on",
           "download": "Chart as SVG", "top": "back to top",
           "by_status": "Links by status", "unchecked": "not checked yet",
           "status": status_words("en")},
}
# Statuses worth a badge beside an entry (a fine link needs none).
BADGE = frozenset({"redirected", "broken", "gone", "soft_404", "drifted"})


@dataclass
class SiteEntry:
    key: str
    html: str                  # the formatted reference (escaped by pandoc/pybtex)
    url: str | None = None
    archive_url: str | None = None
    status: str | None = None  # of the url link, when --health


@dataclass
class Group:
    id: str
    title: str
    entries: list[SiteEntry] = field(default_factory=list)


@dataclass
class SiteResult:
    folder: Path
    entries: int
    groups: int


def safe_url(url: str | None) -> str | None:
    """`url` if it is an http(s) or mailto address (no javascript:, data: ...), else None."""
    url = (url or "").strip()
    return url if url.lower().startswith(_SAFE_SCHEMES) and not any(
        c in url for c in "\n\r\t") else None


def _sanitize(fragment: str) -> str:
    """Drop every link target in a rendered reference that is not http(s) or mailto."""
    def check(m: re.Match) -> str:
        return m.group() if safe_url(html.unescape(m.group(1))) else ""
    return _HREF.sub(check, fragment)


def render_references(records: list[Record], style: str, locale: str | None
                      ) -> list[tuple[str, str]]:
    """(key, HTML) of every record, in the style's bibliography order."""
    from ..export import ENGINES, _function, find_format, find_style
    found = find_style(style)
    rendered = _function(ENGINES[found.engine]["render"])(records, found,
                                                          find_format("html"), locale)
    out = []
    for fragment in rendered:
        m = _ENTRY_ID.match(fragment)
        if m:
            out.append((html.unescape(m.group(1)), _sanitize(fragment)))
    known = {key for key, _ in out}
    if len(known) != len(records):   # a style engine lost track of an entry: never drop it
        from ..export import export
        for rec in records:
            if rec.key not in known:
                out.append((rec.key, _sanitize(export([rec], "html", style, locale))))
    return out


def type_group(rec: Record) -> str:
    t = _TYPE_ALIAS.get(rec.type, rec.type)
    if t == "article" and rec.fields.get("entrysubtype", "").strip().lower() == "newspaper":
        return "newspaper"
    return t


def _groups(records: dict[str, Record], refs: list[SiteEntry], group_by: str,
            lang: str) -> list[Group]:
    t = TEXT[lang]
    groups: dict[str, Group] = {}
    if group_by == "year":
        for entry in refs:
            year = records[entry.key].year
            gid = f"year-{year}" if year else "year-none"
            groups.setdefault(gid, Group(gid, year or t["no_year"])).entries.append(entry)
        # Newest first, entries without a year last.
        dated = sorted((g for g in groups.values() if g.id != "year-none"),
                       key=lambda g: g.id, reverse=True)
        return dated + [g for g in groups.values() if g.id == "year-none"]
    names = {name: (de if lang == "de" else en) for name, de, en in TYPE_GROUPS}
    order = {name: i for i, (name, _, _) in enumerate(TYPE_GROUPS)}
    for entry in refs:
        name = type_group(records[entry.key])
        gid = f"type-{name}"
        groups.setdefault(gid, Group(gid, names.get(name, name))).entries.append(entry)
    return sorted(groups.values(),
                  key=lambda g: (order.get(g.id[5:], len(order)), g.title))


def search_text(rec: Record, reference_html: str) -> str:
    """What the in-page search looks at: the reference as read, the key, the keywords,
    original titles and abstract; Cyrillic also in German and English transliteration."""
    from ..textnorm import has_cyrillic, transliterations
    parts = [html.unescape(_TAG.sub(" ", reference_html)), rec.key or ""]
    for name in ("keywords", "origtitle", "subtitle", "titleaddon", "abstract", "note",
                 "journaltitle", "publisher", "location"):
        if rec.fields.get(name):
            parts.append(rec.fields[name])
    for names in rec.names.values():
        parts += [str(n) for n in names]
    text = " ".join(" ".join(p.split()) for p in parts if p)
    if has_cyrillic(text):
        text += " " + " ".join(sorted(t for t in transliterations(text) if t != text))
    return text


def _json_for_script(data) -> str:
    """JSON that can stand inside <script type="application/json">: no `</script>`,
    no `<!--`, no raw `&` for an HTML parser to read."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_page(records: list[Record], *, style: str, group_by: str = "type",
                lang: str = "de", locale: str | None = None, title: str | None = None,
                health=None, statuses: dict[str, str] | None = None,
                archives: dict[str, str] | None = None, chart_svg: str | None = None,
                today: str | None = None,
                references: list[tuple[str, str]] | None = None) -> tuple[str, int]:
    """The page's HTML and its number of groups; `references` are the records rendered
    by `render_references` when the caller has them already."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    from .. import __version__
    if group_by not in GROUPINGS:
        raise UsageError(f"cannot group by {group_by!r}: choose {' or '.join(GROUPINGS)}")
    if lang not in LANGS:
        raise UsageError(f"no site language {lang!r}: choose {' or '.join(LANGS)}")
    by_key = {r.key: r for r in records}
    refs = []
    if references is None:
        references = render_references(records, style, locale)
    for key, fragment in references:
        rec = by_key[key]
        refs.append(SiteEntry(
            key=key, html=fragment, url=safe_url(rec.fields.get("url")),
            archive_url=safe_url(rec.fields.get("archiveurl")
                                 or (archives or {}).get(key)),
            status=(statuses or {}).get(key)))
    groups = _groups(by_key, refs, group_by, lang)
    index = [[e.key, search_text(by_key[e.key], e.html)] for g in groups for e in g.entries]
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    page = env.get_template("index.html").render(
        t=TEXT[lang], lang=lang, title=title or TEXT[lang]["title"], groups=groups,
        count=len(refs), style=style, version=__version__,
        today=today or date.today().isoformat(), health=health, badge=BADGE,
        chart=Markup(chart_svg) if chart_svg else None,
        refs={e.key: Markup(e.html) for g in groups for e in g.entries},
        index_json=Markup(_json_for_script(index)))
    return page, len(groups)


def build_site(bib_path, out_dir, *, style: str, group_by: str = "type", lang: str = "de",
               locale: str | None = None, title: str | None = None,
               with_health: bool = False, settings=None) -> SiteResult:
    """Write the site for the library at `bib_path` into `out_dir`, atomically."""
    from ..library import Library
    out = Path(out_dir).expanduser().absolute()
    _check_destination(out)
    lib = Library.load(bib_path, settings)
    records = list(lib.records())
    health = chart = None
    statuses: dict[str, str] = {}
    archives: dict[str, str] = {}
    if with_health:
        from .. import links_cache
        from ..linkreport import health as link_health, rot_chart_svg
        cached = links_cache.load(Path(bib_path).parent)   # read once, for both
        health = link_health(lib, cached.values())
        chart = rot_chart_svg(health, lang)
        statuses = _statuses(records, cached)
        archives = {p.key: p.archive_url for p in health.problems
                    if p.field == "url" and p.archive_url}
    page, groups = render_page(records, style=style, group_by=group_by, lang=lang,
                               locale=locale, title=title, health=health,
                               statuses=statuses, archives=archives, chart_svg=chart)
    files = {"index.html": page.encode("utf-8")}
    for name in STATIC:
        files[name] = (HERE / "static" / name).read_bytes()
    if chart:
        files["link-rot.svg"] = ('<?xml version="1.0" encoding="UTF-8"?>\n' + chart).encode()
    _write_folder(out, files)
    return SiteResult(out, len(records), groups)


def _statuses(records: list[Record], cache: dict) -> dict[str, str]:
    """The last cached status of each entry's url (`cache`: links_cache.load's)."""
    from .. import links_cache
    out = {}
    for rec in records:
        url = rec.fields.get("url", "").strip()
        hit = cache.get(links_cache.cache_key(rec.key, "url", url)) if url else None
        if hit and isinstance(hit.get("status"), str):
            out[rec.key] = hit["status"]
    return out


def _check_destination(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; the site needs a folder")
    if out.is_dir() and not (out / MARKER).is_file():
        foreign = sorted(set(os.listdir(out)) - HOUSEKEEPING)
        if foreign:
            names = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise UsageError(f"{out} holds files that clippings did not write ({names}); "
                             "choose a new or empty folder, a fresh Pages repository, or "
                             "one `clippings site` wrote before")
    if not out.parent.is_dir():
        raise UsageError(f"no folder {out.parent} to write the site into")


def _write_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write `files` (relative path: content) and the marker listing them into `out`."""
    with _locked(out):
        _check_destination(out)   # again: it may have changed while the page was rendered
        if out.exists():
            _update_folder(out, files)
        else:
            _write_new_folder(out, files)


@contextlib.contextmanager
def _locked(out: Path):
    """Runs writing `out` take turns: a second one would delete the first one's staging
    folder and could write the marker from a list the first one has since changed."""
    from filelock import FileLock, Timeout
    lock = FileLock(str(_lock_path(out)), timeout=LOCK_TIMEOUT)
    try:
        lock.acquire()
    except Timeout:
        raise ConflictError(f"{out} is being written by another clippings process; "
                            "try again") from None
    try:
        yield
    finally:
        lock.release()


def _lock_path(out: Path) -> Path:
    """The lock file beside `out`, outside the site, so it is never published, committed
    with it or taken for a foreign file; the new-folder path writes there anyway. By the
    real path, so runs naming `out` through a symlink share it. Where the parent is not
    the user's to write (a web server's root), a lock in the temporary folder."""
    real = Path(os.path.realpath(out))
    if os.access(real.parent, os.W_OK):
        return real.parent / f".{real.name}{MARKER}.lock"   # .public.clippings-site.lock
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"clippings-site-{digest}.lock"


def _write_new_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write the site into a new folder beside `out`, then rename it into place: a reader
    finds no site or all of it."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for name, data in {**files, MARKER: _marker(files)}.items():
            _write_file(tmp / name, data)
        os.chmod(tmp, 0o755)   # mkdtemp makes it private; a site is for reading
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _update_folder(out: Path, files: dict[str, bytes]) -> None:
    """Bring the site in `out` up to date without touching a file it did not write.

    Everything is written into a staging folder inside `out` first (same file system, so
    a full disk stops the run before the site changes), then each file is renamed over its
    old version, the page last so it never names a file not there yet. Only then are the
    files the marker lists and this run no longer writes deleted. The marker lists both
    runs' files meanwhile, so an interrupted run leaves none of them unaccounted for."""
    _remove_killed_runs(out)
    before = _recorded_files(out)
    stage = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
    try:
        for name, data in files.items():
            _write_file(stage / name, data)
        _replace(stage, out, MARKER, _marker({*files, *before}))
        for name in sorted(files, key=lambda name: name == "index.html"):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, out / name)
        for name in sorted(set(before) - set(files)):
            _remove_stale(out, name)
        _replace(stage, out, MARKER, _marker(files))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _replace(stage: Path, out: Path, name: str, data: bytes) -> None:
    _write_file(stage / name, data)
    os.replace(stage / name, out / name)


def _marker(names) -> bytes:
    """The marker's text: a header, then the relative path of each file the site wrote."""
    head = f"{MARKER_HEAD}; the next run replaces or deletes these files, no other:"
    return "\n".join([head, *sorted(names)]).encode("utf-8") + b"\n"


def _recorded_files(out: Path) -> list[str]:
    """The files the marker in `out` lists as the site's. None are known in an empty folder
    or from the marker of an older clippings (just its header): such a run overwrites the
    files it writes itself and deletes nothing."""
    try:
        lines = (out / MARKER).read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return []
    if not lines or not lines[0].startswith(f"{MARKER_HEAD};"):
        return []
    return [name for name in lines[1:] if _plain_relative(name)]


def _plain_relative(name: str) -> bool:
    """Whether a path from the marker is one the site could have written: relative, no
    `..`, not the marker, nothing of git's (a hand-edited marker is no licence)."""
    parts = name.split("/")
    return (name not in (MARKER, "") and not name.startswith(STAGING)
            and not any(part in ("", ".", "..", ".git") for part in parts))


def _remove_stale(out: Path, name: str) -> None:
    """Delete a file an earlier run wrote and this one does not, and its folder once
    empty; never a folder with anything in it, nor anything outside `out`."""
    path = out / name
    inside = Path(os.path.realpath(path.parent)).is_relative_to(os.path.realpath(out))
    if not inside or (path.is_dir() and not path.is_symlink()):
        return
    path.unlink(missing_ok=True)
    for folder in path.parents:
        if folder == out:
            break
        try:
            folder.rmdir()   # refused while anything is in it
        except OSError:
            break


def _remove_killed_runs(out: Path) -> None:
    """Remove the staging folders of runs that were killed before they could (under the
    lock no live run has one)."""
    for leftover in out.glob(f"{glob.escape(STAGING)}*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
