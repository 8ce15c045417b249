""".bib text as a sequence of raw blocks, with byte-preserving edits.

The scanner follows BibTeX's grammar (and biber's habits: `%` starts a comment outside
values, also between fields; `@comment` is skipped), records where every block, field and
value starts and ends, and never normalises anything. Edits (`set_field`, `remove_field`,
`replace_block`) splice new text into exactly one block and leave every other byte alone.
New entries get one canonical layout (`format_entry`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field

from . import latex
from .errors import BibSyntaxError
from .model import LIST_FIELDS, NAME_FIELDS, Name, Record

# BibTeX's month macros, in order: what they expand to here, what export writes.
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                       "nov", "dec")
MONTH_MACROS = {m: str(i) for i, m in enumerate(MONTH_ABBREVIATIONS, 1)}

_WS = re.compile(r"(?:\s+|%[^\n]*)*")
_AT = re.compile(r"%[^\n]*|@")
_ENTRY_HEAD = re.compile(r"@[ \t\r\n]*([A-Za-z][A-Za-z0-9_:-]*)[ \t\r\n]*([{(])")
_KEY = re.compile(r"[^,\s{}()\"#%'=]*")
_NAME = re.compile(r"[^\s=,{}()\"#%]+")
_NUMBER = re.compile(r"[0-9]+")
_MACRO = re.compile(r"[^\s=,{}()\"#%0-9][^\s=,{}()\"#%]*")
_BRACE = re.compile(r"[{}]")
_QUOTE_OR_BRACE = re.compile(r'[{}"]')
_NEWLINE = re.compile(r"\n")
# `, name = {value}` or `, name = "value"` or `, name = 2017`, with no inner braces and no
# `#` after it: most fields of most files, parsed in one regex step.
_FAST_FIELD = re.compile(r'[ \t\r\n]*(,)[ \t\r\n]*([^\s=,{}()"#%]+)[ \t\r\n]*=[ \t\r\n]*'
                         r'(\{[^{}]*\}|"[^"{}]*"|[0-9]+)(?=[ \t\r\n]*[,})])')
_FAST_KIND = {"{": "brace", '"': "quote"}


@dataclass
class Field:
    """One `name = value` of an entry, with absolute offsets into the file text."""

    name: str              # as written
    pieces: list[tuple[str, str]]   # ("brace"|"quote"|"number"|"macro", text inside)
    start: int             # start of the field name
    value_start: int
    value_end: int         # end of the value (after its last piece)
    value: str = ""        # macros expanded, `#` concatenated, LaTeX not yet decoded
    key: str = ""          # the name in lower case (BibTeX field names ignore case)

    def __post_init__(self) -> None:
        self.key = self.name.lower()


@dataclass
class Block:
    """A stretch of the file: an entry, @string, @preamble, @comment, or text between."""

    kind: str              # "entry" | "string" | "preamble" | "comment" | "text"
    start: int
    end: int
    line: int              # 1-based line where the block starts
    type: str = ""         # entry type as written ("BOOK", "article")
    key: str = ""
    fields: list[Field] = dc_field(default_factory=list)
    close: int = 0         # offset of the closing delimiter of an entry
    key_end: int = 0

    def get(self, name: str) -> Field | None:
        name = name.lower()
        for f in self.fields:
            if f.key == name:
                return f
        return None

    @property
    def type_lower(self) -> str:
        return self.type.lower()


class Scanner:
    """Splits .bib text into blocks and parses entry fields (offsets kept)."""

    def __init__(self, text: str, path: str = "library.bib"):
        self.text = text
        self.path = path
        self._line_starts: list[int] | None = None

    # -- positions ----------------------------------------------------------------
    def line_col(self, pos: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(self.text)]
        import bisect
        i = bisect.bisect_right(self._line_starts, pos) - 1
        return i + 1, pos - self._line_starts[i] + 1

    def error(self, pos: int, message: str) -> BibSyntaxError:
        line, col = self.line_col(pos)
        return BibSyntaxError(self.path, line, col, message)

    # -- blocks -------------------------------------------------------------------
    def blocks(self) -> list[Block]:
        text, pos, blocks = self.text, 0, []
        line = 1
        text_start = 0
        while True:
            m = _AT.search(text, pos)
            if m is None:
                break
            if m.group() != "@":
                pos = m.end()
                continue
            head = _ENTRY_HEAD.match(text, m.start())
            if head is None:
                pos = m.end()  # a stray "@" (an e-mail address in a comment): text
                continue
            if m.start() > text_start:
                blocks.append(Block("text", text_start, m.start(), line))
                line += text.count("\n", text_start, m.start())
            block = self._block(head, line)
            blocks.append(block)
            line += text.count("\n", block.start, block.end)
            pos = text_start = block.end
        if text_start < len(text):
            blocks.append(Block("text", text_start, len(text), line))
        return blocks

    def _block(self, head: re.Match, line: int) -> Block:
        kind_word = head.group(1)
        opener = head.group(2)
        closer = "}" if opener == "{" else ")"
        lower = kind_word.lower()
        start, body = head.start(), head.end()
        if lower == "comment":
            end = self._skip_group(body, opener, closer, head.start())
            return Block("comment", start, end, line, type=kind_word)
        if lower in ("string", "preamble"):
            block = Block(lower, start, 0, line, type=kind_word)
            pos = _WS.match(self.text, body).end()
            if lower == "string":
                pos = self._fields(block, pos, closer, single=True)
            else:
                f = Field("", [], pos, pos, pos)
                pos = self._value(f, pos, block)
                block.fields.append(f)
            pos = _WS.match(self.text, pos).end()
            if not self.text.startswith(closer, pos):
                raise self.error(pos, f"expected '{closer}' to close @{kind_word}")
            block.close, block.end = pos, pos + 1
            return block
        block = Block("entry", start, 0, line, type=kind_word)
        pos = _WS.match(self.text, body).end()
        km = _KEY.match(self.text, pos)
        block.key, block.key_end = km.group(), km.end()
        if not block.key:
            raise self.error(pos, f"entry @{kind_word} has no citation key")
        pos = self._fields(block, km.end(), closer)
        block.close, block.end = pos, pos + 1
        return block

    def _skip_group(self, pos: int, opener: str, closer: str, start: int) -> int:
        """End offset of a balanced group whose opener is just before `pos`."""
        depth = 1
        pattern = _BRACE if opener == "{" else re.compile(r"[()]")
        for m in pattern.finditer(self.text, pos):
            depth += 1 if m.group() == opener else -1
            if depth == 0:
                return m.end()
        raise self.error(start, f"'{opener}' opened here is never closed")

    def _fields(self, block: Block, pos: int, closer: str, single: bool = False) -> int:
        """Parse `, name = value` pairs up to the closer; return the closer's offset."""
        text = self.text
        first = True
        fast = _FAST_FIELD.match
        while True:
            if not single:
                # Fast path for the common `, name = {plain value}` (no inner braces, no #).
                m = fast(text, pos)
                if m is not None:
                    raw = m.group(3)
                    kind = _FAST_KIND.get(raw[0], "number")
                    value = raw if kind == "number" else raw[1:-1]
                    block.fields.append(Field(m.group(2), [(kind, value)], m.start(2),
                                              m.start(3), m.end(3), value))
                    first = False
                    pos = m.end()
                    continue
            pos = _WS.match(text, pos).end()
            if text.startswith(closer, pos):
                return pos
            if not (single and first):
                if not text.startswith(",", pos):
                    if not first:
                        self._blame_swallowing_value(block.fields[-1], block)
                    what = "the citation key" if first else f"field '{block.fields[-1].name}'"
                    raise self.error(pos, f"expected ',' or '{closer}' after {what} "
                                     f"in entry '{block.key or block.type}'")
                pos = _WS.match(text, pos + 1).end()
                if text.startswith(closer, pos):
                    return pos
            first = False
            nm = _NAME.match(text, pos)
            if nm is None:
                if pos >= len(text):
                    raise self.error(block.start, f"entry '{block.key}' is never closed "
                                     f"(missing '{closer}')")
                raise self.error(pos, f"expected a field name in entry "
                                 f"'{block.key or block.type}', found {text[pos]!r}")
            f = Field(nm.group(), [], pos, 0, 0)
            pos = _WS.match(text, nm.end()).end()
            if not text.startswith("=", pos):
                raise self.error(pos, f"expected '=' after field '{f.name}' in entry "
                                 f"'{block.key or block.type}'")
            pos = _WS.match(text, pos + 1).end()
            pos = self._value(f, pos, block)
            block.fields.append(f)

    def _blame_swallowing_value(self, f: Field, block: Block) -> None:
        """A value that runs over later `name = ...` lines lost its closing delimiter."""
        raw = self.text[f.value_start:f.value_end]
        if re.search(r"\n\s*[A-Za-z][\w-]*\s*=", raw):
            raise self.error(f.value_start, f"value of field '{f.name}' in entry "
                             f"'{block.key}' runs into the next fields: its closing "
                             f"'{'}' if raw.startswith('{') else chr(34)}' is missing")

    def _value(self, f: Field, pos: int, block: Block) -> int:
        text = self.text
        f.value_start = pos
        while True:
            ch = text[pos:pos + 1]
            if ch == "{":
                end = self._braced(pos, f, block)
                f.pieces.append(("brace", text[pos + 1:end - 1]))
            elif ch == '"':
                end = self._quoted(pos, f, block)
                f.pieces.append(("quote", text[pos + 1:end - 1]))
            elif (m := _NUMBER.match(text, pos)) is not None:
                end = m.end()
                f.pieces.append(("number", m.group()))
            elif (m := _MACRO.match(text, pos)) is not None:
                end = m.end()
                f.pieces.append(("macro", m.group()))
            else:
                where = f"field '{f.name}' of " if f.name else ""
                raise self.error(pos, f"expected a value for {where}entry "
                                 f"'{block.key or block.type}'")
            f.value_end = end
            after = _WS.match(text, end).end()
            if not text.startswith("#", after):
                return end
            pos = _WS.match(text, after + 1).end()

    def _braced(self, pos: int, f: Field, block: Block) -> int:
        depth = 0
        text = self.text
        for m in _BRACE.finditer(text, pos):
            # Escaped braces (\{) count too: BibTeX counts them, so they must balance.
            depth += 1 if m.group() == "{" else -1
            if depth == 0:
                return m.end()
        raise self.error(pos, f"value of field '{f.name}' in entry '{block.key}' never "
                         f"closes: unbalanced braces (missing '}}')")

    def _quoted(self, pos: int, f: Field, block: Block) -> int:
        depth = 0
        for m in _QUOTE_OR_BRACE.finditer(self.text, pos + 1):
            c = m.group()
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth < 0:
                    break
            elif depth == 0:
                return m.end()
        raise self.error(pos, f"quoted value of field '{f.name}' in entry '{block.key}' "
                         f"is never closed: its closing '\"' is missing")


