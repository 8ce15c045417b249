"""Commands on the library's entries: init, list, show, set, unset, edit, rename, rm, lint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import ClippingsError, UsageError
from .base import echo_json, library_path, settings_for


# -- init ---------------------------------------------------------------------------

@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Create an empty library in DIRECTORY (default: here).

    \b
    Example:
      clippings init ~/clippings && cd ~/clippings && clippings list
    """
    from ..manage import init_library
    click.echo(f"created {init_library(Path(directory))}")


# -- list / show ----------------------------------------------------------------------

@click.command("list")
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
    from ..library import Library
    from ..manage import display_date, first_author, record_json, select
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


@click.command()
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
    from .. import snapshots
    from ..library import Library
    from ..manage import record_json
    path = library_path(ctx)
    lib = Library.load(path, settings_for(path))
    key = lib.resolve_key(key)
    if as_bibtex:
        click.echo(lib.entry_text(key))
        return
    rec = lib.record(key)
    snap = snapshots.info(path.parent, key)
    status = _link_status(path, key, lib.record(key, resolve=False).fields)
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


def _link_status(path: Path, key: str, own_fields: dict[str, str]) -> dict | None:
    """The last check of the URLs this entry holds now (results of a URL it no longer
    has are not shown)."""
    from ..links_cache import last_status
    return last_status(path.parent, key, {f: own_fields.get(f, "") for f in
                                          ("url", "archiveurl")})


# -- set / unset / edit / rename / rm --------------------------------------------------

@click.command("set")
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
    from ..fields import parse_assignment
    from ..manage import set_fields
    path = library_path(ctx)
    pairs = [parse_assignment(a) for a in assignments]
    key = set_fields(path, key, pairs, raw_latex, settings_for(path))
    click.echo(f"{key}: set {', '.join(n for n, _ in pairs)}")


@click.command()
@click.argument("key")
@click.argument("fields", nargs=-1, required=True, metavar="FIELD...")
@click.pass_context
def unset(ctx, key, fields):
    """Remove fields from one entry.

    \b
    Example:
      clippings unset lohse2017dossier note abstract
    """
    from ..manage import unset_fields
    path = library_path(ctx)
    key, missing = unset_fields(path, key, [f.lower() for f in fields], settings_for(path))
    removed = [f for f in fields if f.lower() not in missing]
    if removed:
        click.echo(f"{key}: removed {', '.join(removed)}")
    if missing:
        click.echo(f"{key}: not set: {', '.join(missing)}", err=True)


@click.command()
@click.argument("key")
@click.pass_context
def edit(ctx, key):
    """Open one entry in $EDITOR; it is validated before it is saved.

    \b
    Example:
      EDITOR=nano clippings edit lohse2017dossier
    """
    from ..library import Library
    from ..manage import edit_entry
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
        from .. import snapshots
        snapshots.move(path.parent, key, new_key)


@click.command()
@click.argument("old")
@click.argument("new")
@click.pass_context
def rename(ctx, old, new):
    """Give an entry a new citation key (its snapshot moves along).

    \b
    Example:
      clippings rename lohse2017dossier lohse2017staedte
    """
    from ..manage import rename as do_rename
    path = library_path(ctx)
    old, moved = do_rename(path, old, new, settings_for(path))
    click.echo(f"{old} -> {new}" + (" (snapshot moved)" if moved else ""))


@click.command("rm")
@click.argument("keys", nargs=-1, required=True)
@click.option("--keep-snapshot", is_flag=True, help="Keep snapshots/KEY/.")
@click.pass_context
def rm(ctx, keys, keep_snapshot):
    """Remove entries (and their snapshots).

    \b
    Example:
      clippings rm roters2016staedtepartnerschaften
    """
    from ..manage import remove
    path = library_path(ctx)
    for key, snap in remove(path, list(keys), keep_snapshot, settings_for(path)):
        click.echo(f"removed {key}" + (" and its snapshot" if snap else ""))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@click.pass_context
def lint(ctx, as_json):
    """Check the library: required fields, dates, URLs, keys, duplicates, encoding.

    Exit 1 when anything is found.

    \b
    Example:
      clippings lint --json
    """
    from .. import lint as linting
    from ..library import Library
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
