"""The command group, its error handling, and the helpers every command module shares."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..errors import ClippingsError, UsageError


# Options of the group that may also follow the command's name (`clippings import f.bib
# --library X`): flags, and options that take a value.
GLOBAL_FLAGS = ("--debug",)
GLOBAL_VALUES = ("--library",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move `--library PATH` and `--debug` written after the command name in front of
    it, where the group parses them. Arguments after `--` stay where they are."""
    i = 0
    while i < len(args):   # the group's own options, up to the command's name
        arg = args[i]
        if arg in GLOBAL_VALUES:
            i += 2
        elif arg.startswith("-") and arg != "--":
            i += 1
        else:
            break
    tail, moved = [], []
    rest = iter(args[i + 1:])
    for arg in rest:
        if arg == "--":
            tail += [arg, *rest]
            break
        name = arg.split("=", 1)[0]
        if arg in GLOBAL_FLAGS:
            moved.append(arg)
        elif name in GLOBAL_VALUES and "=" in arg:
            moved.append(arg)
        elif arg in GLOBAL_VALUES:
            value = next(rest, None)
            if value is None:
                raise click.UsageError(f"option '{arg}' requires an argument")
            moved += [arg, value]
        else:
            tail.append(arg)
    if not moved or i >= len(args):
        return args
    return args[:i] + moved + [args[i]] + tail


def one_line(exc: click.ClickException) -> str:
    """click's usage errors as clippings reports every error: one line, with a hint."""
    message = exc.format_message().rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return f"clippings: error: {message}"


class ClippingsGroup(click.Group):
    """Turns every error into one line on stderr and its exit code (no traceback):
    ClippingsError, click's usage errors, and bugs."""

    # name -> "module:function" in clippings.cli, imported when first asked for.
    lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy_commands:
            import importlib
            module, function = self.lazy_commands[name].split(":")
            self.add_command(getattr(importlib.import_module(f"clippings.cli.{module}"),
                                     function), name)
        return self.commands.get(name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as exc:   # raised by --help/--version when parsing
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(one_line(exc), err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("clippings: error: aborted", err=True)
            sys.exit(1)
        # Commands end with ctx.exit(code) (returned as the code here) or return None.
        sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)

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
    from ..config import find_library   # not ..library: a search never parses the .bib
    return find_library(ctx.obj.get("library_option"))


def settings_for(path: Path, **overrides):
    from ..config import load_settings
    return load_settings(path.parent, overrides)


def write_output(output: str, data: bytes, library: Path) -> None:
    """Write a command's `-o FILE` atomically. Refused (exit 2) when FILE is one of the
    library's own files: `export -o library.bib` would replace the library with its
    formatted references."""
    from ..library import atomic_write
    path = Path(output)
    if _library_owns(path, library):
        raise UsageError(f"{output} belongs to the library itself ({library.parent}): "
                         "write the output to another file")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {output}: the folder {path.parent} does not exist")
    try:
        atomic_write(path, data)
    except OSError as exc:      # not the temporary file's name: the user named `output`
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


def _library_owns(path: Path, library: Path) -> bool:
    """Whether `path` is library.bib (by any name: a link too), its settings file, or
    inside the folders clippings keeps beside it (index/, snapshots/)."""
    from ..bibcache import _index
    from ..snapshots import SNAPSHOTS
    folder = library.parent.resolve()
    target = path.resolve()
    if target == folder / "clippings.toml":
        return True
    if any(target.is_relative_to(inside) for inside in (_index(folder), folder / SNAPSHOTS)):
        return True
    try:
        return os.path.samefile(path, library)   # follows links: any name of the file
    except OSError:             # not there yet
        return False


def echo_json(data) -> None:
    """JSON on stdout: indented for a person, compact (and much faster) for a program."""
    from ..manage import dumps
    click.echo(dumps(data, indent=2 if sys.stdout.isatty() else None))
