"""Experiment configuration: a validated pydantic model and a YAML loader.

Errors are one line: :func:`parse_config` and :func:`load_config` raise ``ValueError`` with
``"<where>: <what>"`` (and, for :func:`load_config`, the file name and the line and column of
the offending YAML node). Types are strict: ``population: "60"`` or ``weeks: true`` are refused,
not coerced. Names are slugs (letters, digits, ``.``, ``_``, ``-``; not starting with ``.``), so a
name can never point outside the output folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from workbench.recommend.strategies import STRATEGIES

from ..limits import CONFIG_FILE, MAX_EXPERIMENT_SEEDS, MAX_EXPERIMENT_WEEKS, InputTooLarge
from .dynamics import Dynamics
from .run import OUTCOMES, check_settings

Outcome = Literal["measured_gain", "measured_need_gain", "true_gain", "true_need_gain", "engagement", "minutes",
                  "completed"]
assert set(OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]
#: A safe name: used in file names of runs, so no path separators, no leading dot.
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def _slug(v: str) -> str:
    if not SLUG.fullmatch(v) or ".." in v:
        raise ValueError(f"{v!r} is not a safe name: use 1-80 letters, digits, '.', '_' or '-', starting with a "
                         "letter or digit (no '/', no '..')")
    return v


Slug = Annotated[str, AfterValidator(_slug)]


class ArmConfig(BaseModel):
    """One arm: a name, a strategy of ``workbench.recommend.STRATEGIES`` and its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    name: Slug
    strategy: str
    settings: dict[str, Any] = {}

    @field_validator("strategy")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in STRATEGIES:
            raise ValueError(f"unknown strategy {v!r}; expected one of {', '.join(STRATEGIES)}")
        return v

    @model_validator(mode="after")
    def _settings(self) -> ArmConfig:
        check_settings(self.strategy, self.settings)
        return self


class ExperimentConfig(BaseModel):
    """An experiment: arms, total population (split evenly at random), weeks, seeds, outcome."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    name: Slug
    arms: list[ArmConfig] = Field(min_length=2)
    population: int
    weeks: int
    seeds: list[int] | int = 1
    outcome: Outcome = "measured_need_gain"
    #: Bayesian analysis; None: the runner's default (pymc), or conjugate in process (run_experiment).
    method: Literal["conjugate", "pymc"] | None = None
    #: P(best) threshold; None: calibrated so identical arms give a false winner at rate ``alpha``.
    threshold: float | None = Field(None, ge=0.5, lt=1.0)
    alpha: float = Field(0.05, ge=0.005, lt=0.5)
    dynamics: dict[str, float] = {}

    @field_validator("weeks")
    @classmethod
    def _weeks(cls, v: int) -> int:
        if not 1 <= v <= MAX_EXPERIMENT_WEEKS:
            raise ValueError(f"weeks must be from 1 to {MAX_EXPERIMENT_WEEKS}, got {v}")
        return v

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, v: Any) -> Any:
        def is_int(x: Any) -> bool:
            return isinstance(x, int) and not isinstance(x, bool)

        if is_int(v):
            if not 1 <= v <= MAX_EXPERIMENT_SEEDS:
                raise ValueError(f"seeds as a count must be from 1 to {MAX_EXPERIMENT_SEEDS}, got {v}")
            return v
        if not isinstance(v, list):
            raise ValueError(f"seeds must be a count or a list of seeds, got {v!r}")
        if not v or len(v) > MAX_EXPERIMENT_SEEDS:
            raise ValueError(f"seeds as a list must have 1 to {MAX_EXPERIMENT_SEEDS} seeds, got {len(v)}")
        bad = next((x for x in v if not is_int(x) or not 0 <= x < 2**32), None)
        if bad is not None:
            raise ValueError(f"seeds must be integers from 0 to 2**32 - 1, got {bad!r}")
        if len(set(v)) != len(v):
            raise ValueError("seeds as a list must be without repeats")
        return v

    @field_validator("dynamics")
    @classmethod
    def _dynamics(cls, v: dict[str, float]) -> dict[str, float]:

        unknown = sorted(set(v) - set(Dynamics.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown dynamics parameter {unknown[0]!r}")
        Dynamics(**v)
        return v

    @model_validator(mode="after")
    def _arms(self) -> ExperimentConfig:
        names = [a.name for a in self.arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate arm name {dup[0]!r}")
        if self.population < 2 * len(self.arms):
            raise ValueError(f"population {self.population} is too small: need at least 2 leaders per arm "
                             f"({2 * len(self.arms)} for {len(self.arms)} arms)")
        return self

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


def _one_line(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        if e["type"].endswith("_type") or e["type"].endswith("_parsing"):
            msg += f" (got {e['input']!r})"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_config(data: Mapping[str, Any]) -> ExperimentConfig:
    """Validate plain data into an :class:`ExperimentConfig` (one-line ValueError)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"an experiment config must be a mapping, got {type(data).__name__}")
    try:
        return ExperimentConfig.model_validate(dict(data))
    except ValidationError as err:
        raise ValueError(_one_line(err)) from None


def _node_at(node: Any, loc: tuple) -> Any:
    """The YAML node at a pydantic error location (as deep as the location can be followed)."""
    import yaml

    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML experiment config.

    Errors are one line starting with ``<file>:<line>:<column>:`` (the YAML node at fault, or the
    syntax error's position), or ``<file>:`` when no position applies.
    """
    import yaml

    p = Path(path)
    try:
        CONFIG_FILE.check(p)
        text = p.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except InputTooLarge as err:
        raise ValueError(str(err)) from None
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not UTF-8 text") from None
    except OSError as err:
        raise ValueError(f"{p}: cannot read: {err.strerror}") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(p)
        raise ValueError(f"{where}: not valid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{p}: not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{p}: an experiment config must be a mapping, got {type(data).__name__}")
    try:
        return ExperimentConfig.model_validate(dict(data))
    except ValidationError as err:
        loc = tuple(err.errors()[0]["loc"])
        if not loc:  # a check across fields: no one place in the file
            raise ValueError(f"{p}: {_one_line(err)}") from None
        mark = _node_at(root, loc).start_mark
        raise ValueError(f"{p}:{mark.line + 1}:{mark.column + 1}: {_one_line(err)}") from None
