"""Plain HTTP and websocket requests against a test server, as a visitor (or an attacker) makes them."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from workbench.apps.server import KERNEL_WS_PROTOCOL

T = TypeVar("T")

KERNEL_ID = re.compile(r'"kernelId": "([0-9a-f-]{36})"')


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    cookies: str  # "name=value; ..." as a browser would send them back
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def kernel_id(self) -> str | None:
        m = KERNEL_ID.search(self.body)
        return m.group(1) if m else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


#: Jupyter's double-submit check for unsafe methods: the same value as a cookie and a header
XSRF = "0123456789abcdef"


def request(url: str, method: str = "GET", cookies: str = "", timeout: float = 180.0) -> Response:
    """One request; never follows redirects; any status is returned, not raised.

    Unsafe methods carry a matching ``_xsrf`` cookie and header, as a page of the same site
    can, so that a refusal comes from the server's own checks, not from Jupyter's XSRF check.
    """
    headers = {}
    if method != "GET":
        cookies = "; ".join(c for c in (cookies, f"_xsrf={XSRF}") if c)
        headers["X-XSRFToken"] = XSRF
    if cookies:
        headers["Cookie"] = cookies
    req = urllib.request.Request(url, method=method, data=b"" if method in ("POST", "PUT", "PATCH") else None,
                                 headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as r:
            status, headers, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    jar = "; ".join(h.split(";", 1)[0] for h in headers.get_all("Set-Cookie") or [])
    return Response(status, body.decode("utf-8", "replace"), jar, dict(headers.items()))


def run_async(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function to its end on a fresh event loop in its own thread (Playwright's sync
    API keeps a loop running in the test's thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, fn()).result()


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


def ws_handshake(url: str, cookies: str = "", v1: bool = True, messages: list[str] | None = None,
                 until: Callable[[str], bool] | None = None, timeout: float = 180.0) -> tuple[int, list[str]]:
    """Open a websocket: the handshake's status (101 when accepted) and, when accepted, the replies
    to ``messages`` (text frames) read until ``until(reply)`` is true or the socket closes."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def go():
        req = HTTPRequest(url, headers={"Cookie": cookies} if cookies else {}, request_timeout=timeout)
        try:
            conn = await websocket_connect(req, subprotocols=[KERNEL_WS_PROTOCOL] if v1 else None)
        except HTTPClientError as e:
            return e.code, []
        replies: list[str] = []
        try:
            for m in messages or []:
                await conn.write_message(m)
            while until is not None:
                msg = await asyncio.wait_for(conn.read_message(), timeout)
                if msg is None:
                    break
                replies.append(msg if isinstance(msg, str) else msg.decode("utf-8", "replace"))
                if until(replies[-1]):
                    break
        finally:
            conn.close()
        return 101, replies

    return run_async(go)


def last_cell(reply: str) -> bool:
    """Whether a ``/voila/execution`` reply is the result of the notebook's last cell."""
    import json

    p = json.loads(reply).get("payload", {})
    return "total_cell" in p and p["cell_index"] + 1 == p["total_cell"]
