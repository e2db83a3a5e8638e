"""How a stack policy tells that one resource refers to another.

A property refers to a target when the property's dependencies contain the target (what a real
preview provides while ids are still unknown), or when the property's known value equals one of
the target's ids (what an offline run with mocked outputs provides).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .framework import ResourceView
from .values import as_list, is_known_text

_PROP: Any = object()  # Targets.referred: the property's own values


def ids_of(target: ResourceView, keys: Iterable[str] = ("id", "arn")) -> set[str]:
    return {target.props[key] for key in keys if is_known_text(target.props.get(key))}


def refers_to(source: ResourceView, prop: str, target: ResourceView, keys: Iterable[str] = ("id", "arn")) -> bool:
    """Whether ``source.props[prop]`` (a value or a list of values) refers to ``target``."""
    if source.depends_via(prop, target):
        return True
    target_ids = ids_of(target, keys)
    return any(isinstance(v, str) and v in target_ids for v in as_list(source.props.get(prop)))


class Targets:
    """Targets indexed by their ids, so that a stack policy asks once per source which of them a property refers
    to (:func:`refers_to` against every target) instead of comparing the source with each: linear in the stack's
    size, not quadratic."""

    def __init__(self, targets: list[ResourceView], keys: Iterable[str] = ("id", "arn")) -> None:
        self.targets = targets
        self._position = {id(target): index for index, target in enumerate(targets)}
        self._by_id: dict[str, list[int]] = {}
        for index, target in enumerate(targets):
            for value in ids_of(target, keys):
                self._by_id.setdefault(value, []).append(index)

    def referred(self, source: ResourceView, prop: str, values: Any = _PROP) -> list[ResourceView]:
        """The targets ``source.props[prop]`` refers to, in the targets' order: those ``prop`` depends on and those
        whose id is one of its values (``values`` instead of the property's own, e.g. a nested list of it)."""
        hits: set[int] = set()
        for dependency in source.property_dependencies.get(prop, ()):
            index = self._position.get(id(dependency))
            if index is not None and self.targets[index] is dependency:
                hits.add(index)
        for value in as_list(source.props.get(prop) if values is _PROP else values):
            if isinstance(value, str):
                hits.update(self._by_id.get(value, ()))
        return [self.targets[index] for index in sorted(hits)]
