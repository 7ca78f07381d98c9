"""What every benchmark returns, and small helpers for timing and formatting."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Column:
    """One table column: the key in each row, its header, and how to print its values."""

    key: str
    header: str
    fmt: str = "{}"  # format for numbers; None and NaN print as "-"
    justify: str = "right"


@dataclass
class BenchResult:
    """A benchmark's table (rows of raw values), notes printed under it, and metadata for JSON."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def cell(self, row: dict[str, Any], col: Column) -> str:
        """The printed text of one cell."""
        return format_value(row.get(col.key), col.fmt)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "title": self.title,
            "columns": [{"key": c.key, "header": c.header} for c in self.columns],
            "rows": [{k: _jsonable(v) for k, v in r.items()} for r in self.rows],
            "notes": self.notes,
            "meta": {k: _jsonable(v) for k, v in self.meta.items()},
        }


def format_value(value: Any, fmt: str = "{}") -> str:
    """Format a cell: None and NaN as "-", numbers with ``fmt``, anything else as str."""
    if value is None:
        return "-"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return "-"
        return fmt.format(float(value))
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return fmt.format(int(value))
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call, and its result."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median_time(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Median over ``repeat`` runs of the seconds per call, each run timing ``number`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return float(np.median(times))


def demo_db(folder: Path, db: str | None, log: Callable[[str], None]) -> str:
    """``db`` if given, else a demo organization built into a SQLite file in ``folder``."""
    if db is not None:
        return db
    db = f"sqlite:///{folder / 'demo.db'}"
    log("building the demo organization")
    subprocess.run([sys.executable, "-m", "workbench.cli", "demo", "--db", db], check=True, capture_output=True)
    return db
