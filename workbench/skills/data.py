"""The responses and items CSV contracts: reading, validating, and the arrays the model uses.

Responses CSV (wide): ``respondent_id``, optionally ``rater`` (self, manager, peer,
direct_report), then one column per item; each cell an integer category or empty.
Items CSV (optional): ``item_id, dimension`` and optionally ``reverse`` (true/false),
``min_category`` and ``max_category`` (the declared range). Without it every item loads on
one dimension, ``general``.

Every problem is a :class:`DataError` naming the file, the row (as a 1-based line number in
the file, header = line 1) and the column. Files over their size limit
(:data:`workbench.limits.RESPONSES_FILE`, :data:`~workbench.limits.ITEMS_FILE`) are refused
before they are read; a category is an integer from 0 to :data:`~workbench.limits.MAX_CATEGORY`.

Several rows per respondent need the ``rater`` column; without it a repeated
``respondent_id`` is refused (calibrating and scoring alike). When scoring, a respondent may
also have only one ``self`` sheet (keep the latest); peers and direct reports repeat freely.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..limits import ITEMS_FILE, MAX_CATEGORY, RESPONSES_FILE, FileLimit, InputTooLarge
from .grm import MISSING

RATERS = ("self", "manager", "peer", "direct_report")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class DataError(ValueError):
    """Malformed input data; the message is one line naming where."""


@dataclass(frozen=True)
class ItemSpec:
    item_ids: tuple[str, ...]
    dimension: np.ndarray  # (J,) index into dimensions
    dimensions: tuple[str, ...]
    reverse: np.ndarray  # (J,) bool
    first_category: np.ndarray  # (J,) smallest category label
    n_categories: np.ndarray  # (J,)

    def categories(self, j: int) -> list[int]:
        return list(range(int(self.first_category[j]), int(self.first_category[j] + self.n_categories[j])))


@dataclass(frozen=True)
class ResponseData:
    """Validated responses: one row per (respondent, rater) answer sheet.

    ``y`` holds category indices as scored (reverse-keyed items flipped), -1 where missing;
    ``person`` maps each row to its respondent (index into ``respondent_ids``).
    """

    respondent_ids: tuple[str, ...]
    person: np.ndarray  # (rows,)
    rater: np.ndarray | None  # (rows,) rater type per row, or None for single-rater data
    y: np.ndarray  # (rows, J)
    items: ItemSpec
    dropped: tuple[str, ...] = ()

    @property
    def n_persons(self) -> int:
        return len(self.respondent_ids)

    @property
    def rater_types(self) -> tuple[str, ...]:
        if self.rater is None:
            return ()
        return tuple(r for r in RATERS if r in set(self.rater))


def _bool(value: str, where: str) -> bool:
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise DataError(f"{where}: {value!r} is not true or false")


def _integer_column(column: pd.Series, source: str, name: str, first_line: int = 2) -> np.ndarray:
    """Parse a column of strings into integers (MISSING for empty cells), naming the first bad cell.

    ``first_line`` is the file line of the column's first cell (2: right under the header).
    Vectorized; the first bad cell is then explained by :func:`_bad_cell`.
    """
    text = column.astype(str).str.strip()
    empty = (text == "").to_numpy()
    num = pd.to_numeric(text.mask(empty), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ok = empty | (np.isfinite(num) & (num == np.floor(num)) & (num >= 0) & (num <= MAX_CATEGORY))
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise _bad_cell(text.iloc[i], f"{source}: line {first_line + i}, column {name}")
    return np.where(empty, MISSING, np.nan_to_num(num)).astype(int)


def _bad_cell(v: str, where: str) -> DataError:
    """Why one non-empty cell is not a category."""
    try:
        f = float(v)
    except ValueError:
        return DataError(f"{where}: {_short(v)} is not an integer")
    if not np.isfinite(f) or f != int(f):
        return DataError(f"{where}: {_short(v)} is not an integer")
    if f < 0:
        return DataError(f"{where}: {_short(v)} is negative; categories start at 0 or more")
    if f > MAX_CATEGORY:
        return DataError(f"{where}: {_short(v)} is too large; categories are integers from 0 to {MAX_CATEGORY}")
    return DataError(f"{where}: {_short(v)} is not an integer")


def _short(v: str, n: int = 24) -> str:
    return repr(v) if len(v) <= n else repr(v[:n]) + f"... ({len(v)} characters)"


def _category_bound(v: str, where: str) -> int:
    """A declared min_category or max_category of the items CSV."""
    try:
        k = int(v)
    except ValueError:
        raise DataError(f"{where}: {_short(v)} is not an integer") from None
    if not 0 <= k <= MAX_CATEGORY:
        raise DataError(f"{where}: {_short(v)} is outside 0..{MAX_CATEGORY}")
    return k


def check_respondents(ids: pd.Series, rater: np.ndarray | None, source: str, *, one_self: bool = False) -> None:
    """Refuse answer sheets that would be pooled by mistake (one place for the rule).

    Without a rater column each respondent has one row. With one, rows share a respondent
    (several peers, say); ``one_self`` also refuses a second ``self`` sheet of a respondent
    (scoring reads one self-view; a retake replaces the earlier sheet).
    """
    if rater is None:
        dups = ids[ids.duplicated()]
        if len(dups):
            first = int(np.flatnonzero((ids == dups.iloc[0]).to_numpy())[0])
            raise DataError(
                f"{source}: line {dups.index[0] + 2}, column respondent_id: respondent {dups.iloc[0]!r} appears twice "
                f"(first on line {first + 2}; several rows per respondent need a 'rater' column)"
            )
    elif one_self:
        is_self = pd.Series(rater == "self", index=ids.index)
        selves = ids[is_self]
        dups = selves[selves.duplicated()]
        if len(dups):
            first = int(selves.index[selves == dups.iloc[0]][0])
            raise DataError(
                f"{source}: line {dups.index[0] + 2}, column rater: respondent {dups.iloc[0]!r} has a second 'self' "
                f"sheet (first on line {first + 2}); keep one self sheet per respondent"
            )


def _read_csv(path: Path, limit: FileLimit = RESPONSES_FILE) -> pd.DataFrame:
    """A CSV as strings ('' for empty cells), or a one-line DataError naming the file.

    The file's size is checked against ``limit`` before anything is read.
    """
    try:
        limit.check(path)
    except InputTooLarge as exc:
        raise DataError(str(exc)) from None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse CSV ({str(exc).splitlines()[0]})") from None


def read_items_csv(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    df = _read_csv(path, ITEMS_FILE)
    for col in ("item_id", "dimension"):
        if col not in df.columns:
            raise DataError(f"{path}: missing column {col!r} (need item_id,dimension[,reverse])")
    out = pd.DataFrame({"item_id": df["item_id"].str.strip(), "dimension": df["dimension"].str.strip()})
    for i, (iid, dim) in enumerate(zip(out.item_id, out.dimension, strict=True)):
        if not iid:
            raise DataError(f"{path}: line {i + 2}, column item_id: empty item id")
        if not dim:
            raise DataError(f"{path}: line {i + 2}, column dimension: empty dimension for item {iid}")
    dup = out.item_id[out.item_id.duplicated()]
    if len(dup):
        raise DataError(f"{path}: line {dup.index[0] + 2}, column item_id: duplicate item id {dup.iloc[0]!r}")
    out["reverse"] = [
        _bool(v, f"{path}: line {i + 2}, column reverse") for i, v in enumerate(df.get("reverse", [""] * len(df)))
    ]
    for col in ("min_category", "max_category"):
        vals = df.get(col, pd.Series([""] * len(df)))
        parsed = []
        for i, v in enumerate(vals):
            v = str(v).strip()
            if v == "":
                parsed.append(None)
                continue
            parsed.append(_category_bound(v, f"{path}: line {i + 2}, column {col}"))
        out[col] = parsed
    for i, (lo, hi) in enumerate(zip(out.min_category, out.max_category, strict=True)):
        if lo is not None and hi is not None and not pd.isna(lo) and not pd.isna(hi) and lo >= hi:
            raise DataError(f"{path}: line {i + 2}, column max_category: {int(hi)} is not above min_category {int(lo)}")
    return out


def read_responses_csv(
    path: str | Path, items: str | Path | pd.DataFrame | None = None, *, warn: bool = True
) -> ResponseData:
    """Read and validate a responses CSV (and optional items CSV) into :class:`ResponseData`.

    The file is read in chunks of :data:`CHUNK_ROWS` rows, each turned into integers at once,
    so a large file never sits in memory as text.
    """
    path = Path(path)
    item_table, items_source = (read_items_csv(items), str(items)) if isinstance(items, (str, Path)) else (items, None)
    ids, rater, item_cols, values = _read_sheets(path)
    return _validate(ids, rater, item_cols, values, item_table, source=str(path), warn=warn,
                     items_source=items_source)


#: Rows per chunk when reading a responses CSV.
CHUNK_ROWS = 50_000
#: Parsed category labels (``MISSING`` to ``MAX_CATEGORY``) fit one byte: a quarter of the memory traffic.
VALUE_DTYPE = np.int8
assert np.iinfo(VALUE_DTYPE).min <= MISSING and MAX_CATEGORY <= np.iinfo(VALUE_DTYPE).max


def _read_sheets(path: Path) -> tuple[pd.Series, pd.Series | None, list[str], np.ndarray]:
    """A responses CSV as respondent ids, raw rater column, item columns and a (rows, J) integer matrix.

    Fast path: pandas' C parser reads the item columns as numbers, chunk by chunk. A file with
    any cell that is not a category is read again as text (:func:`_integer_column`) to name the
    first bad cell by line and column, so errors read the same either way.
    """
    try:
        RESPONSES_FILE.check(path)
    except InputTooLarge as exc:
        raise DataError(str(exc)) from None
    source = str(path)
    try:
        header = _check_header(path)
        cols, has_rater, item_cols = _columns(header, source)
        try:
            return _read_chunks(path, cols, has_rater, item_cols, numeric=True, source=source)
        except DataError:
            raise
        except (_NotCategories, ValueError):  # ValueError: a cell the C parser cannot read as a number
            return _read_chunks(path, cols, has_rater, item_cols, numeric=False, source=source)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse CSV ({str(exc).splitlines()[0]})") from None


class _NotCategories(Exception):
    """The fast path met a number that is not a category; the text path will name it."""


def _read_chunks(path: Path, cols: list[str], has_rater: bool, item_cols: list[str], *, numeric: bool,
                 source: str) -> tuple[pd.Series, pd.Series | None, list[str], np.ndarray]:
    text_cols = cols[:2] if has_rater else cols[:1]
    if numeric:  # the parser infers each item column: integers, floats (empty cells are NaN) or text
        kw = dict(header=0, names=cols, dtype={c: str for c in text_cols}, keep_default_na=False, na_values=[""])
    else:
        kw = dict(header=0, names=cols, dtype=str, keep_default_na=False)
    ids, raters, values, line = [], [], [], 2
    for chunk in pd.read_csv(path, chunksize=CHUNK_ROWS, **kw):
        if numeric:  # an empty id or rater cell was read as NaN: back to '' for the checks that name it
            ids.append(chunk["respondent_id"].fillna(""))
            if has_rater:
                raters.append(chunk["rater"].fillna(""))
            block = np.empty((len(chunk), len(item_cols)), dtype=VALUE_DTYPE)
            for j, c in enumerate(item_cols):
                block[:, j] = _numeric_categories(chunk[c].to_numpy())
        else:
            ids.append(chunk["respondent_id"])
            if has_rater:
                raters.append(chunk["rater"])
            block = np.empty((len(chunk), len(item_cols)), dtype=VALUE_DTYPE)
            for j, c in enumerate(item_cols):
                block[:, j] = _integer_column(chunk[c], source, c, first_line=line)
        values.append(block)
        line += len(chunk)
    if not values:  # a header and no rows
        return (pd.Series([], dtype=str), pd.Series([], dtype=str) if has_rater else None, item_cols,
                np.empty((0, len(item_cols)), dtype=VALUE_DTYPE))
    return (pd.concat(ids, ignore_index=True), pd.concat(raters, ignore_index=True) if has_rater else None,
            item_cols, np.concatenate(values))


def _numeric_categories(col: np.ndarray) -> np.ndarray:
    """A column the parser read as numbers, as category labels with ``MISSING`` for empty cells;
    raises ``_NotCategories`` for text or a number that is not a category (the text path names it)."""
    if col.dtype.kind in "iu":
        if col.size and (col.min() < 0 or col.max() > MAX_CATEGORY):
            raise _NotCategories
        return col
    if col.dtype.kind != "f":
        raise _NotCategories
    missing = np.isnan(col)
    with np.errstate(invalid="ignore"):
        ok = missing | ((col == np.floor(col)) & (col >= 0) & (col <= MAX_CATEGORY))
    if not ok.all():
        raise _NotCategories
    return np.where(missing, MISSING, col)


def _columns(columns, source: str) -> tuple[list[str], bool, list[str]]:
    """The header as written (stripped), whether it has a rater column, and the item columns."""
    cols = [str(c).strip() for c in columns]
    if not cols or cols[0] != "respondent_id":
        raise DataError(f"{source}: the first column must be 'respondent_id' (found {cols[0] if cols else 'none'!r})")
    has_rater = len(cols) > 1 and cols[1] == "rater"
    item_cols = cols[2:] if has_rater else cols[1:]
    if not item_cols:
        raise DataError(f"{source}: no item columns after respondent_id")
    dup = pd.Series(item_cols)[pd.Series(item_cols).duplicated()]
    if len(dup):
        raise DataError(f"{source}: column {dup.iloc[0]}: duplicate item column")
    return cols, has_rater, item_cols


def _check_header(path: Path) -> list[str]:
    """pandas renames duplicate columns (q1, q1.1); read the header row as written."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        header = [c.strip() for c in next(csv.reader(fh), [])]
    seen = set()
    for c in header:
        if c in seen:
            raise DataError(f"{path}: column {c}: duplicate column in the header")
        seen.add(c)
    return header


