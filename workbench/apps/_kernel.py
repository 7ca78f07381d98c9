"""Imported first by the app modules, which run inside Voilà kernels: keeps page loads light, and
gives the page its query string (its signed link) in a preheated kernel.

plotly's ``FigureWidget`` imports nbformat, which imports jsonschema; when the optional
``rfc3987_syntax`` package is importable, jsonschema builds a parser for IRI checks at import
time, which took 1.7 s of a 4.5 s page build here. App kernels never validate IRIs, so the
module is marked absent before anything imports jsonschema (jsonschema then skips that one
format check, as it does when the package is not installed). Nothing else changes.
"""

from __future__ import annotations

import json
import os
import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

#: set by ``workbench serve`` in the environment of every kernel it starts (never sent to a browser)
KERNEL_KEY_ENV = "WORKBENCH_KERNEL_KEY"
KERNEL_KEY_HEADER = "X-Workbench-Kernel-Key"


def query_url() -> str:
    """Where this preheated kernel asks the server for its page's request (``/voila/query/<kernel id>``)."""
    ip = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    host = f"[{ip}]" if ":" in ip else ip
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_SERVER_URL", "/")
    return f"ws://{host}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}"


def query_string() -> str:
    """The query string of the page this kernel serves (``""`` outside Voilà).

    A kernel started for a request has it in ``QUERY_STRING``. A preheated kernel (``VOILA_PREHEAT``
    is ``True``) was started before anyone asked for a page: here it waits until the server gives it
    the one request it is for, over ``/voila/query/<its id>`` with the server's kernel key, and keeps
    that request's variables in its environment (later calls read them, and never wait again).
    """
    if os.environ.get("VOILA_PREHEAT") != "True":
        return os.environ.get("QUERY_STRING", "")
    from websockets.sync.client import connect

    key = os.environ.get(KERNEL_KEY_ENV, "")
    with connect(query_url(), additional_headers={KERNEL_KEY_HEADER: key}, open_timeout=30,
                 max_size=2**16) as ws:
        info = json.loads(ws.recv())
    os.environ.update({k: str(v) for k, v in info.items()})
    os.environ["VOILA_PREHEAT"] = "False"  # this kernel now belongs to that request
    return os.environ.get("QUERY_STRING", "")