def expand(f: Field, macros: dict[str, str], undefined: list[str] | None = None) -> str:
    """The field's value with macros substituted and `#` pieces joined (still LaTeX)."""
    if len(f.pieces) == 1 and f.pieces[0][0] != "macro":
        return f.pieces[0][1]
    parts = []
    for kind, text in f.pieces:
        if kind == "macro":
            name = text.lower()
            if name in macros:
                parts.append(macros[name])
            elif name in MONTH_MACROS:
                parts.append(MONTH_MACROS[name])
            else:
                if undefined is not None:
                    undefined.append(text)
                parts.append(text)
        else:
            parts.append(text)
    return "".join(parts)


def parse(text: str, path: str = "library.bib", macros: dict[str, str] | None = None,
          undefined: list[tuple[int, str]] | None = None
          ) -> tuple[list[Block], dict[str, str]]:
    """Blocks of `text`, with every field's value expanded; and the @string macros.

    Macros apply in file order, as in BibTeX and biber: an entry sees the @string
    definitions above it (a later redefinition does not change it). `undefined`, when
    given, collects (offset, name) of every macro used where it is not defined.
    """
    blocks = Scanner(text, path).blocks()
    macros = dict(macros or {})
    for b in blocks:
        if b.kind == "string" and b.fields:
            f = b.fields[0]
            f.value = _expand_at(f, macros, undefined)
            macros[f.key] = f.value
        elif b.kind == "entry":
            for f in b.fields:
                f.value = _expand_at(f, macros, undefined)
    return blocks, macros


