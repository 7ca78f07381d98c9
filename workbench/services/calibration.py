"""Calibrations in the store: exporting the responses, publishing, activating and rolling back.

The edge between the store and the skill model for the psychometrician's loop:

1. :func:`export_responses` writes every submitted answer sheet in the responses CSV contract
   (``respondent_id``, ``rater``, one column per item; an item not asked or not answered is an
   empty cell, i.e. missing), the input of ``workbench calibrate``;
2. :func:`publish` stores a fitted calibration with its provenance (data window, method,
   diagnostics, who and when), makes it the organization's one active calibration and rescores
   every leader from their stored answer sheets and practice evidence, all in one transaction;
   the old estimates stay as history;
3. :func:`activate` makes an earlier calibration active again (rescoring likewise), and
   :func:`rollback` returns to the calibration that was active before the current one.

Page loads read only :func:`active_calibration_note` (one small query; this module imports the
scoring code only when it scores).
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine

from ..content import Library
from ..store import assessment_repo, calibration_repo
from ..store import models as m
from ..store.db import transaction

if TYPE_CHECKING:
    from . import assessment as al


class CalibrationError(ValueError):
    """A calibration cannot be published, activated or rolled back (the message says why)."""


@dataclass(frozen=True)
class Published:
    """What :func:`publish`, :func:`activate` or :func:`rollback` did."""

    calibration_id: str
    organization_id: str
    previous_id: str | None  # the calibration active before
    leaders_rescored: int
    estimates_written: int


# ------------------------------------------------------------------------------ export
def export_responses(engine: Engine, library: Library, organization_id: str | None = None,
                     since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """Submitted answer sheets in the responses CSV contract's multi-rater shape.

    Parameters
    ----------
    organization_id
        Only this organization's leaders (default: every leader in the store).
    since, until
        Only sheets submitted in ``[since, until)``.

    Returns
    -------
    pandas.DataFrame
        ``respondent_id`` (the leader rated), ``rater`` (self, manager, peer, direct_report), then
        one nullable-integer column per item of the library's bank that anyone answered, in the
        bank's order; ``<NA>`` where the item was not asked or not answered (not observed).
    """
    rows = assessment_repo.submitted_answers(engine, organization_id, since, until)
    bank = [i.id for c in library.competency_ids for i in library.items_for(c)]
    if not rows:
        return pd.DataFrame(columns=["respondent_id", "rater"])
    long = pd.DataFrame(rows, columns=["session_id", "leader_id", "rater", "submitted_at", "item_id", "value"])
    wide = long.pivot(index=["session_id", "leader_id", "rater", "submitted_at"], columns="item_id", values="value")
    wide = wide.reset_index().sort_values(["leader_id", "submitted_at", "session_id"], kind="stable")
    seen = set(long["item_id"])
    items = [i for i in bank if i in seen] + sorted(seen - set(bank))
    out = wide.rename(columns={"leader_id": "respondent_id"})[["respondent_id", "rater", *items]]
    out[items] = out[items].astype("Int64")
    return out.reset_index(drop=True)


def write_responses(frame: pd.DataFrame, path: str | Path) -> None:
    """Write an :func:`export_responses` frame as CSV (missing cells empty)."""
    frame.to_csv(path, index=False, na_rep="")


def data_window(engine: Engine, organization_id: str | None = None, since: datetime | None = None,
                until: datetime | None = None) -> dict[str, Any]:
    """The window of submitted sheets actually present: first and last submission, sheets, leaders."""
    rows = assessment_repo.submitted_answers(engine, organization_id, since, until)
    if not rows:
        return {"first_submitted": None, "last_submitted": None, "sheets": 0, "respondents": 0}
    times = [r.submitted_at for r in rows]
    return {"first_submitted": min(times).isoformat(), "last_submitted": max(times).isoformat(),
            "sheets": len({r.id for r in rows}), "respondents": len({r.leader_id for r in rows})}


# ------------------------------------------------------------------------------ publishing
def _organization(engine: Engine, organization_id: str | None) -> str:
    orgs = calibration_repo.organization_ids(engine)
    if organization_id is not None:
        if organization_id not in orgs:
            raise CalibrationError(f"unknown organization {organization_id!r}; the store has: {', '.join(orgs) or 'none'}")
        return organization_id
    if len(orgs) != 1:
        raise CalibrationError("the store has " + (f"{len(orgs)} organizations ({', '.join(orgs)}): name one with "
                                                   "--organization" if orgs else "no organization to publish to"))
    return orgs[0]


def file_provenance(path: str | Path) -> dict[str, Any]:
    """Where a responses file came from: its path, size and SHA-256."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"file": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _rescore_all(engine: Engine, library: Library, organization_id: str, cal: al.CalibrationInfo
                 ) -> dict[str, dict[str, dict[str, tuple[float, float]]]]:
    """Every leader of the organization with a submitted sheet, scored with ``cal`` (nothing written)."""
    from . import assessment as al

    ids = assessment_repo.leaders_with_sheets(engine, organization_id)
    return {lid: al.leader_estimates(engine, library, lid, cal)[1] for lid in ids}


