"""Small hand-made frames for the analytics tests (no store, no library unless a test asks)."""

from __future__ import annotations

import pandas as pd
import pytest

#: A Wednesday; its ISO week starts on Monday 2 March 2026.
NOW = pd.Timestamp("2026-03-04 12:00", tz="UTC")
EVENT_COLUMNS = ["leader_id", "timestamp", "verb", "object_type", "object_id", "competency", "duration_seconds",
                 "score_scaled"]


def events(*rows, leader_id: str = "L1") -> pd.DataFrame:
    """Rows of ``(timestamp, verb, object_type, object_id, competency, seconds, score)``; the leader
    may be given per row as an eighth value."""
    out = []
    for r in rows:
        ts, verb, otype, oid, comp, secs, score, *who = r
        out.append([who[0] if who else leader_id, pd.Timestamp(ts, tz="UTC"), verb, otype, oid, comp, secs, score])
    return pd.DataFrame(out, columns=EVENT_COLUMNS)


@pytest.fixture
def catalog() -> pd.DataFrame:
    return pd.DataFrame(
        [("m1", "Module one", 30, "a"), ("m2", "Module two", 25, "b"), ("m3", "Module three", 15, "a"),
         ("m4", "Module four", 40, "c")],
        columns=["module_id", "title", "minutes", "competency"],
    )