def _expand_at(f: Field, macros: dict[str, str], undefined) -> str:
    if undefined is None:
        return expand(f, macros)
    names: list[str] = []
    value = expand(f, macros, names)
    undefined.extend((f.value_start, name) for name in names)
    return value


def macro_definitions(blocks: list[Block]) -> list[tuple[int, str, str]]:
    """(offset, name, value) of every @string definition, in file order."""
    return [(b.start, b.fields[0].key, b.fields[0].value)
            for b in blocks if b.kind == "string" and b.fields]


_MARKER_LINE = re.compile(r"^(?:<{7}|\|{7}|>{7})(?:[ \r]|$)", re.M)
_SEPARATOR_LINE = re.compile(r"^={7}\r?$", re.M)


def conflict_marker_lines(text: str) -> list[int]:
    """Line numbers of leftover conflict markers: `<<<<<<<`, `|||||||`, `>>>>>>>` at the
    start of a line, and `=======` lines between them."""
    if "<<<<<<<" not in text and ">>>>>>>" not in text and "|||||||" not in text:
        return []   # the common case, at memchr speed
    starts = [m.start() for m in _MARKER_LINE.finditer(text)]
    if not starts:
        return []
    first, last = starts[0], starts[-1]
    starts += [m.start() for m in _SEPARATOR_LINE.finditer(text, first, last)]
    return sorted(text.count("\n", 0, pos) + 1 for pos in starts)


