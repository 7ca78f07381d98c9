"""Limits on what a person can send: file sizes, xAPI batches, numeric cells, experiment sizes.

One place for every bound on input, so the documentation table (``docs/architecture.md``,
"Limits") and the code agree. File-size limits can be raised with an environment variable
each (megabytes); the other limits are fixed by the data contracts.

Nothing here imports the rest of the package: the content loader, the store and the CLI all
read their limits from this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024


class InputTooLarge(ValueError):
    """A file or request is over its limit; the message is one line naming it and the limit."""


@dataclass(frozen=True)
class FileLimit:
    """The largest file of one kind, in megabytes, and the environment variable that overrides it."""

    kind: str  # what the file is, as the error message names it
    default_mb: float
    env: str

    @property
    def max_mb(self) -> float:
        """The limit now: ``$env`` when set (megabytes), else the default."""
        raw = os.environ.get(self.env, "").strip()
        if raw:
            try:
                mb = float(raw)
            except ValueError:
                raise InputTooLarge(f"{self.env}={raw!r} is not a number of megabytes") from None
            if not mb > 0:
                raise InputTooLarge(f"{self.env}={raw!r} must be a positive number of megabytes")
        else:
            mb = self.default_mb
        return mb

    def check(self, path: str | os.PathLike[str]) -> int:
        """Size of ``path`` in bytes, or :class:`InputTooLarge` when it is over the limit.

        A missing file is left to the caller's own "no such file" error (returns 0).
        """
        try:
            size = Path(path).stat().st_size
        except OSError:
            return 0
        mb = self.max_mb
        if size > int(mb * MB):
            raise InputTooLarge(
                f"{path}: {self.kind} is {_size(size)}; the limit is {mb:g} MB (set {self.env} to change it)"
            )
        return size


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB // 10 else f"{n / 1024:.1f} KB"


RESPONSES_FILE = FileLimit("responses CSV", 200, "WORKBENCH_MAX_RESPONSES_MB")
ITEMS_FILE = FileLimit("items CSV", 10, "WORKBENCH_MAX_ITEMS_MB")
PARAMS_FILE = FileLimit("parameters JSON", 20, "WORKBENCH_MAX_PARAMS_MB")
XAPI_FILE = FileLimit("xAPI statements file", 200, "WORKBENCH_MAX_XAPI_MB")
CONTENT_FILE = FileLimit("content file", 2, "WORKBENCH_MAX_CONTENT_FILE_MB")
CONFIG_FILE = FileLimit("experiment config", 1, "WORKBENCH_MAX_CONFIG_MB")
FILE_LIMITS = (RESPONSES_FILE, ITEMS_FILE, PARAMS_FILE, XAPI_FILE, CONTENT_FILE, CONFIG_FILE)

# ------------------------------------------------------------------------------- xAPI
#: Largest statement, in bytes of its compact JSON (an LRS commonly allows far less; ours hold a few hundred).
MAX_STATEMENT_BYTES = 64 * 1024
#: Most statements in one import (one request, one transaction).
MAX_BATCH_STATEMENTS = 10_000
#: Longest ``result.duration`` of one statement: a learning activity, a practice scenario or a session.
MAX_DURATION_SECONDS = 24 * 3600
#: Longest text the product keeps in a statement's ``result.response``.
MAX_RESPONSE_CHARS = 10_000

# ----------------------------------------------------------------------- responses CSV
#: Largest category label in a responses CSV (the contract: small consecutive integers, 0 or more).
MAX_CATEGORY = 100

# -------------------------------------------------------------------------- experiments
#: Share of the machine's available memory an experiment may plan to use.
EXPERIMENT_MEMORY_SHARE = 0.7
#: Most seeds (runs) in one experiment, and most simulated weeks.
MAX_EXPERIMENT_SEEDS = 1000
MAX_EXPERIMENT_WEEKS = 520

# ------------------------------------------------------------------------- CLI options
#: Random seeds (numpy's generators take 0 or more; 2**32 - 1 keeps them portable).
MAX_SEED = 2**32 - 1
#: ``calibrate``: posterior draws and tuning steps per chain, chains, quadrature points.
MAX_DRAWS = 100_000
MAX_CHAINS = 16
MAX_POINTS = 201
#: ``cat simulate``: simulated respondents.
MAX_SIM_RESPONDENTS = 100_000
#: ``cohort groups``: the largest group size; ``cohort sessions``: days between sessions.
MAX_GROUP_SIZE = 50
MAX_CADENCE_DAYS = 365
#: ``invitations remind``: the longest wait before a reminder is due (an invitation lasts at most 90 days).
MAX_REMINDER_DAYS = 90
