"""biblatex export: the library's own data model, in the canonical layout of library.bib.

Records are biblatex already (types, `date`, `journaltitle`, name lists, UTF-8), so the
export is the entry writer of library.bib itself (`bibfile.format_entry`): values are
escaped the same way, and a file exported here reads back into the same records.
"""

from __future__ import annotations

from typing import Iterable

from ..bibfile import format_entry
from ..model import Record


def dump(records: Iterable[Record]) -> str:
    """Records as a biblatex .bib file (UTF-8, one blank line between entries)."""
    return "\n".join(format_entry(r, r.key or f"entry{i}") for i, r in enumerate(records, 1))
