"""Experiment configuration: a validated pydantic model and a YAML loader.

Errors are one line: :func:`parse_config` and :func:`load_config` raise ``ValueError`` with
``"<where>: <what>"`` (and the file name for :func:`load_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.recommend.strategies import STRATEGIES

from ..limits import CONFIG_FILE, MAX_EXPERIMENT_SEEDS, MAX_EXPERIMENT_WEEKS, InputTooLarge
from .dynamics import Dynamics
from .run import OUTCOMES, check_settings

Outcome = Literal["measured_gain", "measured_need_gain", "true_gain", "true_need_gain", "engagement", "minutes",
                  "completed"]
assert set(OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]


class ArmConfig(BaseModel):
    """One arm: a name, a strategy of ``workbench.recommend.STRATEGIES`` and its settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
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

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    arms: list[ArmConfig] = Field(min_length=2)
    population: int
    weeks: int
    seeds: list[int] | int = 1
    outcome: Outcome = "measured_need_gain"
    method: Literal["conjugate", "pymc"] = "conjugate"
    threshold: float = Field(0.95, ge=0.5, lt=1.0)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    dynamics: dict[str, float] = {}

    @field_validator("weeks")
    @classmethod
    def _weeks(cls, v: int) -> int:
        if not 1 <= v <= MAX_EXPERIMENT_WEEKS:
            raise ValueError(f"weeks must be from 1 to {MAX_EXPERIMENT_WEEKS}, got {v}")
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int] | int) -> list[int] | int:
        if isinstance(v, int) and not 1 <= v <= MAX_EXPERIMENT_SEEDS:
            raise ValueError(f"seeds as a count must be from 1 to {MAX_EXPERIMENT_SEEDS}, got {v}")
        if isinstance(v, list):
            if not v or len(set(v)) != len(v):
                raise ValueError("seeds as a list must be non-empty and without repeats")
            if len(v) > MAX_EXPERIMENT_SEEDS:
                raise ValueError(f"at most {MAX_EXPERIMENT_SEEDS} seeds, got {len(v)}")
            if any(not 0 <= s < 2**32 for s in v):
                raise ValueError("seeds must be integers from 0 to 2**32 - 1")
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


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate a YAML experiment config; errors start with the file name."""
    import yaml

    p = Path(path)
    try:
        CONFIG_FILE.check(p)
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except InputTooLarge as err:
        raise ValueError(str(err)) from None
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not UTF-8 text") from None
    except OSError as err:
        raise ValueError(f"{p}: cannot read: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{p}: not valid YAML: {str(err).splitlines()[0]}") from None
    try:
        return parse_config(data)
    except ValueError as err:
        raise ValueError(f"{p}: {err}") from None