# -- writing ----------------------------------------------------------------------

FIELD_ORDER = (
    "author", "editor", "translator", "bookauthor", "title", "subtitle", "titleaddon",
    "shorttitle", "origtitle", "booktitle", "booksubtitle", "maintitle", "journaltitle",
    "journal", "issuetitle", "issuesubtitle", "entrysubtype", "type", "series", "volume", "number",
    "issue", "edition", "pages", "pagetotal", "date", "year", "month", "origdate",
    "eventdate", "location", "address", "publisher", "institution", "organization",
    "howpublished", "isbn", "issn", "doi", "eprint", "eprinttype", "url", "urldate",
    "archiveurl", "archivedate", "langid", "language", "keywords", "abstract", "note",
    "annotation", "file",
)
_ORDER_INDEX = {name: i for i, name in enumerate(FIELD_ORDER)}
_AND = re.compile(r"\band\b", re.I)


# Fields biber reads verbatim (no LaTeX): written as they are, never escaped or decoded.
VERBATIM_FIELDS = frozenset({"url", "archiveurl", "origurl", "urlraw", "doi", "eprint",
                             "file", "pdf", "verba", "verbb", "verbc"})
_VERBATIM_UNSAFE = {"{": "%7B", "}": "%7D", "\\": "%5C"}


def format_value(value: str, field: str = "") -> str:
    """A plain-text value as a braced BibTeX value (verbatim fields stay as they are)."""
    if field.lower() in VERBATIM_FIELDS:
        # A URL cannot contain raw braces or backslashes; percent-encode the odd one.
        return "{" + re.sub(r"[{}\\]", lambda m: _VERBATIM_UNSAFE[m.group()], value) + "}"
    return "{" + latex.encode(value) + "}"


def format_names(names: list[Name]) -> str:
    """A name list as BibTeX text (without the outer braces)."""
    return " and ".join(_format_name(n) for n in names)


def _protect(part: str) -> str:
    encoded = latex.encode(part)
    if "," in part or _AND.search(part):
        return "{" + encoded + "}"
    return encoded


def _format_name(n: Name) -> str:
    if n.literal:
        return "{" + latex.encode(n.family) + "}"
    family = _protect(n.family)
    if " " in n.family.strip() and any(w[:1].islower() for w in n.family.split()):
        family = "{" + latex.encode(n.family) + "}"
    head = f"{latex.encode(n.prefix)} {family}" if n.prefix else family
    if n.suffix:
        return f"{head}, {_protect(n.suffix)}, {_protect(n.given)}"
    if n.given:
        return f"{head}, {_protect(n.given)}"
    return head


def record_values(record: Record) -> dict[str, str]:
    """All of a record's fields as BibTeX values (with braces), in canonical order."""
    values: dict[str, str] = {}
    for name, persons in record.names.items():
        if persons:
            values[name] = "{" + format_names(persons) + "}"
    for name, value in record.fields.items():
        if value is not None and value != "":
            values[name] = format_value(value, name)
    ordered = sorted(values, key=lambda n: (_ORDER_INDEX.get(n, len(FIELD_ORDER)),))
    return {n: values[n] for n in ordered}


