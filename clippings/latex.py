"""LaTeX in BibTeX values: decode to Unicode for display, search and JSON; encode back safely.

`encode` and `decode` are exact inverses for any Unicode string: `decode(encode(s)) == s`.
`encode` keeps Unicode characters as they are (library.bib is UTF-8, as biber expects) and
escapes only what LaTeX or BibTeX would interpret, so text from the web can never break the
file or run a command. `decode` understands what real .bib files contain: accent commands
(`{\\"a}`, `\\'{e}`, `\\v c`), named symbols (`\\ss`, `\\o`, `\\textendash`), escaped specials,
protective braces, `~`, and formatting commands whose argument is kept (`\\emph{...}`).
"""

from __future__ import annotations

import re
import unicodedata

# Accent commands -> combining character.
_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
    "t": "\u0361",
}

# Commands that stand for one character or a short text.
_SYMBOLS = {
    "ss": "ß", "SS": "SS", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð",
    "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ", "dj": "đ", "DJ": "Đ",
    "textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^",
    "textendash": "–", "textemdash": "—", "textquoteleft": "‘", "textquoteright": "’",
    "textquotedblleft": "“", "textquotedblright": "”", "quotedblbase": "„",
    "quotesinglbase": "‚", "guillemotleft": "«", "guillemotright": "»",
    "guillemetleft": "«", "guillemetright": "»", "flqq": "«", "frqq": "»",
    "glqq": "„", "grqq": "“", "glq": "‚", "grq": "‘", "textbar": "|", "textless": "<",
    "textgreater": ">", "textdollar": "$", "textunderscore": "_", "textbraceleft": "{",
    "textbraceright": "}", "textperiodcentered": "·", "textbullet": "•", "S": "§",
    "P": "¶", "textsection": "§", "copyright": "©", "textcopyright": "©",
    "textregistered": "®", "texttrademark": "™", "pounds": "£", "textsterling": "£",
    "euro": "€", "texteuro": "€", "EUR": "€", "dots": "…", "ldots": "…",
    "textellipsis": "…", "textdegree": "°", "textordfeminine": "ª",
    "textordmasculine": "º", "textexclamdown": "¡", "textquestiondown": "¿",
    "LaTeX": "LaTeX", "TeX": "TeX", "BibTeX": "BibTeX", "LaTeXe": "LaTeX2e",
    "slash": "/", "textslash": "/", "nobreakspace": "\u00a0", "space": " ",
    "newline": " ", "par": " ", "relax": "", "noopsort": "", "hyphen": "-",
    "textnumero": "№", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
    "mu": "μ", "pi": "π", "times": "×", "pm": "±", "cdot": "·", "ast": "*",
}

# Commands whose single braced argument is the text to keep (formatting, links).
_KEEP_ARGUMENT = {
    "emph", "textit", "textbf", "textsc", "texttt", "textrm", "textsf", "textsl",
    "textup", "textmd", "textnormal", "mbox", "hbox", "text", "mathrm", "mathit",
    "mathbf", "url", "nolinkurl", "uppercase", "lowercase", "MakeUppercase",
    "MakeLowercase", "enquote", "mkbibquote", "mkbibemph", "mkbibitalic", "mkbibbold",
    "foreignlanguage", "textenglish", "textgerman", "textrussian", "textcyrillic",
    "bibstring", "ensuremath", "textsuperscript", "textsubscript", "underline",
}

_ESCAPE = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "#": r"\#",
    "&": r"\&", "$": r"\$", "_": r"\_", "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Control symbols that are spacing or hyphenation hints.
_SPACING = {",": "\u202f", ";": " ", ":": " ", "!": "", "-": "", "/": "", "\\": " ",
            "\n": " ", "@": ""}
_BRACE_ESCAPE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
_ESCAPE_RE = re.compile(r"[\\{}%#&$_~^]")
_NEEDS_DECODING = re.compile(r"[\\{}~$]")
_COMMAND = re.compile(r"[A-Za-z]+|.", re.S)
_SPACES = re.compile(r"[ \t\n\r]*")


