"""Signed links: who a Voilà page is for, proven by an HMAC-signed, expiring token.

Tokens are made and checked with :mod:`itsdangerous`; the secret comes from
``WORKBENCH_SECRET`` or is generated once and kept in ``.workbench/secret`` (mode 0600).
A token names a subject such as ``leader:L0001`` or ``facilitator:C03``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "workbench-link"
DEFAULT_TTL_HOURS = 24 * 14
KINDS = ("leader", "facilitator", "rater")


class InvalidLink(PermissionError):
    """The token is missing, tampered with, or expired."""


@dataclass(frozen=True)
class Identity:
    kind: str
    subject: str


def state_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_HOME", Path.cwd() / ".workbench"))


def secret() -> str:
    env = os.environ.get("WORKBENCH_SECRET")
    if env:
        return env
    path = state_dir() / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _serializer(key: str | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key or secret(), salt=SALT)


def make_token(kind: str, subject: str, key: str | None = None) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown identity kind {kind!r}; expected one of {KINDS}")
    if not subject:
        raise ValueError("an identity needs a subject id")
    return _serializer(key).dumps({"kind": kind, "sub": subject})


def verify_token(token: str | None, max_age_hours: float = DEFAULT_TTL_HOURS, key: str | None = None) -> Identity:
    if not token:
        raise InvalidLink("this page needs a personal link")
    try:
        data = _serializer(key).loads(token, max_age=max_age_hours * 3600)
    except SignatureExpired:
        raise InvalidLink("this link has expired") from None
    except BadSignature:
        raise InvalidLink("this link is not valid") from None
    if not isinstance(data, dict) or data.get("kind") not in KINDS or not data.get("sub"):
        raise InvalidLink("this link is not valid")
    return Identity(data["kind"], data["sub"])


def app_url(base_url: str, notebook: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/voila/render/{notebook}?{urlencode({'token': token})}"