def format_entry(record: Record, key: str) -> str:
    """One entry in the canonical layout (see README), ending with a newline."""
    lines = [f"@{record.type}{{{key},"]
    for name, value in record_values(record).items():
        lines.append(f"  {name:<12} = {value},")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- byte-preserving edits of one entry ---------------------------------------------

def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


@dataclass
class _Layout:
    """How one field on its own line is written: `{indent}{name}{gap}={after}value`."""

    indent: str
    name: str
    gap: str
    after: str


_GAP_AND_EQ = re.compile(r"([ \t]*)=([ \t]*)")
# Tab widths tried when telling whether tab-padded "=" line up: the usual 8, then editors'.
_TAB_WIDTHS = (8, 4, 2)


def _field_layouts(text: str, block: Block) -> list[_Layout]:
    """The layout of every field that starts its own line and has "=" on that line."""
    layouts = []
    for f in block.fields:
        indent = text[_line_start(text, f.start):f.start]
        m = _GAP_AND_EQ.match(text, f.start + len(f.name))
        if indent.strip() == "" and m is not None and m.end() == f.value_start:
            layouts.append(_Layout(indent, f.name, m.group(1), m.group(2)))
    return layouts


def _column(line: str, tab: int) -> int:
    return len(line.expandtabs(tab))


def _most_common(values: list[str], default: str) -> str:
    """The most frequent value (the later one on a tie), or `default` for none."""
    return max(reversed(values), key=values.count) if values else default


def _eq_column(layouts: list[_Layout]) -> tuple[int, int] | None:
    """(column of "=", tab width) when the entry lines its "=" up, else None.

    Lined up means: most fields put "=" in one column, or just past it after a name too
    long for it, and padding shows the column is meant (names of different lengths end
    there, or a gap is wider than one space). One field out of line does not undo it.
    """
    for tab in _TAB_WIDTHS:
        columns = [_column(l.indent + l.name + l.gap, tab) for l in layouts]
        for target in sorted(set(columns)):
            at = [l for l, c in zip(layouts, columns) if c == target]
            past = [l for l, c in zip(layouts, columns) if c > target and _unpadded(l)]
            if 2 * (len(at) + len(past)) <= len(layouts):
                continue
            name_ends = {_column(l.indent + l.name, tab) for l in at}
            if len(name_ends) > 1 or not all(_unpadded(l) for l in at):
                return target, tab
    return None


def _unpadded(layout: _Layout) -> bool:
    return layout.gap in ("", " ")


