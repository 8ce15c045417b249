"""The exceptions the package raises; each carries the exit code the CLI maps it to."""


class ClippingsError(Exception):
    """Base class: a problem the user can act on, reported as one line."""

    exit_code = 2


class UsageError(ClippingsError):
    """Bad usage or bad input: unknown key, invalid value, invalid URL (exit 2)."""

    exit_code = 2


class BibSyntaxError(ClippingsError):
    """library.bib (or an imported file) cannot be loaded; names file:line:col."""

    exit_code = 2

    def __init__(self, path, line, col, message):
        self.path, self.line, self.col, self.message = str(path), line, col, message
        super().__init__(f"{self.path}:{line}:{col}: {message}")


class ConflictError(ClippingsError):
    """The command ran and refused (a duplicate, a file changed on disk) (exit 1)."""

    exit_code = 1


class NetworkError(ClippingsError):
    """The network failed for an operation that needs it (exit 3)."""

    exit_code = 3


class SourceError(ClippingsError):
    """The source itself is the problem: a page not found, nothing to read (exit 1)."""

    exit_code = 1