def validate_responses(
    raw: pd.DataFrame, item_table: pd.DataFrame | None = None, *, source: str = "responses", warn: bool = True,
    items_source: str | None = None,
) -> ResponseData:
    """Validate a wide frame of strings (as read from CSV) against the contract.

    With ``items_source`` (the items file's name) every item of ``item_table`` must also be a
    column of the responses; without it the table may list more items than were answered.
    """
    cols, has_rater, item_cols = _columns(raw.columns, source)
    raw = raw.reset_index(drop=True)
    raw.columns = cols
    values = np.full((len(raw), len(item_cols)), MISSING, dtype=int)
    for j, c in enumerate(item_cols):
        values[:, j] = _integer_column(raw[c], source, c)
    return _validate(raw["respondent_id"], raw["rater"] if has_rater else None, item_cols, values, item_table,
                     source=source, warn=warn, items_source=items_source)


def _ids_and_raters(ids_raw: pd.Series, rater_raw: pd.Series | None, source: str
                    ) -> tuple[pd.Series, np.ndarray | None]:
    """Stripped respondent ids and lower-case rater types, refusing empty ids and unknown raters."""
    ids = ids_raw.astype(str).str.strip().reset_index(drop=True)
    bad = np.flatnonzero((ids == "").to_numpy())
    if bad.size:
        raise DataError(f"{source}: line {bad[0] + 2}, column respondent_id: empty respondent id")
    if rater_raw is None:
        return ids, None
    rater = rater_raw.astype(str).str.strip().str.lower().to_numpy()
    bad = np.flatnonzero(~np.isin(rater, RATERS))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{source}: line {i + 2}, column rater: {rater_raw.iloc[i]!r} is not one of {', '.join(RATERS)}")
    return ids, rater


