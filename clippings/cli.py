"""The command line: parse arguments, call one function of the package, render the result.

Heavy modules are imported inside the commands that need them, so `clippings --help`
and the single-entry commands start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import ClippingsError, UsageError


class ClippingsGroup(click.Group):
    """Turns ClippingsError into one line on stderr and its exit code (no traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ClippingsError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"clippings: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("clippings: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`clippings list | head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except OSError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"clippings: error: {exc.strerror or exc}: "
                       f"{exc.filename or ''}".rstrip(": "), err=True)
            ctx.exit(1)
        except Exception as exc:  # a bug: say so in one line, details with --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"clippings: error: internal error: {type(exc).__name__}: {exc} "
                       "(run with --debug for details)", err=True)
            ctx.exit(1)


@click.group(cls=ClippingsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clippings")
@click.option("--library", "library", metavar="PATH", envvar="CLIPPINGS_LIBRARY",
              help="The library folder or its library.bib (default: the nearest "
                   "library.bib here or above; env CLIPPINGS_LIBRARY).")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, library: str | None, debug: bool) -> None:
    """clippings: a BibTeX library of press clippings, with snapshots, link checks,
    German/Russian full-text search and citation export.

    \b
    Example:
      clippings list --year 2016..2017
      clippings add --no-fetch --set title="Michendorfer Entspannungspolitik" \\
                    --set date=2015-04-20 --type article
    """
    ctx.ensure_object(dict)
    ctx.obj["library_option"] = library
    ctx.obj["debug"] = debug


def library_path(ctx: click.Context) -> Path:
    from .library import find_library
    return find_library(ctx.obj.get("library_option"))


def settings_for(path: Path, **overrides):
    from .config import load_settings
    return load_settings(path.parent, overrides)


def echo_json(data) -> None:
    """JSON on stdout: indented for a person, compact (and much faster) for a program."""
    from .manage import dumps
    click.echo(dumps(data, indent=2 if sys.stdout.isatty() else None))


# -- init ---------------------------------------------------------------------------

@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Create an empty library in DIRECTORY (default: here).

    \b
    Example:
      clippings init ~/clippings && cd ~/clippings && clippings list
    """
    from .manage import init_library
    click.echo(f"created {init_library(Path(directory))}")


# -- add ----------------------------------------------------------------------------

@main.command()
@click.argument("sources", nargs=-1)
@click.option("--type", "entry_type", metavar="T", help="Entry type (article, online, "
              "report, book, ...).")
@click.option("--key", metavar="K", help="Citation key (default: generated).")
@click.option("--tag", "tags", multiple=True, metavar="T", help="Add a keyword (repeatable).")
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
              help="Set a field (repeatable). Names: 'Family, Given and {Org}'.")
@click.option("--no-fetch", is_flag=True, help="Do not fetch; build the entry from --set.")
@click.option("--no-snapshot", is_flag=True, help="Fetch metadata but save no snapshot.")
@click.option("--force", is_flag=True, help="Add even when it looks like a duplicate.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def add(ctx, sources, entry_type, key, tags, assignments, no_fetch, no_snapshot, force,
        as_json):
    """Add an entry from a URL, DOI, ISBN or PDF, or by hand with --no-fetch.

    \b
    Examples:
      clippings add --no-fetch --type article --set title="Michendorfer Entspannungspolitik" \\
          --set journaltitle="Märkische Allgemeine" --set date=2015-04-20
      clippings add https://www.example.org/article.html --tag presse
    """
    from .fields import parse_assignment
    from .manage import add_record, record_from_assignments, record_json, source_fields
    path = library_path(ctx)
    settings = settings_for(path)
    pairs = [parse_assignment(a) for a in assignments]
    if no_fetch or not sources:
        if sources:
            pairs = source_fields(sources) + pairs
        if not pairs:
            raise UsageError("nothing to add: give a SOURCE, or --no-fetch with --set")
        default_type = "online" if any(n == "url" for n, _ in pairs) else "misc"
        record = record_from_assignments(entry_type or default_type, pairs, tags)
        result = add_record(path, record, key=key, force=force, settings=settings)
        results, failures = [result], []
    else:
        try:
            from .adding import add_sources
        except ImportError:
            raise UsageError("fetching metadata is not available in this version; "
                             "use --no-fetch with --set") from None
        from .progress import Progress
        with Progress("adding", len(sources), enabled=len(sources) > 1) as progress:
            results, failures = add_sources(
                path, list(sources), settings=settings, entry_type=entry_type, key=key,
                tags=tags, assignments=pairs, force=force, snapshot=not no_snapshot,
                on_item=progress.step)
    for result in results:
        if as_json:
            echo_json({"key": result.key, "entry": record_json(result.record),
                       "snapshot": result.snapshot,
                       "duplicates": [k for k, _ in result.duplicates]})
        else:
            click.echo(result.key)
    for source, exc in failures:
        click.echo(f"clippings: error: {source}: {exc}", err=True)
    if failures:
        ctx.exit(max(exc.exit_code for _, exc in failures))


@main.command()
@click.argument("keys", nargs=-1)
@click.option("--missing", is_flag=True, help="Only entries that have no snapshot yet.")
@click.option("--refresh", is_flag=True, help="Fetch again even entries that look complete.")
@click.option("--overwrite", is_flag=True,
              help="With --refresh: replace fields a person set when the page differs.")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
@click.pass_context
def fetch(ctx, keys, missing, refresh, overwrite, as_json):
    """Fetch metadata and snapshots for existing entries, filling empty fields.

    Without KEYs, every entry with a url, doi or isbn that lacks a snapshot or a core field
    (title, date, journaltitle, langid, author). Fields already set are kept unless
    --refresh --overwrite. Exit 3 when a fetch failed on the network.

    \b
    Examples:
      clippings fetch --missing
      clippings fetch lohse2017dossier --refresh
    """
    from .adding import fetch_entries
    if overwrite and not refresh:
        raise UsageError("--overwrite only goes with --refresh")
    path = library_path(ctx)
    from .progress import Progress
    with Progress("fetching", enabled=not as_json) as progress:
        results = fetch_entries(path, list(keys), settings=settings_for(path),
                                missing=missing, refresh=refresh, overwrite=overwrite,
                                on_item=progress.step)
    if as_json:
        echo_json([{"key": r.key, "changed": r.changed, "snapshot": r.snapshot,
                    "error": r.error} for r in results])
    else:
        for r in results:
            if r.error:
                click.echo(f"{r.key}: error: {r.error}", err=True)
                continue
            parts = [f"{name}: {old!r} -> {new!r}" if old else f"+{name}"
                     for name, (old, new) in r.changed.items()]
            if r.snapshot:
                parts.append("snapshot saved")
            click.echo(f"{r.key}: " + (", ".join(parts) if parts else "nothing new"))
        if not results:
            click.echo("nothing to fetch")
    codes = [r.exit_code for r in results if r.exit_code]
    if codes:
        ctx.exit(max(codes))


# -- list / show ----------------------------------------------------------------------

@main.command("list")
@click.option("--type", "entry_type", metavar="T", help="Only entries of this type.")
@click.option("--tag", metavar="T", help="Only entries with this keyword.")
@click.option("--year", metavar="Y[..Y]", help="Only entries from this year or range.")
@click.option("--json", "as_json", is_flag=True, help="Print entries as JSON.")
@click.pass_context
def list_(ctx, entry_type, tag, year, as_json):
    """List entries: key, type, date, first author, title.

    \b
    Examples:
      clippings list --type article --year 2016..2017
      clippings list --tag konferenz --json
    """
    from .library import Library
    from .manage import display_date, first_author, record_json, select
    path = library_path(ctx)
    lib = Library.load(path, settings_for(path))
    rows = select(lib.records(), entry_type, tag, year)
    if as_json:
        echo_json([record_json(r) for r in rows])
        return
    width = _terminal_width()
    for rec in rows:
        title = rec.fields.get("title", "")
        line = f"{rec.key:<24} {rec.type:<10} {display_date(rec):<10} " \
               f"{first_author(rec)[:20]:<20} {title}"
        click.echo(line[:width] if sys.stdout.isatty() else line)


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 10**6


@main.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
@click.option("--bibtex", "as_bibtex", is_flag=True, help="Print the entry's BibTeX text.")
@click.pass_context
def show(ctx, key, as_json, as_bibtex):
    """Show one entry, with its snapshot and link status if known.

    \b
    Example:
      clippings show lohse2017dossier
    """
    from . import snapshots
    from .library import Library
    from .manage import record_json
    path = library_path(ctx)
    lib = Library.load(path, settings_for(path))
    key = lib.resolve_key(key)
    if as_bibtex:
        click.echo(lib.entry_text(key))
        return
    rec = lib.record(key)
    snap = snapshots.info(path.parent, key)
    status = _link_status(path, key)
    if as_json:
        data = record_json(rec)
        data["snapshot"] = snap
        data["link"] = status
        echo_json(data)
        return
    data = record_json(rec)
    click.echo(click.style(f"{data.pop('key')}", bold=True) + f"  @{data.pop('type')}")
    for name, value in data.items():
        click.echo(f"  {name:<12} {value}")
    if snap:
        meta = snap["meta"]
        when = meta.get("fetched_at", "")
        click.echo(f"  {'snapshot':<12} {snap['path']} ({', '.join(snap['files'])}) {when}")
    if status:
        click.echo(f"  {'link':<12} {status.get('status')} "
                   f"({status.get('checked_at', '')}) {status.get('message', '')}".rstrip())


def _link_status(path: Path, key: str) -> dict | None:
    try:
        from .links_cache import last_status
    except ImportError:
        return None
    return last_status(path.parent, key)


# -- set / unset / edit / rename / rm --------------------------------------------------

@main.command("set")
@click.argument("key")
@click.argument("assignments", nargs=-1, required=True, metavar="FIELD=VALUE...")
@click.option("--latex", "raw_latex", is_flag=True,
              help="Values are LaTeX, written as given (braces must balance).")
@click.pass_context
def set_(ctx, key, assignments, raw_latex):
    """Set fields of one entry; only that entry's text changes.

    \b
    Examples:
      clippings set lohse2017dossier urldate=2024-05-01 "note=Dossier mit Karte"
      clippings set lohse2017dossier "author=Lohse, Peggy and {Redaktion RBTH}"
    """
    from .fields import parse_assignment
    from .manage import set_fields
    path = library_path(ctx)
    pairs = [parse_assignment(a) for a in assignments]
    key = set_fields(path, key, pairs, raw_latex, settings_for(path))
    click.echo(f"{key}: set {', '.join(n for n, _ in pairs)}")


@main.command()
@click.argument("key")
@click.argument("fields", nargs=-1, required=True, metavar="FIELD...")
@click.pass_context
def unset(ctx, key, fields):
    """Remove fields from one entry.

    \b
    Example:
      clippings unset lohse2017dossier note abstract
    """
    from .manage import unset_fields
    path = library_path(ctx)
    key, missing = unset_fields(path, key, [f.lower() for f in fields], settings_for(path))
    removed = [f for f in fields if f.lower() not in missing]
    if removed:
        click.echo(f"{key}: removed {', '.join(removed)}")
    if missing:
        click.echo(f"{key}: not set: {', '.join(missing)}", err=True)


@main.command()
@click.argument("key")
@click.pass_context
def edit(ctx, key):
    """Open one entry in $EDITOR; it is validated before it is saved.

    \b
    Example:
      EDITOR=nano clippings edit lohse2017dossier
    """
    from .library import Library
    from .manage import edit_entry
    path = library_path(ctx)
    settings = settings_for(path)
    lib = Library.load(path, settings)
    key = lib.resolve_key(key)
    original = lib.entry_text(key)
    text = original
    while True:
        edited = click.edit(text, extension=".bib", require_save=False)
        if edited is None:
            click.echo("no changes")
            return
        try:
            lib.parse_entry(edited)
        except ClippingsError as exc:
            click.echo(f"clippings: invalid entry: {exc}", err=True)
            if sys.stdin.isatty() and click.confirm("Edit again?", default=True):
                text = edited
                continue
            raise UsageError("entry not saved: the edited text is not a valid entry") \
                from None
        break
    new_key = edit_entry(path, key, original, edited, settings)
    click.echo("no changes" if new_key is None else f"saved {new_key}")
    if new_key and new_key != key:
        from . import snapshots
        snapshots.move(path.parent, key, new_key)


@main.command()
@click.argument("old")
@click.argument("new")
@click.pass_context
def rename(ctx, old, new):
    """Give an entry a new citation key (its snapshot moves along).

    \b
    Example:
      clippings rename lohse2017dossier lohse2017staedte
    """
    from .manage import rename as do_rename
    path = library_path(ctx)
    old, moved = do_rename(path, old, new, settings_for(path))
    click.echo(f"{old} -> {new}" + (" (snapshot moved)" if moved else ""))


@main.command("rm")
@click.argument("keys", nargs=-1, required=True)
@click.option("--keep-snapshot", is_flag=True, help="Keep snapshots/KEY/.")
@click.pass_context
def rm(ctx, keys, keep_snapshot):
    """Remove entries (and their snapshots).

    \b
    Example:
      clippings rm roters2016staedtepartnerschaften
    """
    from .manage import remove
    path = library_path(ctx)
    for key, snap in remove(path, list(keys), keep_snapshot, settings_for(path)):
        click.echo(f"removed {key}" + (" and its snapshot" if snap else ""))


# -- import / lint ---------------------------------------------------------------------

@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True,
                                                                  dir_okay=False))
@click.option("--force", is_flag=True, help="Import likely duplicates too.")
@click.pass_context
def import_(ctx, files, force):
    """Merge entries from .bib, .ris or CSL-JSON files.

    Likely duplicates are skipped (exit 1) unless --force; colliding keys get a suffix.

    \b
    Example:
      clippings import zotero-export.ris more.bib
    """
    from .manage import import_files
    path = library_path(ctx)
    result = import_files(path, [Path(f) for f in files], force, settings_for(path))
    for key in result.added:
        click.echo(f"added {key}")
    for wanted, given in result.renamed:
        click.echo(f"key {wanted} was taken: added as {given}")
    for key, existing, why in result.skipped:
        click.echo(f"skipped {key}: likely duplicate of {existing} ({why})", err=True)
    if result.skipped:
        ctx.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@click.pass_context
def lint(ctx, as_json):
    """Check the library: required fields, dates, URLs, keys, duplicates, encoding.

    Exit 1 when anything is found.

    \b
    Example:
      clippings lint --json
    """
    from . import lint as linting
    from .library import Library
    path = library_path(ctx)
    lib = Library.load(path, settings_for(path))
    findings = linting.run(lib)
    if as_json:
        echo_json([f.as_dict() for f in findings])
    else:
        for f in findings:
            where = f"{path.name}:{f.line}"
            field = f" {f.field}" if f.field else ""
            click.echo(f"{where}: {f.severity}: {f.key}{field}: {f.message}")
        if not findings:
            click.echo(f"{path}: {len(lib)} entries, no findings")
    if findings:
        ctx.exit(1)


def _register_commands() -> None:
    """Commands that live in clippings/commands/ (each imports its heavy parts lazily)."""
    from .commands.check import check
    from .commands.export import cite, export, styles
    from .commands.search import index, search
    for command in (check, index, search, export, cite, styles):
        main.add_command(command)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
