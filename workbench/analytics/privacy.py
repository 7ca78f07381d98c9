"""The small-group rule: an aggregate over a group of leaders is shown only when the group has at
least :data:`MIN_GROUP` leaders. A smaller group yields NaN and ``suppressed = True``, never the value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The smallest group whose aggregates may be shown.
MIN_GROUP = 5
#: What a page says in place of a withheld aggregate.
SUPPRESSED_NOTE = f"Not shown: fewer than {MIN_GROUP} leaders in the group."


def is_suppressed(n: int | float) -> bool:
    """Whether an aggregate over ``n`` leaders must be withheld."""
    return not (n >= MIN_GROUP)


def suppress(frame: pd.DataFrame, n_column: str, value_columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``frame`` with ``value_columns`` set to NaN on every row whose group size
    (``n_column``) is below :data:`MIN_GROUP`, and a boolean ``suppressed`` column."""
    out = frame.copy()
    hide = ~(pd.to_numeric(out[n_column], errors="coerce").fillna(0) >= MIN_GROUP)
    for col in value_columns:
        out[col] = out[col].astype(float).where(~hide, np.nan)
    out["suppressed"] = hide.to_numpy(dtype=bool)
    return out


def group_mean(values: pd.Series) -> tuple[int, float]:
    """``(n, mean)`` of the non-missing values, the mean NaN when ``n < MIN_GROUP``."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    n = int(len(v))
    return n, (float(v.mean()) if not is_suppressed(n) else float("nan"))