def _validate(ids_raw: pd.Series, rater_raw: pd.Series | None, item_cols: list[str], values: np.ndarray,
              item_table: pd.DataFrame | None, *, source: str, warn: bool, items_source: str | None) -> ResponseData:
    """The contract's checks on parsed sheets: respondents, raters, the item table, categories."""
    ids, rater = _ids_and_raters(ids_raw, rater_raw, source)
    check_respondents(ids, rater, source)

    # item table ---------------------------------------------------------------
    if item_table is None:
        item_table = pd.DataFrame({"item_id": item_cols, "dimension": "general", "reverse": False,
                                   "min_category": None, "max_category": None})
    known = set(item_table.item_id)
    for c in item_cols:
        if c not in known:
            raise DataError(f"{source}: column {c}: unknown item id (not in the items file)")
    if items_source is not None:
        absent = [i for i in item_table.item_id if i not in set(item_cols)]
        if absent:
            rows = item_table.index[item_table.item_id.isin(absent)]
            names = ", ".join(absent[:10]) + (f" and {len(absent) - 10} more" if len(absent) > 10 else "")
            raise DataError(f"{items_source}: line {rows[0] + 2}, column item_id: {len(absent)} item(s) not in the "
                            f"responses {source}: {names}")
    item_table = item_table.set_index("item_id").loc[item_cols].reset_index()
    dimensions = tuple(dict.fromkeys(item_table.dimension))

    # values -------------------------------------------------------------------
    J = len(item_cols)
    first = np.zeros(J, dtype=int)
    n_cat = np.zeros(J, dtype=int)
    for j, c in enumerate(item_cols):
        seen = values[:, j] != MISSING
        col = values[seen, j]
        lo_decl, hi_decl = item_table.min_category.iloc[j], item_table.max_category.iloc[j]
        lo_decl = None if lo_decl is None or pd.isna(lo_decl) else int(lo_decl)
        hi_decl = None if hi_decl is None or pd.isna(hi_decl) else int(hi_decl)
        for bound, test in ((lo_decl, lambda x, b: x < b), (hi_decl, lambda x, b: x > b)):
            if bound is not None:
                bad = np.flatnonzero(seen & test(values[:, j], bound))
                if bad.size:
                    i = bad[0]
                    raise DataError(f"{source}: line {i + 2}, column {c}: {values[i, j]} is outside the declared "
                                    f"range {lo_decl}..{hi_decl}")
        if col.size == 0:
            raise DataError(f"{source}: column {c}: no answers at all")
        cats = np.unique(col)
        if cats.size == 1:
            raise DataError(f"{source}: column {c}: every answer is {cats[0]}; an item needs answers in at least two categories")
        gaps = sorted(set(range(cats[0], cats[-1] + 1)) - set(cats.tolist()))
        if gaps:
            raise DataError(f"{source}: column {c}: categories must be consecutive, but {gaps[0]} never occurs "
                            f"between {cats[0]} and {cats[-1]}")
        first[j], n_cat[j] = cats[0], cats[-1] - cats[0] + 1

    reverse = item_table.reverse.astype(bool).to_numpy()
    idx = np.where(values == MISSING, MISSING, values - first[None, :])
    y = np.where((idx != MISSING) & reverse[None, :], n_cat[None, :] - 1 - idx, idx)

    # respondents with no answers are left out, with a warning naming them ----------
    empty = (y == MISSING).all(axis=1)
    dropped: tuple[str, ...] = ()
    if empty.any():
        keep_ids = set(ids[~empty])
        dropped = tuple(dict.fromkeys(r for r in ids[empty] if r not in keep_ids))
        if warn and len(ids[empty]):
            names = ", ".join(ids[empty].tolist()[:10]) + (" ..." if empty.sum() > 10 else "")
            warnings.warn(f"{source}: left out {int(empty.sum())} row(s) with no answers: {names}", stacklevel=2)
    ids_kept = ids[~empty].to_numpy()
    y = y[~empty]
    rater = rater[~empty] if rater is not None else None
    respondent_ids = tuple(dict.fromkeys(ids_kept))
    lookup = {r: k for k, r in enumerate(respondent_ids)}
    person = np.array([lookup[r] for r in ids_kept], dtype=int)
    spec = ItemSpec(tuple(item_cols), np.array([dimensions.index(d) for d in item_table.dimension]), dimensions,
                    reverse, first, n_cat)
    return ResponseData(respondent_ids, person, rater, y, spec, dropped)


