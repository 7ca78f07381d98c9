"""Sync with a Learning Record Store over HTTP (the xAPI 1.0.3 statements resource).

:class:`LrsClient` speaks the statements resource: ``POST`` batches of statements, ``GET``
with ``since`` and ``ascending``, following ``more`` links page by page, always with the
``X-Experience-API-Version`` header and HTTP basic authentication.

:func:`push` sends this store's statements in the order they were stored; :func:`pull`
imports an LRS's statements in the order it stored them. Both are idempotent (statement ids:
an LRS answers a repeated identical statement with success, and import skips a statement
already stored with the same content) and resumable: the position reached is saved in
``lrs_cursors`` after every batch, so an interrupted run goes on from there.

Configuration (``docs/xapi.md``): the endpoint, user and password come from the command
options or ``WORKBENCH_LRS_ENDPOINT``, ``WORKBENCH_LRS_USER`` and ``WORKBENCH_LRS_PASSWORD``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx
from sqlalchemy import Engine

from .db import transaction
from .models import LrsCursor, utcnow

XAPI_VERSION = "1.0.3"
DEFAULT_BATCH = 500
TIMEOUT_SECONDS = 60.0


class LrsError(RuntimeError):
    """The LRS could not be reached or refused a request (one line: what and why)."""


@dataclass(frozen=True)
class LrsConfig:
    endpoint: str
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_env(cls, endpoint: str | None = None, user: str | None = None, password: str | None = None) -> LrsConfig:
        endpoint = endpoint or os.environ.get("WORKBENCH_LRS_ENDPOINT")
        if not endpoint:
            raise ValueError("no LRS endpoint: give --endpoint or set WORKBENCH_LRS_ENDPOINT")
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"LRS endpoint {endpoint!r} is not an http(s) URL")
        return cls(endpoint.rstrip("/") + "/", user or os.environ.get("WORKBENCH_LRS_USER"),
                   password or os.environ.get("WORKBENCH_LRS_PASSWORD"))


class LrsClient:
    """A small client of an LRS's statements resource."""

    def __init__(self, config: LrsConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        auth = (config.user, config.password or "") if config.user else None
        self._http = httpx.Client(base_url=config.endpoint, auth=auth, timeout=TIMEOUT_SECONDS,
                                  headers={"X-Experience-API-Version": XAPI_VERSION}, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LrsClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, url: str, **kw) -> httpx.Response:
        try:
            res = self._http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise LrsError(f"{self.config.endpoint}: {type(exc).__name__}: {exc}") from None
        if res.status_code == 401 or res.status_code == 403:
            raise LrsError(f"{self.config.endpoint}: HTTP {res.status_code}: the LRS refused the credentials")
        return res

    def post_statements(self, statements: list[dict[str, Any]]) -> None:
        """Store a batch; statements the LRS already holds unchanged are fine (idempotent)."""
        res = self._request("POST", "statements", json=statements)
        if res.status_code in (200, 204):
            return
        detail = res.text.strip().replace("\n", " ")[:300]
        if res.status_code == 409:
            raise LrsError(f"{self.config.endpoint}: HTTP 409: the LRS holds different statements with these ids "
                           f"({detail})")
        raise LrsError(f"{self.config.endpoint}: HTTP {res.status_code} on POST statements: {detail}")

    def statement_pages(self, since: str | None = None, limit: int = DEFAULT_BATCH) -> Iterator[list[dict[str, Any]]]:
        """Pages of statements stored after ``since``, oldest first, following ``more``."""
        params: dict[str, Any] | None = {"ascending": "true", "limit": limit}
        if since:
            params["since"] = since
        url: str | None = "statements"
        seen: set[str] = set()
        number = 0
        while url:
            number += 1
            res = self._request("GET", url, params=params)
            if res.status_code != 200:
                raise LrsError(f"{self.config.endpoint}: HTTP {res.status_code} on GET statements: "
                               f"{res.text.strip()[:300]}")
            try:
                body = res.json()
                page = body["statements"]
            except (ValueError, KeyError, TypeError):
                raise LrsError(f"{self.config.endpoint}: the answer to GET statements is not a StatementResult") from None
            ids = {st.get("id") for st in page if isinstance(st, dict)}
            if number > 1 and page and not ids - seen:
                raise LrsError(f"{self.config.endpoint}: page {number} of GET statements (its 'more' link) repeats "
                               "statements already read: the LRS's paging does not advance")
            seen |= ids
            yield page
            more = body.get("more")
            if not more or not page:
                return
            url, params = urljoin(str(res.url), more), None  # the link is complete (an empty dict would clear it)


def _cursor(engine: Engine, endpoint: str) -> LrsCursor:
    with transaction(engine) as s:
        cur = s.get(LrsCursor, endpoint)
        return cur or LrsCursor(endpoint=endpoint)


def _save_cursor(engine: Engine, endpoint: str, **values) -> None:
    with transaction(engine) as s:
        cur = s.get(LrsCursor, endpoint)
        if cur is None:
            cur = LrsCursor(endpoint=endpoint)
            s.add(cur)
        for k, v in values.items():
            setattr(cur, k, v)
        cur.updated_at = utcnow()


def reset_cursor(engine: Engine, endpoint: str) -> None:
    """Forget how far push and pull got with an LRS (the next run starts from the beginning)."""
    with transaction(engine) as s:
        cur = s.get(LrsCursor, endpoint)
        if cur is not None:
            s.delete(cur)


@dataclass(frozen=True)
class SyncResult:
    statements: int
    batches: int
    skipped: int = 0


Progress = Callable[[int, int | None], None]  # (done so far, total if known)


def push(engine: Engine, client: LrsClient, *, library: Any = None, batch: int = DEFAULT_BATCH,
         progress: Progress | None = None) -> SyncResult:
    """Send the statements stored since the last push, in stored order, a batch at a time.

    Voided statements go too (followed by their voiding statements), so the LRS applies the
    voiding. ``stored`` is left out: the LRS sets it.
    """
    from .xapi_export import export_rows

    endpoint = client.config.endpoint
    cur = _cursor(engine, endpoint)
    after = (cur.pushed_stored_at, cur.pushed_id or "") if cur.pushed_stored_at is not None else None
    rows = export_rows(engine, library=library, include_voided=True)
    rows.sort(key=lambda r: (r[0], r[1]))
    todo = [r for r in rows if after is None or (r[0], r[1]) > after]
    done = batches = 0
    if progress:
        progress(0, len(todo))
    for k in range(0, len(todo), batch):
        chunk = todo[k:k + batch]
        client.post_statements([{key: v for key, v in st.items() if key != "stored"} for *_, st in chunk])
        last = chunk[-1]
        _save_cursor(engine, endpoint, pushed_stored_at=last[0], pushed_id=last[1])
        done += len(chunk)
        batches += 1
        if progress:
            progress(done, len(todo))
    return SyncResult(done, batches)


def pull(engine: Engine, client: LrsClient, *, organization_id: str | None = None, library: Any = None,
         keep_unknown_content: bool = False, create_leaders: bool = False, batch: int = DEFAULT_BATCH,
         progress: Progress | None = None) -> SyncResult:
    """Import the LRS's statements stored since the last pull, page by page.

    Each page is one all-or-nothing import (a refused statement stops the pull with its
    page position and reason; the pages before it stay imported and the cursor stays there).
    """
    from .xapi import StatementError, import_statements

    endpoint = client.config.endpoint
    since = _cursor(engine, endpoint).pulled_since
    done = batches = skipped = 0
    seen_before = 0
    for page in client.statement_pages(since=since, limit=batch):
        if not page:
            break
        clean = [{k: v for k, v in st.items() if k != "stored"} for st in page]
        try:
            res = import_statements(engine, clean, organization_id=organization_id, library=library,
                                    keep_unknown_content=keep_unknown_content, create_leaders=create_leaders)
        except StatementError as exc:
            raise StatementError(seen_before + exc.index, exc.reason, file=endpoint) from None
        newest = max((st.get("stored") for st in page if st.get("stored")), default=None,
                     key=lambda t: _parse_time(t))
        if newest:
            _save_cursor(engine, endpoint, pulled_since=newest)
        seen_before += len(page)
        done += res.stored
        skipped += res.skipped
        batches += 1
        if progress:
            progress(seen_before, None)
    return SyncResult(done, batches, skipped)


def _parse_time(t: str) -> datetime:
    return datetime.fromisoformat(t.replace("Z", "+00:00"))