def encode(text: str) -> str:
    """Escape plain text for a braced BibTeX value; Unicode stays as it is.

    Braces become `\\{`/`\\}` only when they pair up in order: BibTeX counts escaped
    braces too, so an unpaired one is written as `\\textbraceleft{}` to keep the file valid.
    """
    if not _ESCAPE_RE.search(text):
        return text
    table = _ESCAPE if _braces_pair(text) else {**_ESCAPE, **_BRACE_ESCAPE}
    return _ESCAPE_RE.sub(lambda m: table[m.group()], text)


def _braces_pair(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def decode(value: str) -> str:
    """Decode a BibTeX field value (LaTeX) to plain Unicode text."""
    if not _NEEDS_DECODING.search(value):
        return value
    return _Decoder(value).run()


def braces_balanced(value: str) -> bool:
    """True when `{` and `}` (not escaped) are balanced, as BibTeX requires."""
    depth = 0
    for match in re.finditer(r"\\.|[{}]", value, re.S):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


class _Decoder:
    """A small recursive-descent reader over one value."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def run(self, stop_at_close: bool = False) -> str:
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "\\":
                self.pos += 1
                out.append(self._command())
            elif ch == "{":
                self.pos += 1
                out.append(self.run(stop_at_close=True))
            elif ch == "}":
                self.pos += 1
                if stop_at_close:
                    return "".join(out)
                # A stray closing brace: keep it as text rather than lose it.
                out.append("}")
            elif ch == "~":
                self.pos += 1
                out.append("\u00a0")
            elif ch == "$":
                self.pos += 1  # math shift: drop the delimiter, keep the content
            else:
                # Copy a run of ordinary characters in one step.
                match = re.compile(r"[^\\{}~$]+").match(text, self.pos)
                out.append(match.group())
                self.pos = match.end()
        return "".join(out)

    def _argument(self) -> str:
        """The next argument: a braced group, a command, or a single character."""
        text = self.text
        if self.pos < len(text) and text[self.pos] == "{":
            self.pos += 1
            return self.run(stop_at_close=True)
        if self.pos < len(text) and text[self.pos] == "\\":
            self.pos += 1
            return self._command()
        if self.pos < len(text):
            self.pos += 1
            return text[self.pos - 1]
        return ""

    def _command(self) -> str:
        text = self.text
        match = _COMMAND.match(text, self.pos)
        if not match:
            return "\\"
        name = match.group()
        self.pos = match.end()
        is_word = name[0].isalpha()
        if is_word:
            # A control word swallows the spaces after it, as in TeX.
            self.pos = _SPACES.match(text, self.pos).end()
        if name in _ACCENTS and (not is_word or self._next_is_argument()):
            base = self._argument()
            return _accent(base, _ACCENTS[name])
        if is_word and name in _SYMBOLS:
            self._swallow_empty_group()
            return _SYMBOLS[name]
        if is_word and name == "href":
            self._argument()  # the address
            return self._argument()
        if is_word and name in _KEEP_ARGUMENT:
            return self._argument() if self._next_is_argument() else ""
        if not is_word:
            # \{ \} \% \& \# \$ \_ and "\ " stand for themselves; "\\" is a line break.
            return _SPACING.get(name, name)
        # Unknown command: drop the backslash, keep a braced argument's text.
        self._swallow_empty_group()
        return name

    def _next_is_argument(self) -> bool:
        return self.pos < len(self.text) and self.text[self.pos] not in "}"

    def _swallow_empty_group(self) -> None:
        if self.text.startswith("{}", self.pos):
            self.pos += 2


def _accent(base: str, combining: str) -> str:
    if not base:
        return combining
    first = {"ı": "i", "ȷ": "j"}.get(base[0], base[0])
    return unicodedata.normalize("NFC", first + combining) + base[1:]
