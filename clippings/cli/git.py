"""Commands for team work in git: git-setup and merge-driver."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("git-setup")
@click.option("--command", "command", metavar="CMD",
              help="The driver command to register (default: this installation's "
                   "python -m clippings merge-driver %O %A %B %P).")
@click.pass_context
def git_setup(ctx, command):
    """Let git merge library.bib entry by entry (run once in each clone).

    Writes .gitattributes beside library.bib and the merge.clippings driver into the
    repository's config; running it again changes nothing.

    \b
    Example:
      cd ~/presse && clippings git-setup && git add .gitattributes
    """
    from ..gitsetup import setup
    from .base import library_path
    folder = library_path(ctx).parent
    for line in setup(folder, command):
        click.echo(line)


@click.command("merge-driver")
@click.argument("ancestor", type=click.Path(exists=True, dir_okay=False))
@click.argument("ours", type=click.Path(exists=True, dir_okay=False))
@click.argument("theirs", type=click.Path(exists=True, dir_okay=False))
@click.argument("path", required=False, default="library.bib")
def merge_driver(ancestor, ours, theirs, path):
    """git's merge driver for library.bib (%O %A %B %P): merges entries and fields.

    Writes the result into OURS. Exit 0 when clean; 1 with conflict markers inside
    the conflicting entries (git then stops for you to resolve them).

    \b
    Example (what `clippings git-setup` registers):
      git config merge.clippings.driver 'clippings merge-driver %O %A %B %P'
    """
    from ..config import Settings, load_settings
    from ..errors import UsageError
    from ..mergedriver import merge_files
    folder = Path(path).parent
    try:
        settings = load_settings(folder)
    except UsageError:
        settings = Settings()
    outcome = merge_files(Path(ancestor), Path(ours), Path(theirs), path,
                          settings.encoding, library_folder=folder)
    for message in outcome.messages:
        click.echo(f"clippings: {message}", err=True)
    if not outcome.clean:
        raise SystemExit(1)
