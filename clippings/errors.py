"""The exceptions the package raises; each carries the exit code the CLI maps it to."""


class ClippingsError(Exception):
    """Base class: a problem the user can act on, reported as one line.

    `german`: the same line in German, where a user of the web pages can meet it (they
    are German first); the command line and the JSON answers speak English.
    `web`: the English line for the web, where the command line's one gives advice a web
    user cannot follow (a command to run, a server setting); `german` is its German."""

    exit_code = 2

    def __init__(self, *args, german: str | None = None, web: str | None = None):
        super().__init__(*args)
        self.german, self.web = german, web

    def line_for(self, lang: str = "en") -> str:
        """The web's line in `lang` ("de" or "en"): English where no German was given.
        (Not `message`: BibSyntaxError keeps its bare message under that name.)"""
        return self.german if lang == "de" and self.german else self.web or str(self)


class UsageError(ClippingsError):
    """Bad usage or bad input: unknown key, invalid value, invalid URL (exit 2)."""

    exit_code = 2


class BibSyntaxError(ClippingsError):
    """library.bib (or an imported file) cannot be loaded; names file:line:col."""

    exit_code = 2

    def __init__(self, path, line, col, message):
        self.path, self.line, self.col, self.message = str(path), line, col, message
        super().__init__(f"{self.path}:{line}:{col}: {message}")


class ConflictMarkerError(BibSyntaxError):
    """library.bib still holds conflict markers from a merge (exit 2); names every line."""

    def __init__(self, path, lines: list[int]):
        self.lines = lines
        more = f" (also line {', '.join(map(str, lines[1:]))})" if lines[1:] else ""
        super().__init__(path, lines[0], 1, "unresolved merge conflict marker" + more)
        self.args = (f"{self.path}:{lines[0]}: unresolved merge conflict marker{more}; "
                     "finish the merge (edit the file or `git mergetool`), then run the "
                     "command again",)

    def __str__(self) -> str:
        return self.args[0]


class ConflictError(ClippingsError):
    """The command ran and refused (a duplicate, a file changed on disk) (exit 1)."""

    exit_code = 1


class NetworkError(ClippingsError):
    """The network failed for an operation that needs it (exit 3)."""

    exit_code = 3


class SourceError(ClippingsError):
    """The source itself is the problem: a page not found, nothing to read (exit 1)."""

    exit_code = 1