def _switch(engine: Engine, library: Library, organization_id: str, cal: al.CalibrationInfo, now: datetime,
            new_row: m.Calibration | None = None) -> Published:
    """Make ``cal`` the active calibration and write every leader's new estimates, in one transaction."""
    from . import assessment as al

    scored = _rescore_all(engine, library, organization_id, cal)
    written = 0
    with transaction(engine) as s:
        previous = calibration_repo.active_id(s, organization_id)
        if new_row is not None:
            s.add(new_row)
            s.flush()
        calibration_repo.make_active(s, organization_id, cal.id, now)
        for lid, estimates in scored.items():
            written += sum(len(estimates[src]) for src in al.write_estimates(s, lid, cal.id, estimates, now))
    return Published(cal.id, organization_id, previous, len(scored), written)


def publish(engine: Engine, library: Library, params: dict[str, Any], *, method: str | None = None,
            provenance: dict[str, Any] | None = None, published_by: str | None = None,
            organization_id: str | None = None, calibration_id: str | None = None,
            now: datetime | None = None) -> Published:
    """Store a calibration (the parameters JSON contract), make it active and rescore every leader.

    Parameters
    ----------
    params
        The parameters document (as ``workbench calibrate`` writes it); checked like a file.
    method
        Estimation method (default: ``params["diagnostics"]["method"]``).
    provenance
        Where the data came from: data window, source file and its hash, settings. The method,
        diagnostics, reliability, who and when are added here.
    published_by
        Who publishes (default: the operating-system user).
    organization_id
        The organization (default: the store's only one).

    Raises
    ------
    CalibrationError
        Unknown organization, a calibration id already taken, or no item of the library's bank.
    workbench.skills.data.DataError
        A parameters document that breaks the contract.
    """
    from ..skills.model import GradedResponseModel
    from . import assessment as al

    org = _organization(engine, organization_id)
    model = GradedResponseModel.from_json(params, "the calibration")
    bank = set(library.items)
    if not bank & set(model.items_.item_ids):
        raise CalibrationError("the calibration has none of the library's items: it cannot score this store's "
                               "assessments")
    now = now or datetime.now(UTC)
    diag = dict(params.get("diagnostics") or {})
    method = method or str(diag.get("method") or "unknown")
    cid = calibration_id or f"{org}-{now:%Y%m%dT%H%M%S}-{method}"
    with transaction(engine) as s:
        if s.get(m.Calibration, cid) is not None:
            raise CalibrationError(f"there is already a calibration {cid!r}")
    who = published_by or _user()
    prov = {**(provenance or {}), "method": method, "diagnostics": diag,
            "reliability": dict(params.get("reliability") or {}), "published_by": who, "published_at": now.isoformat(),
            "items": len(model.items_.item_ids)}
    row = m.Calibration(id=cid, organization_id=org, method=method[:20], created_at=now, params=params,
                        published_by=who[:100], provenance=json.loads(json.dumps(prov, default=str)))
    info = al.CalibrationInfo(cid, method, now, model)
    return _switch(engine, library, org, info, now, new_row=row)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _info(engine: Engine, calibration_id: str) -> tuple[al.CalibrationInfo, str]:
    from ..skills.data import DataError
    from . import assessment as al

    with transaction(engine) as s:
        row = s.get(m.Calibration, calibration_id)
        if row is None:
            raise CalibrationError(f"no calibration {calibration_id!r}; `workbench calibrations list` shows them")
        if row.organization_id is None:
            raise CalibrationError(f"calibration {calibration_id!r} belongs to no organization")
        try:
            info = al.CalibrationInfo.from_json(row.id, row.method, row.created_at, row.params)
        except DataError as exc:
            raise CalibrationError(str(exc)) from None
        return info, row.organization_id


