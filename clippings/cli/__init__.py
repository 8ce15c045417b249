"""The command line: parse arguments, call one function of the package, render the result.

One module per command group; each imports the package parts it needs inside the
command, so `clippings --help` and the single-entry commands start fast. Import arrows
run downwards only: this package imports the library, never the other way round.
"""

from __future__ import annotations

from .base import main

# Command -> the module of this package that defines it (and the function's name there).
# A module is imported when its command runs, or for --help: `clippings search` loads
# one of them, not all eight (35 ms less at every start).
main.lazy_commands = {
    "init": "entries:init", "add": "adding:add", "fetch": "adding:fetch",
    "import": "adding:import_", "list": "entries:list_", "show": "entries:show",
    "set": "entries:set_", "unset": "entries:unset", "edit": "entries:edit",
    "rename": "entries:rename", "rm": "entries:rm", "lint": "entries:lint",
    "check": "check:check", "index": "search:index", "search": "search:search",
    "export": "export:export", "cite": "export:cite", "styles": "export:styles",
    "site": "site:site", "git-setup": "git:git_setup", "merge-driver": "git:merge_driver",
    "serve": "web:serve", "user": "web:user",
}



def run() -> None:
    """The `clippings` program: `main`, then exit without the interpreter's last
    garbage collections. They would go through everything a command built (a search
    of 100,000 entries: a fifth of its time) for nothing: the process ends anyway, and
    objects are still freed and files closed as usual."""
    try:
        main(prog_name="clippings")
    finally:
        import gc
        gc.freeze()


__all__ = ["main", "run"]
