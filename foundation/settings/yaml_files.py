"""Reading the YAML files the program trusts (stack files, Pulumi.yaml, the catalog, price data).

Stricter than yaml.safe_load: a key written twice is an error (YAML says keys are unique; PyYAML keeps the
last silently), and a file whose nesting is absurdly deep, that uses aliases, or whose top level is not a
mapping is refused with a message naming the file, never a traceback.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from foundation.settings.base import ConfigError, shortened, shown_value

MAX_DEPTH = 20
# No config file of this project comes near this many values, even with its aliases written out.
MAX_VALUES = 20_000


# libyaml's parser when PyYAML was built with it (the usual wheels are): the same YAML, several times faster.
if TYPE_CHECKING:  # the stubs type both loaders alike
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
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


def _structure_problem(text: str) -> str | None:
    """Refuse, before anything is built, what could exhaust the loader or whoever walks the result: nesting
    deeper than MAX_DEPTH (the composer recurses), an alias inside its own anchor (a value containing
    itself), and aliases that expand to more than MAX_VALUES values (an "alias bomb"). The event parser is
    iterative, so this pass is cheap at any depth; aliases are counted as expanded."""
    open_nodes: list[list[Any]] = []          # per open collection: [anchor, values inside, levels below]
    anchored: dict[str, tuple[int, int]] = {}   # anchor -> (values, levels) of its node
    total = 0

    def add(values: int, levels: int) -> str | None:
        nonlocal total
        if len(open_nodes) + levels > MAX_DEPTH:
            return f"is nested too deeply (at most {MAX_DEPTH} levels)"
        if open_nodes:
            open_nodes[-1][1] += values
            open_nodes[-1][2] = max(open_nodes[-1][2], levels)
        total += values
        return f"expands to more than {MAX_VALUES} values" if total > MAX_VALUES else None

    for event in yaml.parse(text, Loader=_SafeLoader):
        problem = None
        if isinstance(event, yaml.AliasEvent):
            if any(node[0] == event.anchor for node in open_nodes):
                return (f"uses the alias *{shortened(str(event.anchor), 40)} inside its own anchor at line "
                        f"{event.start_mark.line + 1 if event.start_mark else '?'}; a value cannot contain itself")
            problem = add(*anchored.get(event.anchor or "", (1, 0)))
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                anchored[event.anchor] = (1, 0)
            problem = add(1, 0)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) + 1 > MAX_DEPTH:
                return f"is nested too deeply (at most {MAX_DEPTH} levels)"
            open_nodes.append([event.anchor, 1, 0])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, values, levels = open_nodes.pop()
            if anchor:
                anchored[anchor] = (values, levels + 1)
            # its values are already in `total`; its parent grows by them (what an alias to it repeats)
            if open_nodes:
                open_nodes[-1][1] += values
                open_nodes[-1][2] = max(open_nodes[-1][2], levels + 1)
        if problem:
            return problem
    return None


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[str | None, Any]:
    """(structure problem, value), cached by content: the rules across stacks read every stack file, and
    Pulumi.yaml with each, once per stack checked. Parse errors propagate and are not cached."""
    problem = _structure_problem(text)
    if problem:
        return problem, None
    return None, yaml.load(text, Loader=_UniqueKeyLoader)


def read_text(path: Path, what: str) -> str:
    """The file's text, or a ConfigError naming it (missing, unreadable, not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path.name}: cannot read {what}: {err.__class__.__name__}: {err}") from None


def load_yaml(path: Path, what: str, *, mapping: bool = True, text: str | None = None) -> Any:
    """The parsed file (or `text`, its content as the caller read it), or one ConfigError naming it: missing,
    unreadable, invalid YAML, duplicate keys, nested deeper than MAX_DEPTH, or (with `mapping`) a top level
    that is not a mapping."""
    if text is None:
        text = read_text(path, what)
    try:
        problem, value = _parsed(text)
        if problem:
            raise ConfigError(f"{path.name}: {what} {problem}")
        value = copy.deepcopy(value)  # callers own what they get; the cached original stays as read
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        if "nesting depth" in problem:  # libyaml stops at its own limit (1000) before the pre-pass counts
            raise ConfigError(f"{path.name}: {what} is nested too deeply (at most {MAX_DEPTH} levels)") from None
        raise ConfigError(f"{path.name}: {what} is not valid YAML{where}: {shortened(problem, 200)}") from None
    if mapping and value is not None and not isinstance(value, dict):
        raise ConfigError(f"{path.name}: the top level of {what} must be a mapping of keys to values, "
                          f"not a {type(value).__name__}")
    return value
