"""Read content files into pydantic models, turning every failure into a :class:`Problem`.

Nothing here raises on bad content: each function returns what it could parse together
with the problems it found, so ``workbench content check`` can report all of them at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import frontmatter
import yaml
from pydantic import BaseModel, ValidationError

from ..limits import CONTENT_FILE, InputTooLarge
from .problems import Problem

M = TypeVar("M", bound=BaseModel)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _yaml_problem(exc: yaml.YAMLError, file: str, line_offset: int = 0) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Problem(file, "", f"YAML syntax error: {reason}", line)


def validation_problems(exc: ValidationError, file: str, prefix: str = "") -> list[Problem]:
    """One problem per pydantic error, with the field as a dotted path."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        field = ".".join(([prefix] if prefix else []) + loc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        out.append(Problem(file, field, msg))
    return out


#: libyaml's C parser when PyYAML was built with it (about 10x faster on the library), else pure Python;
#: both refuse the same input, with the same line and column in the error
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, noting every key given twice in one mapping (YAML forbids it; PyYAML keeps the last).

    Only the constructor is Python (the parser stays libyaml's), and the check looks at the key
    nodes already parsed, so it adds little to a load.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []  # (key, line, first line), 1-based lines

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append((key_node.value, line, seen[key]))
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> tuple[Any, list[tuple[str, int, int]]]:
    """The document and the keys given twice in a mapping: ``(key, line, first line)``."""
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _duplicate_problems(dups: list[tuple[str, int, int]], file: str, line_offset: int = 0) -> list[Problem]:
    return [Problem(file, key, f"duplicated key {key!r} (first on line {first + line_offset}); "
                               "YAML keeps only the last", line + line_offset)
            for key, line, first in sorted(dups, key=lambda d: (d[1], d[0]))]


def read_yaml(path: Path, root: Path) -> tuple[Any, list[Problem]]:
    """A YAML file's top-level mapping and its problems (a duplicated key is a problem, not fatal)."""
    file = _rel(path, root)
    try:
        CONTENT_FILE.check(path)
    except InputTooLarge as exc:
        return None, [Problem(file, "", str(exc).split(": ", 1)[1])]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, "", f"cannot read file: {exc}")]
    try:
        data, dups = _load_yaml(text)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, file)]
    if not isinstance(data, dict):
        return None, [Problem(file, "", "expected a YAML mapping at the top level")]
    return data, _duplicate_problems(dups, file)


class _FrontMatter(frontmatter.YAMLHandler):
    """python-frontmatter's YAML handler, loading with :class:`_Loader` to note duplicated keys."""

    def load(self, fm: str, **kwargs: object) -> tuple[Any, list[tuple[str, int, int]]]:  # type: ignore[override]
        return _load_yaml(fm)


_FRONT_MATTER = _FrontMatter()


def read_markdown(path: Path, root: Path) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    """Split a Markdown file into its YAML front matter and body (with python-frontmatter)."""
    file = _rel(path, root)
    try:
        CONTENT_FILE.check(path)
    except InputTooLarge as exc:
        return None, "", [Problem(file, "", str(exc).split(": ", 1)[1])]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, "", [Problem(file, "", f"cannot read file: {exc}")]
    if not _FRONT_MATTER.detect(text):
        return None, "", [Problem(file, "", "missing front matter: the file must start with '---'", 1)]
    try:
        fm, body = _FRONT_MATTER.split(text)
    except ValueError:
        return None, "", [Problem(file, "", "front matter is not closed by a '---' line", 1)]
    offset = text.count("\n", 0, text.index(fm))  # lines before the front matter's own text
    try:
        meta, dups = _FRONT_MATTER.load(fm)
    except yaml.YAMLError as exc:
        return None, "", [_yaml_problem(exc, file, line_offset=offset)]
    if not isinstance(meta, dict):
        return None, "", [Problem(file, "", "front matter must be a YAML mapping", 2)]
    return meta, body.strip() + "\n", _duplicate_problems(dups, file, line_offset=offset)


def parse(model: type[M], data: Any, file: str, prefix: str = "") -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, validation_problems(exc, file, prefix)
