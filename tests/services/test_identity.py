"""Signed links: valid ones identify, tampered, expired or missing ones never do."""

from __future__ import annotations

import time

import pytest

from workbench.services.identity import InvalidLink, make_token, secret, verify_token


def test_round_trip():
    tok = make_token("leader", "L0007", key="k")
    ident = verify_token(tok, key="k")
    assert (ident.kind, ident.subject) == ("leader", "L0007")


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
                                    lambda t: t.replace(t.split(".")[0], t.split(".")[0][::-1]),
                                    lambda t: "", lambda t: None, lambda t: "garbage"])
def test_tampered_or_missing(mangle):
    with pytest.raises(InvalidLink):
        verify_token(mangle(make_token("leader", "L0007", key="k")), key="k")


def test_other_key_is_refused():
    with pytest.raises(InvalidLink, match="not valid"):
        verify_token(make_token("leader", "L0007", key="k"), key="other")


def test_expired(monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3 * 24 * 3600)
    tok = make_token("leader", "L0007", key="k")
    monkeypatch.setattr(time, "time", real)
    with pytest.raises(InvalidLink, match="expired"):
        verify_token(tok, max_age_hours=24, key="k")
    assert verify_token(tok, max_age_hours=96, key="k").subject == "L0007"


def test_secret_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_SECRET", raising=False)
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    s1 = secret()
    assert s1 == secret() and len(s1) > 40
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0


def test_unknown_kind():
    with pytest.raises(ValueError):
        make_token("admin", "x", key="k")
