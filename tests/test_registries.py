"""The tables that replace name switches: apps (gate, CLI, pages) and benchmarks."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from workbench.apps import registry
from workbench.services.identity import KINDS

ROOT = Path(__file__).resolve().parents[1]


def test_every_app_row_names_a_notebook_a_link_kind_and_page_methods():
    from workbench.apps.cohort import CohortPage
    from workbench.apps.leader import LeaderPage

    assert sorted(a.token_kind for a in registry.APPS) == sorted(KINDS)
    assert len({a.notebook for a in registry.APPS}) == len(registry.APPS)
    for app in registry.APPS:
        assert (ROOT / "notebooks" / "apps" / app.notebook).is_file(), app.notebook
        assert registry.app_for_kind(app.token_kind) is app and registry.app_for_notebook(app.notebook) is app
    for page, app in ((LeaderPage, registry.LEADER), (CohortPage, registry.COHORT)):
        assert len(set(app.titles)) == len(app.titles)
        for tab in app.tabs:
            assert callable(getattr(page, tab.builder, None)), f"{page.__name__} has no {tab.builder}()"
    assert registry.app_for_notebook("secret.ipynb") is None
    with pytest.raises(KeyError, match="no app opens"):
        registry.app_for_kind("admin")


def test_the_gate_reads_the_table():
    from workbench.apps.gate import APP_KINDS

    assert APP_KINDS == {a.notebook: a.token_kind for a in registry.APPS}


def test_tabs_for_a_leader_outside_any_cohort_leave_out_the_cohort_tab():
    class Page:
        def __getattr__(self, name):
            return name

    inside = registry.build_tabs(Page(), registry.LEADER)
    outside = registry.build_tabs(Page(), registry.LEADER, in_cohort=False)
    assert list(inside) == list(registry.LEADER.titles)
    assert list(outside) == [t.title for t in registry.LEADER.tabs if not t.needs_cohort] != list(inside)
    assert registry.live_tabs(registry.LEADER) == {"My profile", "Progress"}


def test_every_benchmark_row_has_a_module_whose_run_takes_its_options():
    import importlib

    from benchmarks.run import BENCHMARKS, REGISTRY, parse_args

    args = parse_args([])
    assert BENCHMARKS == tuple(REGISTRY) and len(BENCHMARKS) == len(set(BENCHMARKS))
    files = {p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert files == set(BENCHMARKS)
    for bench in REGISTRY.values():
        params = inspect.signature(importlib.import_module(f"benchmarks.bench_{bench.name}").run).parameters
        assert {"quick", "log", *bench.options} <= set(params), bench.name
        assert all(hasattr(args, o) for o in bench.options)
