"""Problems found in content, reported with file, field and reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content library.

    ``file`` is relative to the library root, ``field`` a dotted path inside the file
    (``nodes.open.choices.1.next``) or empty when the whole file is at fault, and
    ``line`` the 1-based line number when it is known (YAML syntax errors).
    """

    file: str
    field: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field or '(file)'}: {self.reason}"


class ContentError(ValueError):
    """Raised when a library cannot be loaded cleanly; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field))
        n = len(self.problems)
        head = str(self.problems[0]) if n else "no problems"
        more = f" (and {n - 1} more)" if n > 1 else ""
        super().__init__(f"{head}{more}")
