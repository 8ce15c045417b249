"""`clippings export`, `clippings cite` and `clippings styles`.

Only click is imported here at module level; the export package (and pandoc, pybtex)
load when one of these commands runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

# Exports of fewer entries finish too fast to need a progress line.
EXPORT_PROGRESS_FROM = 500
FORMAT_NAMES = ("bibtex", "biblatex", "ris", "csljson", "text", "html", "markdown", "latex")


def _configured_locale(path: Path) -> str | None:
    """The locale a user set (environment or clippings.toml), not the built-in default."""
    if os.environ.get("CLIPPINGS_LOCALE"):
        return os.environ["CLIPPINGS_LOCALE"]
    toml = path.parent / "clippings.toml"
    if toml.is_file():
        import tomllib
        try:
            value = tomllib.loads(toml.read_text(encoding="utf-8")).get("locale")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return None   # load_settings reports the broken file
        return str(value) if value else None
    return None


def _select(lib, path: Path, keys, query: str | None, tag: str | None):
    """Records by key (in the order given), search query and/or tag; else all."""
    from ..errors import UsageError
    if keys:
        chosen = [lib.resolve_key(k) for k in keys]
    elif query:
        chosen = _query_keys(path, query)
    else:
        chosen = lib.keys()
    from ..manage import select
    records = select([lib.record(k) for k in dict.fromkeys(chosen)], tag=tag)
    if (keys or query or tag) and not records:
        raise UsageError("no entries match the selection")
    return records


def _query_keys(path: Path, text: str) -> list[str]:
    from ..search import page
    from .search import say_rebuilt
    found = page(path, text, limit=None, facets=False)
    say_rebuilt(found)
    return [hit.key for hit in found.hits]


@click.command("export")
@click.argument("keys", nargs=-1)
@click.option("--query", "-q", metavar="Q", help="Only entries found by this search query.")
@click.option("--tag", metavar="T", help="Only entries with this keyword.")
@click.option("--format", "-f", "fmt", default="text", show_default=True,
              type=click.Choice(FORMAT_NAMES, case_sensitive=False),
              help="Data format, or the markup of formatted references.")
@click.option("--style", "-s", metavar="S",
              help="CSL style name or .csl file, or plain/unsrt/alpha/unsrtalpha "
                   "(default: the 'style' setting, din-iso-690).")
@click.option("--locale", "-l", metavar="L",
              help="CSL locale such as de-DE or en-US (default: the 'locale' setting, "
                   "else the entries' language, else de-DE).")
@click.option("--output", "-o", "output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write to FILE (atomically) instead of standard output.")
@click.option("--standalone/--fragment", default=None,
              help="HTML: a complete page (<!doctype html>, charset, title) or only the "
                   "references (default: a page when written to a file with -o).")
@click.option("--title", metavar="T",
              help="Title of a standalone HTML page (default: e.g. Literaturverzeichnis).")
@click.pass_context
def export(ctx, keys, query, tag, fmt, style, locale, output, standalone, title):
    """Export entries as a data file or as formatted references.

    No KEY, --query or --tag exports the whole library. Formatted references
    (text, html, markdown, latex) are sorted as the style says.

    \b
    Examples:
      clippings export --format bibtex -o refs.bib
      clippings export lohse2017dossier rutz2011geschenk --style apa --format html
      clippings export --tag presse --style din-iso-690 --locale de-DE
      clippings export --format html -o literatur.html   # a complete page
      clippings export --format csljson -o refs.json   # pandoc --citeproc --bibliography
    """
    from .base import library_path, settings_for, write_output
    from ..export import export as run_export
    from ..library import Library
    path = library_path(ctx)
    settings = settings_for(path)
    lib = Library.load(path, settings)
    records = _select(lib, path, keys, query, tag)
    fmt = fmt.lower()
    if standalone is None:   # a file of HTML is opened in a browser: give it a whole page
        standalone = bool(output) and fmt == "html"
    if title and not standalone:
        from ..errors import UsageError
        raise UsageError("--title is for a standalone HTML page (--format html --standalone)")
    from ..progress import Progress
    with Progress("exporting", len(records), noun="entries", ticking=True, counts=False,
                  min_total=EXPORT_PROGRESS_FROM):
        text = run_export(records, fmt, style or settings.style,
                          locale or _configured_locale(path), standalone=standalone,
                          title=title)
    if output:
        write_output(output, text.encode("utf-8"), path)
        click.echo(f"wrote {len(records)} entries to {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("cite")
@click.argument("keys", nargs=-1, required=True)
@click.option("--style", "-s", metavar="S", help="CSL style name or .csl file, or a pybtex "
              "style (default: the 'style' setting, din-iso-690).")
@click.option("--locale", "-l", metavar="L", help="CSL locale such as de-DE or en-US.")
@click.pass_context
def cite(ctx, keys, style, locale):
    """Print the in-text citation of KEY... together, e.g. (Lohse 2017).

    \b
    Examples:
      clippings cite lohse2017dossier --style chicago-author-date
      clippings cite lohse2017dossier rutz2011geschenk --style apa
    """
    from .base import library_path, settings_for
    from ..export import cite as run_cite
    from ..library import Library
    path = library_path(ctx)
    settings = settings_for(path)
    lib = Library.load(path, settings)
    records = [lib.record(lib.resolve_key(k)) for k in dict.fromkeys(keys)]
    click.echo(run_cite(records, style or settings.style, locale or _configured_locale(path)))


@click.command("styles")
@click.argument("pattern", default="")
@click.option("--names", "names_only", is_flag=True, help="Print only the style names.")
def styles(pattern, names_only):
    """List the available citation styles whose name or title contains PATTERN.

    \b
    Examples:
      clippings styles din
      clippings styles "author-date" --names
    """
    from ..export import styles as list_styles
    found = list_styles(pattern)
    width = max((len(n) for n, _ in found), default=0)
    for name, title in found:
        click.echo(name if names_only else f"{name:<{width}}  {title}")
    if not found:
        click.echo(f"no style matches {pattern!r}", err=True)
