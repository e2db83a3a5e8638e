"""Values no check can read, found before they reach a check or after one fails (framework.py's guard).

A property nested deeper than ``MAX_DEPTH`` levels or holding a NaN/infinite number cannot be judged: such a
resource gets a "cannot judge <property>" verdict at the policy's level instead of an internal error.
"""

from __future__ import annotations

from typing import Any

from .values import _proxy_target, nesting_problem, plain


class CannotJudge(Exception):
    """Raised by a check that meets a value it cannot read (a wrong type, a document nested too deeply, a
    NaN): reported as a violation naming ``prop``, because a resource nobody could judge must not pass."""

    def __init__(self, prop: str, reason: str) -> None:
        super().__init__(f"{prop}: {reason}")
        self.prop = prop
        self.reason = reason


def cannot_judge_message(prop: str, reason: str) -> str:
    return (f"cannot judge {prop}: it {reason}, so the resource is refused unjudged. Give it a value AWS "
            "accepts (a finite number, a document of ordinary depth, the documented type).")


def hostile_property(props: Any) -> tuple[str, str] | None:
    """The first top-level property whose value no check can read (nested too deeply or a NaN/infinite
    number), with why; None when every property is readable. Never raises."""
    try:
        for key, value in (props or {}).items():
            problem = nesting_problem(value)
            if problem is not None:
                return str(key), problem
    except Exception:  # a value so odd it cannot even be walked
        return "the resource's properties", "cannot be read"
    return None


_last_hostile: tuple[Any, tuple[str, str] | None] | None = None


def hostile_once(props: dict[str, Any]) -> tuple[str, str] | None:
    """:func:`hostile_property` of one request's shared plain properties, scanned once for all its policies."""
    global _last_hostile
    cached = _last_hostile
    if cached is not None and cached[0] is props:
        return cached[1]
    found = hostile_property(props)
    _last_hostile = (props, found)
    return found


def raw_culprit(args: Any, stack: bool) -> tuple[str, str] | None:
    """The property, as the engine sent it, that cannot even be converted (nested beyond Python's stack) or
    is hostile; for a stack request it is named with its resource. Only called after a failure."""
    def culprit_of(props: Any) -> tuple[str, str] | None:
        try:
            target = _proxy_target(props)
            items = list((target if target is not None else props or {}).items())
        except Exception:
            return None
        for key, value in items:
            try:
                problem = nesting_problem(plain(value))
            except RecursionError:
                problem = "nests too deeply to be read"
            except Exception:
                continue
            if problem is not None:
                return str(key), problem
        return None

    if not stack:
        return culprit_of(getattr(args, "props", None))
    for resource in getattr(args, "resources", None) or ():
        found = culprit_of(resource.props)
        if found is not None:
            return f"{resource.resource_type} '{resource.name}' {found[0]}", found[1]
    return None
