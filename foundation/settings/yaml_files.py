"""Reading the YAML files the program trusts (stack files, Pulumi.yaml, the catalog, price data).

Stricter than yaml.safe_load: a key written twice is an error (YAML says keys are unique; PyYAML keeps the
last silently), and a file whose nesting is absurdly deep, that uses aliases, or whose top level is not a
mapping is refused with a message naming the file, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import yaml

from foundation.settings.base import ConfigError, shortened, shown_value

MAX_DEPTH = 20


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a mapping key must be a plain value, not {type(key).__name__}",
                    key_node.start_mark) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shown_value(key)} appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _structure_problem(text: str) -> Optional[str]:
    """Refuse, before anything is built, what no config needs and what could exhaust the loader: nesting
    deeper than MAX_DEPTH (the composer recurses) and aliases (`*name`: a self-referencing or
    exponentially repeated value). The event parser is iterative, so this pass is cheap at any depth."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            return (f"uses the alias *{shortened(str(event.anchor), 40)} at line {mark.line + 1}; write the "
                    "value out, anchors and aliases are not supported")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return f"is nested too deeply (at most {MAX_DEPTH} levels)"
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def load_yaml(path: Path, what: str, *, mapping: bool = True) -> Any:
    """The parsed file, or one ConfigError naming it: missing, unreadable, invalid YAML, duplicate keys,
    nested deeper than MAX_DEPTH, or (with `mapping`) a top level that is not a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path.name}: cannot read {what}: {err.__class__.__name__}: {err}") from None
    try:
        problem = _structure_problem(text)
        if problem:
            raise ConfigError(f"{path.name}: {what} {problem}")
        value = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{path.name}: {what} is not valid YAML{where}: {shortened(problem, 200)}") from None
    if mapping and value is not None and not isinstance(value, dict):
        raise ConfigError(f"{path.name}: the top level of {what} must be a mapping of keys to values, "
                          f"not a {type(value).__name__}")
    return value
