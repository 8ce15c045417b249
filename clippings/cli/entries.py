"""Commands on the library's entries: init, list, show, set, unset, edit, rename, rm, lint."""

from __future__ import annotations

import os
import re
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
    from ..gitsetup import repository_of, setup
    from ..manage import init_library
    click.echo(f"created {init_library(Path(directory))}")
    if repository_of(Path(directory)) is not None:   # team work: merges entry by entry
        for line in setup(Path(directory)):
            click.echo(line)


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
        title = one_line(rec.fields.get("title", ""))
        line = f"{rec.key:<24} {rec.type:<10} {one_line(display_date(rec)):<10} " \
               f"{one_line(first_author(rec))[:20]:<20} {title}"
        click.echo(line[:width] if sys.stdout.isatty() else line)


_LINE_BREAKS = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """Newlines and tabs in a value become spaces: `list` keeps one line per entry."""
    return _LINE_BREAKS.sub(" ", text)


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
    from ..manage import field_values, record_json
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
    click.echo(click.style(key, bold=True) + f"  @{rec.type}")
    for name, value in field_values(rec).items():
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
@click.option("--force", is_flag=True,
              help="Keep a value that breaks the rules (e.g. a date that is not ISO 8601).")
@click.pass_context
def set_(ctx, key, assignments, raw_latex, force):
    """Set fields of one entry; only that entry's text changes.

    Dates must be ISO 8601, URLs http(s) (www.example.de/x is taken as https), ISBNs
    need the right check digit, names are 'Family, Given and {Organisation}';
    --force keeps a value anyway.

    \b
    Examples:
      clippings set lohse2017dossier urldate=2024-05-01 "note=Dossier mit Karte"
      clippings set lohse2017dossier "author=Lohse, Peggy and {Redaktion RBTH}"
    """
    from ..fields import parse_assignment
    from ..manage import set_fields
    path = library_path(ctx)
    pairs = [parse_assignment(a) for a in assignments]
    key = set_fields(path, key, pairs, raw_latex, settings_for(path), force=force)
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
@click.option("--force", is_flag=True,
              help="Save values that break the rules (e.g. a date that is not ISO 8601).")
@click.pass_context
def edit(ctx, key, force):
    """Open one entry in $VISUAL or $EDITOR (else nano, else vi); it is checked before
    it is saved.

    The edited text must parse and follow the rules of set (dates, URLs, ISBNs, names,
    entry type; --force keeps odd values). On an error a terminal offers to reopen the
    editor; otherwise, or when the entry changed in library.bib meanwhile, nothing is
    written and the edit is kept in rejected-edits/ (its path is printed).

    \b
    Example:
      EDITOR=nano clippings edit lohse2017dossier
    """
    from ..editing import check_edit, choose_editor, keep_edit
    from ..library import Library
    from ..manage import edit_entry
    path = library_path(ctx)
    settings = settings_for(path)
    lib = Library.load(path, settings)
    key = lib.resolve_key(key)
    original = lib.entry_text(key)
    editor, hint = choose_editor()
    if hint:
        click.echo(f"clippings: {hint}", err=True)
    text = original
    while True:
        try:
            edited = click.edit(text, editor=editor, extension=".bib", require_save=False)
        except click.ClickException as exc:
            raise UsageError(f"the editor {editor!r} failed ({exc.format_message()}); "
                             "set $VISUAL or $EDITOR to one that works") from None
        if edited is None or edited.strip() == original.strip():
            click.echo("no changes")
            return
        try:
            check_edit(lib, edited, force)
        except ClippingsError as exc:
            if sys.stdin.isatty() and click.confirm(
                    f"clippings: {exc}\nEdit again?", default=True, err=True):
                text = edited
                continue
            kept = keep_edit(path.parent, key, edited)
            raise UsageError(f"{exc}; nothing was saved, your edit is kept in {kept}") \
                from None
        break
    try:
        new_key = edit_entry(path, key, original, edited, settings)
    except ClippingsError as exc:
        kept = keep_edit(path.parent, key, edited)
        now = Library.load(path, settings)
        current = now.entry_text(key) if key in now else None
        if current is None or current != original:
            click.echo(f"% library.bib now has:\n{current or '(the entry is gone)'}\n\n"
                       f"% your edit (kept in {kept}):\n{edited.strip()}")
            from ..errors import ConflictError
            raise ConflictError(f"entry '{key}' changed in library.bib while you were "
                                f"editing it: nothing was written; both versions are "
                                f"shown above and your edit is kept in {kept}") from None
        kept_error = ClippingsError(f"{exc}; your edit is kept in {kept}")
        kept_error.exit_code = exc.exit_code
        raise kept_error from None
    click.echo("no changes" if new_key is None else f"saved {new_key}")
    if new_key and new_key != key:
        from .. import journal, snapshots
        with journal.snapshots_changing(path, key, new_key):
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
@click.option("--force", is_flag=True,
              help="Remove even entries that others refer to (crossref, xdata, ...).")
@click.pass_context
def rm(ctx, keys, keep_snapshot, force):
    """Remove entries (and their snapshots).

    An entry that other entries inherit from or refer to is kept unless --force.

    \b
    Example:
      clippings rm roters2016staedtepartnerschaften
    """
    from ..manage import remove
    path = library_path(ctx)
    for done in remove(path, list(keys), keep_snapshot, settings_for(path), force=force):
        note = " and its snapshot" if done.snapshot else ""
        if done.unsafe_key:
            note = " (its key cannot name a folder, so no snapshot folder was touched)"
        click.echo(f"removed {done.key}{note}")


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
    from ..errors import ConflictMarkerError
    from ..library import Library
    path = library_path(ctx)
    try:
        lib = Library.load(path, settings_for(path))
    except ConflictMarkerError as exc:   # list every marker, then stop as for bad input
        markers = [{"key": "", "field": "", "severity": "error", "line": line,
                    "message": "unresolved merge conflict marker"} for line in exc.lines]
        if as_json:
            echo_json(markers)
        else:
            for m in markers:
                click.echo(f"{path.name}:{m['line']}: error: {m['message']}")
        raise
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