def to_labels(y: np.ndarray, items: ItemSpec) -> np.ndarray:
    """Scored category indices back to the labels raters ticked (reverse keying undone)."""
    K = items.n_categories[None, :]
    idx = np.where(items.reverse[None, :], K - 1 - y, y)
    return np.where(y == MISSING, MISSING, idx + items.first_category[None, :])


def write_responses_csv(path: str | Path, respondent_ids: Sequence[str], y: np.ndarray, items: ItemSpec,
                        rater: Sequence[str] | None = None) -> None:
    """Write scored indices as a responses CSV (labels, empty cells for missing)."""
    labels = to_labels(np.asarray(y), items)
    df = pd.DataFrame(labels, columns=list(items.item_ids)).astype("Int64")
    df = df.mask(df == MISSING)
    df.insert(0, "respondent_id", list(respondent_ids))
    if rater is not None:
        df.insert(1, "rater", list(rater))
    df.to_csv(path, index=False)


def write_scores_csv(path: str | Path, respondent_ids: Sequence[str], scores) -> Path:
    """Write the scores CSV contract: ``respondent_id``, then ``<dimension>_mean`` and ``<dimension>_sd``
    for each dimension of ``scores`` (a :class:`workbench.skills.score.Scores`), rounded to 5 decimals.

    Written by the standard library's C csv writer from Python floats (quoting ids that need it):
    a quarter faster than a DataFrame's ``to_csv`` on 100,000 rows, with the same text.
    """
    import csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["respondent_id"] + [f"{d}_{s}" for d in scores.dimensions for s in ("mean", "sd")]
    columns = [np.round(arr[:, d], 5).tolist() for d in range(len(scores.dimensions)) for arr in (scores.mean, scores.sd)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(respondent_ids, *columns, strict=True))
    return path


