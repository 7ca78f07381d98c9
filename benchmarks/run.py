"""Run the benchmarks, print their tables and write them as JSON.

Usage::

    python -m benchmarks.run [--quick] [--full] [--only calibration|scoring|cohorts|recommend|sim|adaptive|pages|content|coach|coach_safety|load|decisions|processes]
                             [--estimators map,nuts,girth,mirt] [--sizes small,large] [--out DIR]
    python benchmarks/run.py ...   # the same

Results go to ``reports/benchmarks/<name>.json`` (``<name>-quick.json`` with ``--quick``,
``<name>-full.json`` with ``--full``), ``<name>`` being a benchmark's name (``BENCHMARKS``).
"""

from __future__ import annotations

import os

# PyMC's samplers run one chain per core; a threaded BLAS on top of that only oversubscribes.
# This must happen before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks._common import BenchResult  # noqa: E402


@dataclass(frozen=True)
class Benchmark:
    """A benchmark: ``benchmarks/bench_<name>.py`` whose ``run(quick=, log=, **options)`` returns a
    :class:`~benchmarks._common.BenchResult`; ``options`` names the command-line arguments it also takes."""

    name: str
    options: tuple[str, ...] = ()

    def run(self, args: argparse.Namespace, log) -> BenchResult:
        module = importlib.import_module(f"benchmarks.bench_{self.name}")  # imported only when it runs
        return module.run(quick=args.quick, log=log, **{o: getattr(args, o) for o in self.options})


#: every benchmark, in the order a plain run goes through them; adding one is one row here
REGISTRY: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("calibration", ("full", "estimators", "sizes")),
    Benchmark("scoring"),
    Benchmark("cohorts"),
    Benchmark("recommend"),
    Benchmark("sim"),
    Benchmark("adaptive"),
    Benchmark("pages", ("db",)),
    Benchmark("content"),
    Benchmark("coach"),
    Benchmark("coach_safety"),
    Benchmark("load", ("db", "browser")),
    Benchmark("decisions"),
    Benchmark("processes"),
)}
BENCHMARKS = tuple(REGISTRY)
PACKAGES = ("numpy", "scipy", "pandas", "pymc", "pytensor", "girth", "mirt", "scikit-learn", "workbench")


def environment() -> dict[str, object]:
    """Versions and machine facts recorded with every result."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "load_average_1_5_15min": list(os.getloadavg()),  # other work on the machine skews timings
        "packages": versions,
    }


def print_result(result: BenchResult) -> None:
    """Print a result as a rich table, or as aligned plain text without rich."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _print_plain(result)
        return
    table = Table(title=result.title, title_justify="left")
    for col in result.columns:
        table.add_column(col.header, justify=col.justify, overflow="fold")
    for row in result.rows:
        table.add_row(*(result.cell(row, c) for c in result.columns))
    console = Console()
    if not console.is_terminal:  # piped or redirected: do not squeeze the table into 80 columns
        console = Console(width=200)
    console.print(table)
    for note in result.notes:
        console.print(f"  * {note}", highlight=False)
    console.print()


def _print_plain(result: BenchResult) -> None:
    cells = [[c.header for c in result.columns]]
    cells += [[result.cell(r, c) for c in result.columns] for r in result.rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(result.columns))]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) if c.justify == "left" else v.rjust(w)
                         for v, w, c in zip(values, widths, result.columns, strict=True)).rstrip()

    print(result.title)
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for values in cells[1:]:
        print(line(values))
    for note in result.notes:
        print(f"  * {note}")
    print()


def write_json(result: BenchResult, out_dir: Path, suffix: str, started: str, env: dict[str, object]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{result.name}{suffix}.json"
    doc = {**result.to_json(), "started": started, "environment": env,
           "load_average_at_end_1_5_15min": list(os.getloadavg())}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from benchmarks.bench_calibration import CASES, ESTIMATORS

    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer scoring repetitions, smaller naive sample (a few minutes)")
    p.add_argument("--full", action="store_true", help="also run NUTS on 10,000 x 60 (tens of minutes)")
    p.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)")
    p.add_argument("--estimators", type=_csv, default=ESTIMATORS,
                   help=f"calibration estimators, comma-separated (default: {','.join(ESTIMATORS)})")
    p.add_argument("--sizes", type=_csv, default=tuple(CASES),
                   help=f"calibration data sets, comma-separated (default: {','.join(CASES)})")
    p.add_argument("--db", default=None, help="pages, load: a database URL holding the demo (default: build one)")
    p.add_argument("--browser", action="store_true", help="load: open the pages in headless Chromium (default: as "
                                                           "the page script does, without a browser)")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "benchmarks", help="directory for the JSON")
    args = p.parse_args(argv)
    if args.quick and args.full:
        p.error("--quick and --full exclude each other")
    for name, allowed, given in (("estimators", ESTIMATORS, args.estimators), ("sizes", tuple(CASES), args.sizes)):
        bad = [g for g in given if g not in allowed]
        if bad:
            p.error(f"unknown {name}: {', '.join(bad)} (choose from {', '.join(allowed)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    env = environment()
    suffix = "-quick" if args.quick else "-full" if args.full else ""

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    for name in args.only or BENCHMARKS:
        result = REGISTRY[name].run(args, log)
        print_result(result)
        path = write_json(result, args.out, suffix, started, env)
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
