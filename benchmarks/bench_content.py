"""Content loading: the shipped library, parsed with and without the duplicated-key check, and rendered.

The apps load the library on every page load, so the check for keys given twice in a YAML
mapping (:class:`workbench.content.loader._Loader`) must cost little. Every YAML document of
the shipped library (YAML files and Markdown front matter) is parsed with PyYAML's plain safe
loader (libyaml's C parser when available) and with the checking loader, then the whole
``Library.load`` is timed. Medians over repetitions, interleaved so machine load hits both alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import yaml

from workbench.content import Library, default_content_path
from workbench.content import loader as content_loader

from ._common import BenchResult, Column, timed

COLUMNS = [
    Column("what", "what", justify="left"),
    Column("loader", "loader", justify="left"),
    Column("documents", "documents"),
    Column("median_ms", "median ms", "{:.1f}"),
    Column("min_ms", "min ms", "{:.1f}"),
    Column("relative", "vs plain", "{:.2f}x"),
]


def _documents() -> list[str]:
    root = default_content_path()
    docs = []
    for path in sorted(root.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            docs.append(path.read_text(encoding="utf-8"))
        elif path.suffix == ".md":
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
            if lines and lines[0].strip() == "---" and end is not None:
                docs.append("".join(lines[1:end]))
    return docs


def run(quick: bool = False, log: Callable[[str], None] = print) -> BenchResult:
    reps = 10 if quick else 30
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = _documents()
    result = BenchResult("content", "Content loading: the duplicated-key check on the shipped library", COLUMNS,
                         meta={"repetitions": reps, "base_loader": base.__name__, "documents": len(docs)})

    def plain() -> None:
        for d in docs:
            yaml.load(d, Loader=base)  # noqa: S506 - a safe loader

    def checking() -> None:
        for d in docs:
            content_loader._load_yaml(d)

    from workbench.apps import learning_widgets

    bodies = [m.body for m in Library.load().modules.values()]

    def render() -> None:
        learning_widgets._render_markdown.cache_clear()  # first opens, not the kernel's cache
        for b in bodies:
            learning_widgets.render_markdown(b, shift=1, drop_title=True)

    log(f"content: {len(docs)} YAML documents, {len(bodies)} module bodies, {reps} repetitions")
    plain(), checking(), Library.load(), render()  # warm caches and imports
    times: dict[str, list[float]] = {"plain": [], "checking": [], "library": [], "render": []}
    for _ in range(reps):
        times["plain"].append(timed(plain)[0])
        times["checking"].append(timed(checking)[0])
        times["library"].append(timed(Library.load)[0])
        times["render"].append(timed(render)[0])
    ref = statistics.median(times["plain"])
    for key, what, name in (("plain", "parse YAML", base.__name__), ("checking", "parse YAML", "duplicate-checking"),
                            ("library", "Library.load", "duplicate-checking")):
        med = statistics.median(times[key])
        result.rows.append({"what": what, "loader": name, "documents": len(docs), "median_ms": 1000 * med,
                            "min_ms": 1000 * min(times[key]), "relative": med / ref if key != "library" else None})
    med = statistics.median(times["render"])
    result.rows.append({"what": "render module text", "loader": "markdown-it-py + nh3", "documents": len(bodies),
                        "median_ms": 1000 * med, "min_ms": 1000 * min(times["render"]), "relative": None})
    result.notes += ["Library.load also validates every document with pydantic and runs the cross-reference checks",
                     "render module text: every module body to sanitized HTML, as the reader does on first opening one "
                     "(later opens in the same kernel come from a cache)"]
    return result
