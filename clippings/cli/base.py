"""The command group, its error handling, and the helpers every command module shares."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..errors import ClippingsError


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
    from ..library import find_library
    return find_library(ctx.obj.get("library_option"))


def settings_for(path: Path, **overrides):
    from ..config import load_settings
    return load_settings(path.parent, overrides)


def echo_json(data) -> None:
    """JSON on stdout: indented for a person, compact (and much faster) for a program."""
    from ..manage import dumps
    click.echo(dumps(data, indent=2 if sys.stdout.isatty() else None))