def write_items_csv(path: str | Path, items: ItemSpec) -> None:
    pd.DataFrame({"item_id": items.item_ids, "dimension": [items.dimensions[d] for d in items.dimension],
                  "reverse": ["true" if r else "false" for r in items.reverse]}).to_csv(path, index=False)


def read_scoring_csv(path: str | Path, params, *, warn: bool = True) -> ResponseData:
    """Read a responses CSV to score with known item parameters (an ``ItemParams``).

    Unlike calibration data, a scoring file may hold a single leader and any subset of the
    calibrated items; each value must be one of its item's calibrated categories.
    """
    path = Path(path)
    source = str(path)
    known = {iid: j for j, iid in enumerate(params.item_ids)}
    if path.is_file():  # unknown items are named before the values are read
        _, _, header_items = _columns(_check_header(path), source)
        for c in header_items:
            if c not in known:
                raise DataError(f"{source}: column {c}: unknown item id (not in the parameters file)")
    ids_raw, rater_raw, item_cols, values = _read_sheets(path)
    ids, rater = _ids_and_raters(ids_raw, rater_raw, source)
    check_respondents(ids, rater, source, one_self=True)
    cols = np.array([known[c] for c in item_cols], dtype=int)
    # labels are small (VALUE_DTYPE): the checks and the keying stay in one byte per cell
    lo, K = params.first_category[cols][None, :], params.n_categories[cols][None, :]
    small = lo.size == 0 or (lo + K).max() <= np.iinfo(values.dtype).max
    lo, K = (lo.astype(values.dtype), K.astype(values.dtype)) if small else (lo, K)
    seen = values != MISSING
    bad = seen & ((values < lo) | (values >= lo + K))
    if bad.any():
        i, jj = np.argwhere(bad)[0]
        c, lo_j, K_j = item_cols[jj], int(lo[0, jj]), int(K[0, jj])
        raise DataError(f"{source}: line {i + 2}, column {c}: {values[i, jj]} is outside the item's categories "
                        f"{lo_j}..{lo_j + K_j - 1}")
    idx = values - lo
    keyed = np.where(params.reverse[cols][None, :], K - 1 - idx, idx)
    keyed[~seen] = MISSING
    if np.array_equal(cols, np.arange(params.n_items)):  # every item, in the model's order
        y = keyed
    else:
        y = np.full((len(ids), params.n_items), MISSING, dtype=keyed.dtype)
        y[:, cols] = keyed
    empty = ~seen.any(axis=1) if len(item_cols) else np.ones(len(ids), dtype=bool)
    if empty.any() and warn:
        names = ", ".join(ids[empty].tolist()[:10]) + (" ..." if empty.sum() > 10 else "")
        warnings.warn(f"{source}: left out {int(empty.sum())} row(s) with no answers: {names}", stacklevel=2)
    codes, uniques = pd.factorize(ids[~empty].to_numpy())  # codes in order of first appearance
    respondent_ids = tuple(uniques.tolist())
    lookup = set(respondent_ids)
    spec = ItemSpec(params.item_ids, params.dimension, params.dimensions, params.reverse, params.first_category,
                    params.n_categories)
    if empty.any():
        y, rater = y[~empty], (rater[~empty] if rater is not None else None)
    return ResponseData(respondent_ids, codes.astype(int), rater, y, spec,
                        tuple(r for r in dict.fromkeys(ids[empty]) if r not in lookup))
