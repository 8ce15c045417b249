"""The command line: parse arguments, call one function of the package, render the result.

One module per command group; each imports the package parts it needs inside the
command, so `clippings --help` and the single-entry commands start fast. Import arrows
run downwards only: this package imports the library, never the other way round.
"""

from __future__ import annotations

from .adding import add, fetch, import_
from .base import main
from .check import check
from .entries import edit, init, lint, list_, rename, rm, set_, show, unset
from .export import cite, export, styles
from .git import git_setup, merge_driver
from .search import index, search
from .site import site
from .web import serve, user

for _command in (init, add, fetch, import_, list_, show, set_, unset, edit, rename, rm,
                 lint, check, index, search, export, cite, styles, site, git_setup,
                 merge_driver, serve, user):
    main.add_command(_command)

__all__ = ["main"]