def activate(engine: Engine, library: Library, calibration_id: str, now: datetime | None = None) -> Published:
    """Make a stored calibration the active one of its organization and rescore every leader."""
    info, org = _info(engine, calibration_id)
    return _switch(engine, library, org, info, now or datetime.now(UTC))


def rollback(engine: Engine, library: Library, organization_id: str | None = None,
             now: datetime | None = None) -> Published:
    """Return to the calibration that was active before the current one (the one activated last
    before it), rescoring every leader; the current one stays stored and can be activated again."""
    org = _organization(engine, organization_id)
    rows = calibration_repo.activations(engine, org)
    current = next((r for r in rows if r.active), None)
    if current is None:
        raise CalibrationError(f"organization {org!r} has no active calibration to roll back")
    earlier = [r for r in rows if not r.active and r.activated_at <= current.activated_at]
    if not earlier:
        raise CalibrationError(f"calibration {current.id!r} is the first one activated for {org!r}: "
                               "there is nothing to roll back to")
    return activate(engine, library, earlier[0].id, now=now)


# ------------------------------------------------------------------------------ reading
def list_calibrations(engine: Engine, organization_id: str | None = None) -> pd.DataFrame:
    """Stored calibrations, newest first: ``id, organization_id, method, created_at, active,
    activated_at, published_by, data_window, estimates`` (rows scored with it)."""
    rows, used = calibration_repo.listing(engine, organization_id)
    out = pd.DataFrame([{
        "id": r.id, "organization_id": r.organization_id, "method": r.method, "created_at": r.created_at,
        "active": bool(r.active), "activated_at": r.activated_at, "published_by": r.published_by,
        "data_window": _window_text((r.provenance or {}).get("data_window")), "estimates": int(used.get(r.id, 0)),
    } for r in rows], columns=["id", "organization_id", "method", "created_at", "active", "activated_at",
                               "published_by", "data_window", "estimates"])
    return out


def _window_text(window: dict | None) -> str:
    if not window or not window.get("first_submitted"):
        return ""
    first, last = window["first_submitted"][:10], window["last_submitted"][:10]
    return f"{first}..{last} ({window.get('sheets', '?')} sheets)"


def active_calibration_note(engine: Engine, organization_id: str | None) -> str:
    """One line for the apps: which calibration the numbers on the page come from."""
    row = calibration_repo.active(engine, organization_id)
    if row is None:
        return "Skill estimates: no published calibration yet."
    when = (row.activated_at or row.created_at).strftime("%d %b %Y")
    by = f" by {row.published_by}" if row.published_by else ""
    return f"Skill estimates from calibration {row.id} ({row.method}), in use since {when}{by}."


__all__ = ["CalibrationError", "Published", "activate", "active_calibration_note", "data_window", "export_responses",
           "file_provenance", "list_calibrations", "publish", "rollback", "write_responses"]
