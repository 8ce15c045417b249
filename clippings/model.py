"""The library's data model: biblatex entry types and fields, decoded to Unicode.

`Record` is what every source produces (a fetched page, an imported .ris or CSL-JSON file,
a `--set` on the command line) and what every consumer reads (search, export, lint).
Values are plain Unicode text, never LaTeX; escaping happens only when a record is written
to library.bib (`bibfile.format_entry`) or exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Fields holding lists of persons (biblatex "name lists").
NAME_FIELDS = ("author", "editor", "translator", "bookauthor", "editora", "editorb",
               "editorc", "holder", "commentator", "annotator", "introduction",
               "foreword", "afterword")

# Fields holding "and"-separated literal lists (biblatex "literal lists").
LIST_FIELDS = ("publisher", "location", "address", "institution", "organization",
               "language", "origlocation", "origpublisher")


class Name(NamedTuple):
    """One person, or an organisation (`literal=True`, whole name in `family`).

    A NamedTuple rather than a dataclass: libraries hold hundreds of thousands of names,
    and tuples are created (e.g. from the cache in index/) several times faster.
    """

    family: str
    given: str = ""
    prefix: str = ""   # the "von" part: "van", "von", "de"
    suffix: str = ""   # the "Jr." part
    literal: bool = False

    def __str__(self) -> str:
        """The name as "prefix Family, Suffix, Given" text (no LaTeX, no braces)."""
        if self.literal:
            return self.family
        family = f"{self.prefix} {self.family}".strip()
        parts = [family] + [p for p in (self.suffix, self.given) if p]
        if self.suffix and not self.given:
            parts.append("")
        return ", ".join(parts)


@dataclass
class Record:
    """A bibliographic item: biblatex type, plain-text fields, and parsed name lists.

    `fields` holds every field except name lists, keyed by lowercase biblatex field
    name (`title`, `journaltitle`, `date` as ISO 8601 `2017-06-26` / `2017-06` / `2017`,
    `url`, `langid`, `keywords` as "a, b, c" ...). `names` holds the name-list fields
    (`author`, `editor`, ...) as lists of `Name`. `key` is the citation key when known;
    `source_key` the id an imported CSL-JSON or RIS file gave it, which `key` may have had
    to clean up (`import` reports the change).
    """

    type: str
    fields: dict[str, str] = field(default_factory=dict)
    names: dict[str, list[Name]] = field(default_factory=dict)
    key: str | None = None
    source_key: str | None = field(default=None, compare=False, repr=False)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    @property
    def year(self) -> str:
        """The four-digit year from `date` (or a legacy `year` field), or ""."""
        date = self.fields.get("date") or self.fields.get("year") or ""
        return date[:4] if date[:4].isdigit() else ""
