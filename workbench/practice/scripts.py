"""Scripted coaching conversations: drive a :class:`CoachSession` through a leader's lines and
compare what it saved with what the leader meant.

A script file (YAML) has a ``today`` date and a list of ``conversations``, each with a ``name``,
an optional ``context`` (``development_areas``, ``moment``, ``name``), the leader's ``turns`` in
order, and ``expect``: the ``competency`` the conversation was about, the ``commitment`` (the
leader's own sentence) and its ``due`` date. The tests and ``benchmarks/bench_coach.py`` use it;
an organization can keep its own scripts to check the coach against its own language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..content.library import Library
from ..content.search import LibraryIndex
from .coach import CoachContext, CoachSession, ReplyGenerator


@dataclass(frozen=True)
class Script:
    """One scripted conversation."""

    name: str
    turns: tuple[str, ...]
    competency: str
    commitment: str
    due: date
    development_areas: tuple[str, ...] = ()
    moment: str | None = None


@dataclass(frozen=True)
class ScriptOutcome:
    """What a scripted conversation saved, against what was expected."""

    script: Script
    saved_text: str | None
    saved_competency: str | None
    saved_due: date | None
    first_topic: str | None
    transcript: str

    @property
    def verbatim(self) -> bool:
        """The saved text is the leader's sentence (modulo surrounding whitespace)."""
        return self.saved_text is not None and self.saved_text.strip() == self.script.commitment.strip()

    @property
    def right_competency(self) -> bool:
        return self.saved_competency == self.script.competency

    @property
    def right_due(self) -> bool:
        return self.saved_due == self.script.due


def load_scripts(path: Path | str) -> tuple[date, list[Script]]:
    """The date the scripts are read against and the scripts.

    Raises
    ------
    ValueError
        Naming the file and the conversation (by position and name) when a field is missing or malformed.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the scripts ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("today"), date) or not isinstance(doc.get("conversations"), list):
        raise ValueError(f"{path}: expected 'today: YYYY-MM-DD' and a list 'conversations'")
    out = []
    for i, c in enumerate(doc["conversations"]):
        where = f"{path}: conversations[{i}]" + (f" ({c.get('name')})" if isinstance(c, dict) else "")
        if not isinstance(c, dict) or not isinstance(c.get("expect"), dict):
            raise ValueError(f"{where}: expected a mapping with name, turns and expect")
        exp = c["expect"]
        missing = [f for f in ("name", "turns") if not c.get(f)] + \
            [f"expect.{f}" for f in ("competency", "commitment", "due") if not exp.get(f)]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        if not isinstance(exp["due"], date) or not isinstance(c["turns"], list):
            raise ValueError(f"{where}: expect.due must be a date (YYYY-MM-DD) and turns a list")
        ctx: dict[str, Any] = c.get("context") or {}
        out.append(Script(str(c["name"]), tuple(str(t) for t in c["turns"]), str(exp["competency"]),
                          str(exp["commitment"]), exp["due"], tuple(ctx.get("development_areas") or ()),
                          ctx.get("moment")))
    return doc["today"], out


def run_script(library: Library, script: Script, today: date, index: LibraryIndex | None = None,
               generator: ReplyGenerator | None = None) -> ScriptOutcome:
    """Send the script's lines to a new session (stopping once it is done) and report what was saved."""
    ctx = CoachContext(development_areas=script.development_areas, moment=script.moment)
    s = CoachSession(library, ctx, index=index, today=today, generator=generator)
    s.open()
    first_topic = None
    for i, line in enumerate(script.turns):
        if s.done:
            break
        s.send(line)
        if i == 0:
            first_topic = s.state.competency
    c = s.commitment
    return ScriptOutcome(script, c.text if c else None, c.competency if c else None, c.due if c else None,
                         first_topic, s.transcript())
