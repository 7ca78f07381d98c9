"""The organization's xAPI profile: its account home page, identity mapping and policy.

An organization's settings (``organizations.settings["xapi"]``) say

- ``home_page``: the URL of the system where its leaders' accounts live. Exported actors are
  ``{"account": {"homePage": home_page, "name": <leader id>}}``, and an imported actor is
  this organization's leader only if its account has exactly this home page. Default:
  ``$WORKBENCH_XAPI_HOME_PAGE``, else ``http://localhost:8866/`` (the address of
  ``workbench serve``); set it once to the organization's real address.
- ``identities``: explicit mappings of other systems' identifiers to leaders, each one
  inverse functional identifier (an ``account`` with ``homePage`` and ``name``, an ``mbox``,
  an ``mbox_sha1sum`` or an ``openid``) and the ``leader`` it is.
- ``external_learners``: ``refuse`` (the default: a statement by anyone else stops the
  import) or ``keep`` (kept with no leader, never credited to one).

The file form (YAML or JSON) is the same mapping; ``workbench xapi identities`` loads it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Engine, select

from .db import transaction
from .models import Leader, Organization

DEFAULT_HOME_PAGE = "http://localhost:8866/"
HOME_PAGE_ENV = "WORKBENCH_XAPI_HOME_PAGE"
#: Most identity mappings one organization keeps.
MAX_IDENTITIES = 100_000


def default_home_page() -> str:
    return os.environ.get(HOME_PAGE_ENV) or DEFAULT_HOME_PAGE


def _url(v: str) -> str:
    if not (v.startswith("https://") or v.startswith("http://")) or len(v) > 300 or any(c.isspace() for c in v):
        raise ValueError(f"{v!r} is not an http(s) URL of at most 300 characters")
    return v


class AccountId(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    homePage: str = Field(min_length=1)
    name: str = Field(min_length=1)


class IdentityRule(BaseModel):
    """One other system's identifier that is one of the organization's leaders."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    leader: str = Field(min_length=1, max_length=64)
    account: AccountId | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None

    @model_validator(mode="after")
    def _one(self) -> IdentityRule:
        given = [k for k in ("account", "mbox", "mbox_sha1sum", "openid") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of account, mbox, mbox_sha1sum, openid")
        if self.mbox is not None and not self.mbox.startswith("mailto:"):
            raise ValueError("mbox must start with 'mailto:'")
        return self

    @property
    def key(self) -> str:
        return actor_key(self.model_dump(exclude_none=True))


class XapiProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    home_page: str = Field(default_factory=default_home_page)
    identities: tuple[IdentityRule, ...] = Field(default=(), max_length=MAX_IDENTITIES)
    external_learners: Literal["refuse", "keep"] = "refuse"

    _home = field_validator("home_page")(_url)

    @model_validator(mode="after")
    def _unique(self) -> XapiProfile:
        seen: dict[str, str] = {}
        for rule in self.identities:
            if rule.key in seen and seen[rule.key] != rule.leader:
                raise ValueError(f"identities: {rule.key} is mapped to both {seen[rule.key]} and {rule.leader}")
            seen[rule.key] = rule.leader
        return self

    def mapping(self) -> dict[str, str]:
        return {r.key: r.leader for r in self.identities}

    def authority(self, organization_id: str) -> dict[str, Any]:
        """The agent this workbench asserts its statements as (``authority``)."""
        return {"objectType": "Agent", "account": {"homePage": self.home_page, "name": f"org:{organization_id}"}}


def actor_key(agent: dict[str, Any]) -> str:
    """A canonical text form of an agent's or group's inverse functional identifier."""
    if agent.get("account"):
        acc = agent["account"]
        return f"account:{acc.get('homePage')}|{acc.get('name')}"
    for k in ("mbox", "mbox_sha1sum", "openid"):
        if agent.get(k):
            return f"{k}:{agent[k]}"
    return "anonymous"


def parse_profile(data: Any, source: str = "xapi profile") -> XapiProfile:
    if data is None:
        return XapiProfile()
    try:
        return XapiProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(profile)"
        raise ValueError(f"{source}: {loc}: {err['msg']}") from None


def read_profile_file(path: str | Path) -> XapiProfile:
    """A profile from a YAML or JSON file (one-line errors naming the file and field)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.stat().st_size > 50 * 1024 * 1024:
        raise ValueError(f"{path}: larger than 50 MB")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: "
                         f"{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with home_page, identities, external_learners")
    return parse_profile(data, str(path))


def organization_profile(engine: Engine, organization_id: str) -> XapiProfile:
    with transaction(engine) as s:
        org = s.get(Organization, organization_id)
        if org is None:
            raise ValueError(f"no organization {organization_id!r}")
        return parse_profile((org.settings or {}).get("xapi"), f"organization {organization_id} xapi settings")


def save_profile(engine: Engine, organization_id: str, profile: XapiProfile) -> None:
    """Store a profile in the organization's settings; every mapped leader must be its own."""
    with transaction(engine) as s:
        org = s.get(Organization, organization_id)
        if org is None:
            raise ValueError(f"no organization {organization_id!r}")
        own = set(s.scalars(select(Leader.id).where(Leader.organization_id == organization_id)))
        for i, rule in enumerate(profile.identities):
            if rule.leader not in own:
                raise ValueError(f"identities[{i}]: {rule.leader!r} is not a leader of {organization_id}")
        org.settings = {**(org.settings or {}), "xapi": profile.model_dump(mode="json", exclude_none=True)}


def resolve_organization(engine: Engine, organization_id: str | None) -> str:
    """The organization an import or export is for: the one given, or the store's only one."""
    with transaction(engine) as s:
        ids = list(s.scalars(select(Organization.id).order_by(Organization.id)))
    if organization_id is not None:
        if organization_id not in ids:
            raise ValueError(f"no organization {organization_id!r}")
        return organization_id
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise ValueError("the store has no organization (create one first, e.g. with 'workbench demo')")
    raise ValueError(f"the store has {len(ids)} organizations: name one with --org")
