"""What `clippings edit` needs besides saving: which editor, checking the edited text
with the rules of `validate`, and keeping an edit that could not be saved.

An edit is never thrown away: text that does not parse, breaks a rule or meets an entry
that changed on disk meanwhile is written to `rejected-edits/KEY-TIME.bib` in the
library folder, and the command says where.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

from . import bibfile, validate
from .errors import BibSyntaxError, UsageError

REJECTED = "rejected-edits"
FALLBACK_EDITORS = ("nano", "vi")


def choose_editor(env=None) -> tuple[str, str | None]:
    """(editor command, a hint to show or None): $VISUAL, else $EDITOR, else nano,
    else vi. The hint says which fallback is used and how to choose another."""
    env = os.environ if env is None else env
    for var in ("VISUAL", "EDITOR"):
        if env.get(var, "").strip():
            return env[var], None
    for name in FALLBACK_EDITORS:
        if shutil.which(name, path=env.get("PATH")):
            return name, (f"neither $VISUAL nor $EDITOR is set: editing with {name} "
                          "(set EDITOR, e.g. EDITOR=vim, to use another)")
    raise UsageError("no editor found: neither $VISUAL nor $EDITOR is set and neither "
                     "nano nor vi is installed; set EDITOR, e.g. EDITOR=emacs")


def check_edit(lib, text: str, force: bool = False) -> bibfile.Block:
    """The one entry of an edited text, or UsageError naming the line of the text
    (not of library.bib). The rules of `validate` apply unless `force`."""
    try:
        blocks, _ = bibfile.parse(text, "edited entry", lib.macros)
    except BibSyntaxError as exc:
        raise UsageError(f"line {exc.line} of the edited entry: {exc.message}") from None
    entries = [b for b in blocks if b.kind == "entry"]
    if len(entries) != 1:
        raise UsageError(f"the edited text must hold exactly one entry, it has "
                         f"{len(entries)}")
    if not force:
        problems = validate.block_problems(entries[0], text)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise validate.ValueProblem(f"line {first.line} of the edited entry: "
                                        f"{first.message}{more}", validate.FORCE_HINT)
    return entries[0]


def keep_edit(library_folder: Path, key: str, text: str) -> Path:
    """Write an edit that was not saved to rejected-edits/KEY-TIME.bib; returns the path."""
    folder = Path(library_folder) / REJECTED
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in key) or "entry"
    path = folder / f"{safe}-{stamp}.bib"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{safe}-{stamp}-{n}.bib"
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
