"""Export: data formats and formatted references, each found by name in one registry.

Like pybtex's plugins, a format or a style engine is a row in a table below, pointing at a
function by its dotted name; the module is imported only when that format is used, so the
command line starts fast and adding a format touches only this table.

- Data formats (`bibtex`, `biblatex`, `ris`, `csljson`) turn records into a file's text.
- Rendered formats (`text`, `html`, `markdown`, `latex`) are formatted references in a
  style: a CSL style (by name from the installed collection, or a path to a .csl file),
  rendered by pandoc's citeproc, or one of pybtex's BibTeX-like styles.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterable

from ..errors import UsageError
from ..model import Record


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    dump: str = ""       # data formats: "module:function" taking records, returning text
    pandoc: str = ""     # rendered formats: the pandoc writer
    pybtex: str = ""     # rendered formats: the pybtex backend

    @property
    def rendered(self) -> bool:
        return not self.dump


# Markdown that every Markdown reader shows as meant: pandoc's own extensions off, so no
# `[...]{.smallcaps}`, `^2^` or `--` for a dash (small caps, superscripts and underlines
# come as inline HTML, which Markdown allows); CSL display attributes: see csl._FILTER.
MARKDOWN_WRITER = "markdown-smart-bracketed_spans-native_spans-superscript-subscript"

FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("bibtex", "classic BibTeX for bibtex + plain.bst", dump="clippings.export.bibtex:dump"),
    Format("biblatex", "biblatex/biber data model (the library's own)",
           dump="clippings.export.biblatex:dump"),
    Format("ris", "RIS for Zotero, Citavi, EndNote", dump="clippings.formats.ris:dump"),
    Format("csljson", "CSL-JSON for pandoc and Zotero", dump="clippings.formats.csljson:dump"),
    Format("text", "formatted references as plain text", pandoc="plain", pybtex="text"),
    Format("html", "formatted references as an HTML fragment", pandoc="html", pybtex="html"),
    Format("markdown", "formatted references as Markdown", pandoc=MARKDOWN_WRITER,
           pybtex="markdown"),
    Format("latex", "formatted references as LaTeX paragraphs", pandoc="latex",
           pybtex="latex"),
)}

# Style engines: which names they own is decided in `find_style`.
PYBTEX_STYLES = ("plain", "unsrt", "alpha", "unsrtalpha")
ENGINES = {
    "csl": {"render": "clippings.export.csl:render", "cite": "clippings.export.csl:cite"},
    "pybtex": {"render": "clippings.export.bibtex:render", "cite": "clippings.export.bibtex:cite"},
}


@dataclass(frozen=True)
class Style:
    name: str
    engine: str          # a key of ENGINES
    path: str = ""       # the .csl file for the csl engine


def _function(target: str) -> Callable:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def find_format(name: str) -> Format:
    fmt = FORMATS.get(name.lower())
    if fmt is None:
        raise UsageError(f"unknown export format {name!r}; choose one of "
                         f"{', '.join(FORMATS)}")
    return fmt


def find_style(name: str) -> Style:
    """A style by pybtex name, CSL collection name, or path to a .csl file."""
    if name in PYBTEX_STYLES:
        return Style(name, "pybtex")
    from . import csl
    return Style(name, "csl", csl.style_path(name))


DEFAULT_STYLE = "din-iso-690"   # shipped in styles/; see docs/decisions.md


def export(records: Iterable[Record], fmt: str, style: str = DEFAULT_STYLE,
           locale: str | None = None, standalone: bool = False,
           title: str | None = None) -> str:
    """The text of `records` exported as `fmt` (a name in FORMATS).

    `standalone` (HTML only) wraps the references in a complete page with `title`."""
    f = find_format(fmt)
    records = list(records)
    if standalone and f.name != "html":
        raise UsageError("a standalone page is made only for --format html")
    if not f.rendered:
        return _function(f.dump)(records)
    found = find_style(style)
    entries = _function(ENGINES[found.engine]["render"])(records, found, f, locale)
    body = join_entries(entries, f.name)
    if standalone:
        lang = locale or default_locale(records)
        return html_page(body, title or page_title(lang), lang)
    return body


# The page title when none is given, by language; English for the rest.
_PAGE_TITLES = {"de": "Literaturverzeichnis", "ru": "Список литературы",
                "fr": "Bibliographie", "en": "References"}


def page_title(locale: str) -> str:
    return _PAGE_TITLES.get(locale.split("-")[0].lower(), "References")


def html_page(body: str, title: str, lang: str) -> str:
    """A complete HTML5 page around an HTML fragment (the fragment is already escaped)."""
    from html import escape
    return ("<!doctype html>\n"
            f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n"
            "<style>.csl-entry { margin-bottom: 0.6em; padding-left: 2em; "
            "text-indent: -2em; }</style>\n"
            f"</head>\n<body>\n<h1>{escape(title)}</h1>\n{body}</body>\n</html>\n")


def join_entries(entries: list[str], fmt: str) -> str:
    """Rendered entries as one document of format `fmt`."""
    if not entries:
        return ""
    if fmt == "html":
        return '<div class="csl-bib-body">\n' + "\n".join(entries) + "\n</div>\n"
    return "\n\n".join(entries) + "\n"


def cite(records: Iterable[Record], style: str = DEFAULT_STYLE,
         locale: str | None = None) -> str:
    """The in-text citation of `records` together, as plain text: "(Lohse 2017)"."""
    found = find_style(style)
    return _function(ENGINES[found.engine]["cite"])(list(records), found, locale)


def styles(pattern: str = "") -> list[tuple[str, str]]:
    """(name, title) of every available style whose name or title contains `pattern`
    at the start of a word: `din` finds "din-1505-2" and "DIN ISO 690", not
    "Edinburgh" or "Building"."""
    import re
    from . import csl
    from .bibtex import PYBTEX_TITLES
    found = [(n, PYBTEX_TITLES[n]) for n in PYBTEX_STYLES]
    found += csl.collection_styles()
    if not pattern:
        return found
    # At a word start: not preceded by a letter or digit (so "din" is not in "Edinburgh").
    word = re.compile(r"(?<![^\W_])" + re.escape(pattern), re.IGNORECASE)
    return [(n, t) for n, t in found if word.search(n) or word.search(t)]


def default_locale(records: list[Record]) -> str:
    """The most common language among the records as a CSL locale, else de-DE."""
    from ..formats.dates import code_for
    counts: dict[str, int] = {}
    for rec in records:
        code = code_for(rec.fields.get("langid", "")) if rec.fields.get("langid") else None
        if code:
            counts[code] = counts.get(code, 0) + 1
    if not counts:
        return "de-DE"
    return max(counts, key=lambda c: (counts[c], c == "de-DE"))
