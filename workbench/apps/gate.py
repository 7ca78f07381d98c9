"""The server-side gate: a page gets a kernel only for a valid signed link to the right app.

``workbench serve``'s page handler (:class:`workbench.apps.server.PageHandler`) calls
:func:`check_request` in the server process before any kernel is given (a preheated one) or
started, so a missing, tampered, expired or wrong-kind token is answered with 403 and no notebook
code (and no store read) ever runs for it. The notebooks check the token again themselves, so a
page opened any other way is still safe. :func:`prelaunch_hook` is the same check as a Voilà
``prelaunch_hook``, for running the app notebooks under plain ``voila`` (it cannot be combined
with Voilà's own kernel preheating, which is why ``workbench serve`` gates in its handler).
"""

from __future__ import annotations

import hashlib
import logging
import os

from ..services.identity import InvalidLink, verify_token
from .registry import APPS, app_for_notebook

log = logging.getLogger("workbench.serve")

#: which signed-link kind opens which app notebook; any other notebook is refused
APP_KINDS = {a.notebook: a.token_kind for a in APPS}


def token_digest(token: str | None, full: bool = False) -> str:
    """The SHA-256 of a link's token in hex: its first 8 digits name a link in logs, never the token.

    ``full`` gives all 64 digits (the server's key for "the kernels of this link"). A missing
    token is ``"-"``.
    """
    if not token:
        return "-"
    digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
    return digest if full else digest[:8]


def check_request(notebook_name: str, token: str | None) -> str:
    """The identity subject for a request, or :class:`InvalidLink` with a reason a person can read."""
    app = app_for_notebook(notebook_name)
    if app is None:
        raise InvalidLink(f"there is no app called {notebook_name!r}")
    kind = app.token_kind
    ident = verify_token(token)
    if ident.kind != kind:
        raise InvalidLink(f"this link is not for the {kind} app")
    return ident.subject


def prelaunch_hook(req, notebook, cwd):  # signature fixed by Voilà
    """Voilà's prelaunch hook: refuse with 403 unless the query's token opens this notebook."""
    from tornado.web import HTTPError

    name = os.path.basename(req.request.path.split("?", 1)[0])
    token = req.get_query_argument("token", default=None)
    try:
        check_request(name, token)
    except InvalidLink as exc:
        # Voilà's error page shows the reason phrase; keep it one plain ASCII line
        reason = f"Cannot open this page: {exc}".encode("ascii", "replace").decode().replace("\n", " ")
        log.warning("gate: refused %s for link sha256:%s: %s", name, token_digest(token), exc)
        raise HTTPError(403, reason=reason) from None
    return None
