"""`clippings index` and `clippings search`: the full-text index and queries over it.

Only click is imported at module level; the search package (and Whoosh) load when one of
these commands runs, so other commands start as fast as before.
"""

from __future__ import annotations

import re
import sys

import click

from ..progress import Progress

# Builds with fewer documents than this finish too fast to need a progress bar.
PROGRESS_FROM = 200


BACKEND_HELP = ("Search backend: 'whoosh' (index/ beside library.bib) or a URL "
                "postgresql://user@host/database (overrides the search_backend setting, "
                "and search_read_url for searches).")



def say_rebuilt(found) -> None:
    """A rebuild a search needed (a damaged index), said as `index` says it, on stderr:
    piped keys and exported references stay clean."""
    if found.rebuilt:
        click.echo(f"rebuilt the search index: {found.rebuilt.total} entries "
                   f"({found.rebuilt.rebuilt})", err=True)

@click.command("index")
@click.option("--rebuild", is_flag=True, help="Throw the index away and build it anew.")
@click.option("--backend", metavar="URL", help=BACKEND_HELP)
@click.pass_context
def index(ctx: click.Context, rebuild: bool, backend: str | None) -> None:
    """Bring the search index up to date (only changed entries are re-indexed).

    `clippings search` does this by itself when the index is missing or stale; run it
    after large imports, or with --rebuild when the index seems wrong.

    \b
    Examples:
      clippings index
      clippings index --rebuild
      clippings index --backend postgresql://clippings@dbhost/clippings
    """
    from .base import library_path, settings_for
    from ..search import update
    path = library_path(ctx)
    with Progress("indexing", noun="entries", min_total=PROGRESS_FROM) as progress:
        # Thorough, unlike a search's own catch-up from the journal: every entry and
        # snapshot is compared, so a text.txt edited by hand is found too.
        report = update(path, rebuild=rebuild, progress=progress.update,
                        settings=settings_for(path), backend=backend, compare_all=True)
    if report.rebuilt:
        click.echo(f"built the index: {report.total} entries ({report.rebuilt})")
    elif report.changed:
        click.echo(f"updated the index: {len(report.added)} added, "
                   f"{len(report.updated)} changed, {len(report.removed)} removed "
                   f"({report.total} entries)")
    else:
        click.echo(f"the index is up to date ({report.total} entries)")
    if report.total >= WHOOSH_CEILING_NEAR and not _postgres(path, backend):
        click.echo(f"note: {report.total} entries is near what one Whoosh index serves "
                   "well; for a library this size or a team, use PostgreSQL "
                   "(README, \"Search for a team\")", err=True)


# Entries from which `index` suggests PostgreSQL (docs/scaling.md: Whoosh's ceiling).
WHOOSH_CEILING_NEAR = 250_000


def _postgres(path, backend: str | None) -> bool:
    from .base import settings_for
    from ..search.backend import is_postgres, spec_of
    return is_postgres(spec_of(settings_for(path), backend))


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", default=10, show_default=True, type=click.IntRange(min=0),
              help="Show at most N hits (0 = all).")
@click.option("--json", "as_json", is_flag=True,
              help="Print hits as JSON (matched words in the snippet as **word**).")
@click.option("--keys", "keys_only", is_flag=True, help="Print only the keys, one a line.")
@click.option("--backend", metavar="URL", help=BACKEND_HELP)
@click.pass_context
def search(ctx: click.Context, query: tuple[str, ...], limit: int, as_json: bool,
           keys_only: bool, backend: str | None) -> None:
    """Search titles, authors, abstracts, notes and snapshot texts, best match first.

    \b
    Words must all match; also "phrases", AND / OR / NOT, (groups),
    field:word with author, title, journal, type, tag, lang, abstract, note, text, key,
    year:2015..2017, date:2016-04..2016-06, year:>2015, wildcards Städte* and
    fuzzy words Wolgogard~. German and Russian forms, compounds, umlaut spellings
    (Städte, Staedte, Stadte) and transliterations (Wolgograd, Volgograd, Волгоград)
    find each other.

    \b
    Examples:
      clippings search Partnerschaft
      clippings search 'author:Lohse year:2016..2017'
      clippings search '"Rothenburg ob der Tauber" OR Wolgograd' --json
    """
    from .base import echo_json, library_path, settings_for
    from ..search import page
    path = library_path(ctx)
    with Progress("updating the search index", min_total=PROGRESS_FROM) as progress, \
            Progress("rebuilding the search index", min_total=PROGRESS_FROM) as rebuild:
        found = page(path, " ".join(query), limit=limit or None, facets=False,
                     settings=settings_for(path), backend=backend,
                     progress=progress.update, rebuild_progress=rebuild.update)
    say_rebuilt(found)
    hits, total = found.hits, found.total
    if as_json:
        echo_json([hit.as_json() for hit in hits])
        return
    if keys_only:
        for hit in hits:
            click.echo(hit.key)
    else:
        _print(hits)
    if total > len(hits):   # on stderr: piped keys stay clean
        about = "about " if found.estimated else ""
        click.echo(f"{len(hits)} of {about}{total:,} hits; --limit for more", err=True)


def _print(hits) -> None:
    from ..search.query import marked_pieces
    if not hits:
        click.echo("no hits", err=True)
        return
    tty = sys.stdout.isatty()
    for hit in hits:
        who = hit.authors[0].split(",")[0] if hit.authors else ""
        title = "".join(click.style(piece, bold=True) if matched and tty else piece
                        for piece, matched in marked_pieces(hit.title, hit.title_spans))
        head = "  ".join(p for p in (hit.date[:10], who, title) if p)
        click.echo(click.style(hit.key, bold=True) + f"  {hit.score:.2f}  {head}")
        if hit.snippet:
            click.echo("    " + _bold(hit.snippet, tty))


def _bold(snippet: str, tty: bool) -> str:
    """**word** -> bold on a terminal; plain word in a pipe."""
    if tty:
        return re.sub(r"\*\*(.+?)\*\*", lambda m: click.style(m.group(1), bold=True),
                      snippet)
    return snippet.replace("**", "")
