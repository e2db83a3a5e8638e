"""How a stack policy tells that one resource refers to another.

A property refers to a target when the property's dependencies contain the target (what a real
preview provides while ids are still unknown), or when the property's known value equals one of
the target's ids (what an offline run with mocked outputs provides).
"""

from __future__ import annotations

from collections.abc import Iterable

from .framework import ResourceView
from .values import as_list, is_known_text


def ids_of(target: ResourceView, keys: Iterable[str] = ("id", "arn")) -> set[str]:
    return {target.props[key] for key in keys if is_known_text(target.props.get(key))}


def refers_to(source: ResourceView, prop: str, target: ResourceView, keys: Iterable[str] = ("id", "arn")) -> bool:
    """Whether ``source.props[prop]`` (a value or a list of values) refers to ``target``."""
    if source.depends_via(prop, target):
        return True
    target_ids = ids_of(target, keys)
    return any(isinstance(v, str) and v in target_ids for v in as_list(source.props.get(prop)))