def _gap_to(start: int, target: int, tab: int, tabbed_gaps: list[str]) -> str:
    """Whitespace from column `start` to `target`: tabs then spaces if the entry pads
    with tabs (and the tab stops fit), else spaces; one space if the name is too long."""
    if tabbed_gaps:
        tail = _most_common([g[g.rfind("\t") + 1:] for g in tabbed_gaps], "")
        stop = target - len(tail)
        if stop > start and stop % tab == 0:
            return "\t" * ((stop - start // tab * tab) // tab) + tail
    return " " * max(target - start, 1)


def _new_field_spacing(layouts: list[_Layout], indent: str, name: str) -> tuple[str, str]:
    """Gap before and after "=" for a new field line: lined up with the entry's other
    "=" if it lines them up, else written the way its fields mostly are."""
    after = _most_common([l.after for l in layouts], " ")
    aligned = _eq_column(layouts)
    if aligned is None:
        return _most_common([l.gap for l in layouts], " "), after
    target, tab = aligned
    tabbed = [l.gap for l in layouts if "\t" in l.gap]
    return _gap_to(_column(indent + name, tab), target, tab, tabbed), after


def set_field(text: str, block: Block, name: str, bib_value: str) -> str:
    """The entry block's text with field `name` set to `bib_value` (already BibTeX)."""
    entry = text[block.start:block.end]
    base = block.start
    existing = block.get(name)
    if existing is not None:
        a, b = existing.value_start - base, existing.value_end - base
        return entry[:a] + bib_value + entry[b:]
    if not block.fields:
        # "@misc{key}", "@misc{key,}" or "@misc{key,\n}": the field goes after the key.
        a, close = block.key_end - base, block.close - base
        between = entry[a:close]
        if between.strip() in ("", ","):
            return entry[:a] + f",\n  {name} = {bib_value},\n" + entry[close:]
        return entry[:close].rstrip() + f"\n  {name} = {bib_value},\n" + entry[close:]
    last = block.fields[-1]
    last_line_start = _line_start(text, last.start)
    prefix = text[last_line_start:last.start]
    on_own_line = prefix.strip() == ""
    after_last = last.value_end - base
    tail = entry[after_last:block.close - base]
    comma_match = re.match(r"[ \t]*,", tail)
    if not on_own_line or "\n" not in tail:
        # A one-line entry (or the closer on the last field's line): insert inline.
        if comma_match:
            pos = after_last + comma_match.end()
            return entry[:pos] + f" {name} = {bib_value}," + entry[pos:]
        return entry[:after_last] + f", {name} = {bib_value}" + entry[after_last:]
    # Copy the last field's indentation and the entry's way of writing "=".
    layouts = _field_layouts(text, block)
    gap, after_eq = _new_field_spacing(layouts, prefix, name)
    new_line = f"{prefix}{name}{gap}={after_eq}{bib_value}"
    line_end = _line_end(entry, after_last)
    if comma_match:
        return entry[:line_end] + "\n" + new_line + "," + entry[line_end:]
    return (entry[:after_last] + "," + entry[after_last:line_end] + "\n" + new_line
            + entry[line_end:])


def remove_field(text: str, block: Block, name: str) -> str:
    """The entry block's text without field `name` (unchanged if it is not there)."""
    f = block.get(name)
    entry = text[block.start:block.end]
    if f is None:
        return entry
    base = block.start
    index = block.fields.index(f)
    a, b = f.start - base, f.value_end - base
    # Take the comma after the value (if any) with the field.
    m = re.compile(r"[ \t]*,").match(entry, b)
    if m:
        b = m.end()
    elif index > 0:
        # The last field without trailing comma: remove the previous field's comma.
        prev = block.fields[index - 1]
        pm = re.compile(r"[ \t]*,").match(entry, prev.value_end - base)
        if pm and entry[pm.end():a].strip() == "":
            a = pm.start()
    line_a = _line_start(entry, a)
    if entry[line_a:a].strip() == "" and entry[b:_line_end(entry, b)].strip() in ("",) :
        # The field has its own line(s): remove them whole.
        end = _line_end(entry, b)
        return entry[:line_a] + entry[min(end + 1, len(entry)):]
    rest_of_line = entry[b:_line_end(entry, b)]
    if entry[line_a:a].strip() == "" and rest_of_line.lstrip().startswith("%"):
        # A trailing comment belongs to the field.
        end = _line_end(entry, b)
        return entry[:line_a] + entry[min(end + 1, len(entry)):]
    while b < len(entry) and entry[b] in " \t":
        b += 1
    return entry[:a] + entry[b:]


def rename_entry(text: str, block: Block, new_key: str) -> str:
    """The entry block's text with its citation key replaced."""
    entry = text[block.start:block.end]
    a = block.key_end - block.start - len(block.key)
    return entry[:a] + new_key + entry[block.key_end - block.start:]


def names_of(value: str) -> list[Name]:
    """Parse a BibTeX name list (LaTeX value) into `Name`s (decoded to Unicode)."""
    from .names import parse_names
    return parse_names(value)


def block_record(block: Block, only: frozenset[str] | None = None) -> Record:
    """The block's fields as a decoded `Record` (names parsed, LaTeX decoded); with `only`,
    just those fields (decoding is most of the cost of reading a large library)."""
    rec = Record(type=block.type_lower, key=block.key)
    for f in block.fields:
        k = f.key
        if only is not None and k not in only:
            continue
        if k in rec.fields or k in rec.names:
            continue    # a field given twice: BibTeX and biber use the first
        if k in NAME_FIELDS:
            rec.names[k] = names_of(f.value)
        elif k in VERBATIM_FIELDS:
            rec.fields[k] = f.value
        else:
            rec.fields[k] = latex.decode(f.value)
    return rec


__all__ = ["Block", "Field", "Scanner", "parse", "expand", "format_entry", "format_value",
           "format_names", "set_field", "remove_field", "rename_entry", "block_record",
           "record_values", "conflict_marker_lines", "LIST_FIELDS"]
