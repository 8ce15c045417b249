"""Commands that bring entries in: add, fetch, import."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError
from .base import echo_json, library_path, settings_for


# -- add ----------------------------------------------------------------------------

@click.command()
@click.argument("sources", nargs=-1)
@click.option("--type", "entry_type", metavar="T", help="Entry type (article, online, "
              "report, book, ...).")
@click.option("--key", metavar="K", help="Citation key (default: generated).")
@click.option("--tag", "tags", multiple=True, metavar="T", help="Add a keyword (repeatable).")
@click.option("--set", "assignments", multiple=True, metavar="FIELD=VALUE",
              help="Set a field (repeatable). Names: 'Family, Given and {Org}'.")
@click.option("--no-fetch", is_flag=True, help="Do not fetch; build the entry from --set.")
@click.option("--no-snapshot", is_flag=True, help="Fetch metadata but save no snapshot.")
@click.option("--force", is_flag=True, help="Add even when it looks like a duplicate, or "
              "when a value breaks the rules (unknown type, odd date).")
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
    from .. import validate
    from ..fields import parse_assignment
    from ..manage import add_record, record_from_assignments, record_json, source_fields
    path = library_path(ctx)
    settings = settings_for(path)
    pairs = [parse_assignment(a) for a in assignments]
    sources = tuple(validate.check_source(s) for s in sources)
    if no_fetch or not sources:
        if sources:
            pairs = source_fields(sources) + pairs
        if not pairs:
            raise UsageError("nothing to add: give a SOURCE, or --no-fetch with --set")
        default_type = "online" if any(n == "url" for n, _ in pairs) else "misc"
        record = record_from_assignments(entry_type or default_type, pairs, tags, force)
        result = add_record(path, record, key=key, force=force, settings=settings)
        results, failures = [result], []
    else:
        try:
            from ..adding import add_sources
        except ImportError:
            raise UsageError("fetching metadata is not available in this version; "
                             "use --no-fetch with --set") from None
        if entry_type:
            entry_type = validate.check_type(entry_type, force)
        pairs = [(n, validate.check_value(n, v, force)) for n, v in pairs]
        from ..progress import Progress
        with Progress("adding", len(sources), noun="sources",
                      enabled=len(sources) > 1) as progress:
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
        for note in result.notes:
            click.echo(f"clippings: {result.key}: {note}", err=True)
    for source, exc in failures:
        click.echo(f"clippings: error: {source}: {exc}", err=True)
    if failures:
        ctx.exit(max(exc.exit_code for _, exc in failures))


@click.command()
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
    from ..adding import fetch_entries
    if overwrite and not refresh:
        raise UsageError("--overwrite only goes with --refresh")
    path = library_path(ctx)
    from ..progress import Progress
    with Progress("fetching", noun="entries", enabled=not as_json) as progress:
        results = fetch_entries(path, list(keys), settings=settings_for(path),
                                missing=missing, refresh=refresh, overwrite=overwrite,
                                on_item=progress.step, on_start=progress.start)
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


# -- import / lint ---------------------------------------------------------------------

@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True,
                                                                  dir_okay=False))
@click.option("--force", is_flag=True, help="Import likely duplicates too, and entries "
              "whose values break the rules (unknown type, odd date, bad ISBN).")
@click.option("--rekey", is_flag=True,
              help="Give every imported entry a key made by the library's key pattern.")
@click.pass_context
def import_(ctx, files, force, rekey):
    """Merge entries from .bib, .ris or CSL-JSON files.

    Keys are kept as they are (your \\cite commands keep working) unless --rekey; a key
    already taken gets a suffix, and every changed key is printed as OLD -> NEW.
    Likely duplicates are skipped (exit 1) unless --force. Values follow the same rules
    as add and set: an entry with an unknown type, a date that is not ISO 8601, a bad URL
    or ISBN is skipped and named (exit 1) unless --force.

    \b
    Example:
      clippings import zotero-export.ris more.bib
    """
    from ..manage import import_files
    path = library_path(ctx)
    result = import_files(path, [Path(f) for f in files], force, settings_for(path),
                          rekey=rekey)
    for key in result.added:
        click.echo(f"added {key}")
    for old, new in result.renamed:   # a list: two files may hold the same key
        click.echo(f"{old} -> {new}")
    for key, existing, why in result.skipped:
        click.echo(f"skipped {key}: likely duplicate of {existing} ({why})", err=True)
    for key, problem in result.invalid:
        click.echo(f"skipped {key}: {problem} (--force imports it anyway)", err=True)
    if result.skipped or result.invalid:
        ctx.exit(1)
