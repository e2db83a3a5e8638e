"""What a change does to a stack, resource by resource, as `pulumi preview` shows it.

Input: two offline-preview documents of the same stack (`python -m devkit preview --json`), the base
(e.g. from a pull request's base branch) and the head. Output: one `ResourceChange` per resource that
differs, keyed by URN:

  +  create   the URN is new
  -  delete   the URN is gone
  ~  update   inputs differ; each changed leaf is listed with its path, old and new value
  +- replace  a changed input forces AWS to replace the resource (devkit/replacement.py), or an input
              that forces replacement takes a value from a resource that is itself replaced (its ID or
              ARN is unknown until the new one exists, as `pulumi preview` shows it)

Inputs are compared, not outputs, as the engine does. Values inside JSON strings (container
definitions, IAM policies) are compared as JSON so that the path names the field that changed.
Secrets never appear: a changed secret shows as `[secret]` on both sides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from devkit.replacement import forces_replacement, replacement_rules_known
from foundation.settings.base import json_or_text

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_ABSENT = object()

Operation = Literal["create", "update", "replace", "delete"]
SYMBOLS: dict[str, str] = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


class DiffInputError(ValueError):
    """A base document that is not an offline preview of the stack being previewed."""


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any
    new: Any
    replaces: bool

    def describe(self) -> str:
        if self.old is _ABSENT:
            return f"+ {self.path}: {_show(self.new)}"
        if self.new is _ABSENT:
            return f"- {self.path}: {_show(self.old)}"
        return f"~ {self.path}: {_show(self.old)} => {_show(self.new)}"


@dataclass(frozen=True)
class ResourceChange:
    operation: Operation
    urn: str
    type: str
    name: str
    properties: tuple[PropertyChange, ...] = ()

    @property
    def rules_known(self) -> bool:
        return replacement_rules_known(self.type)


@dataclass(frozen=True)
class StackDiff:
    stack: str
    changes: tuple[ResourceChange, ...]
    unchanged: int

    def count(self, operation: Operation) -> int:
        return sum(1 for c in self.changes if c.operation == operation)


def load_base(path: Path, stack: str) -> dict[str, Any]:
    """Read a base document and check that it previews `stack`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DiffInputError(f"{path}: cannot read the base preview: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise DiffInputError(f"{path}: not JSON ({error.msg} at line {error.lineno}); expected the output of "
                             "`python -m devkit preview --json`") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise DiffInputError(f"{path}: key 'resources' missing; expected the output of "
                             "`python -m devkit preview --json`")
    if document.get("stack") != stack:
        raise DiffInputError(f"{path}: key 'stack' is {document.get('stack')!r}; the diff needs a preview of "
                             f"stack '{stack}'")
    return document


def diff_documents(base: Mapping[str, Any], head: Mapping[str, Any]) -> StackDiff:
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    changes: dict[str, ResourceChange] = {}
    for urn in sorted(new.keys() - old.keys()):
        changes[urn] = ResourceChange("create", urn, new[urn]["type"], new[urn]["name"])
    for urn in sorted(old.keys() - new.keys()):
        changes[urn] = ResourceChange("delete", urn, old[urn]["type"], old[urn]["name"])
    for urn in sorted(old.keys() & new.keys()):
        record = new[urn]
        properties = _not_ignored(record, _changes(record["type"], old[urn].get("inputs") or {},
                                                   record.get("inputs") or {}))
        if old[urn].get("providerRegion") != record.get("providerRegion"):
            properties += (PropertyChange("(provider region)", old[urn].get("providerRegion"),
                                          record.get("providerRegion"), True),)
        if properties:
            operation: Operation = "replace" if any(p.replaces for p in properties) else "update"
            changes[urn] = ResourceChange(operation, urn, record["type"], record["name"], properties)
    _propagate_replacements(changes, old, new)
    ordered = tuple(changes[urn] for urn in sorted(changes))
    return StackDiff(str(head.get("stack")), ordered, len(old.keys() & new.keys()) - sum(
        1 for c in ordered if c.operation in ("update", "replace")))


def _ignored(path: str, ignore_changes: Iterable[str]) -> bool:
    """Whether `pulumi preview` leaves this property path alone: it is, or lies under, an ignoreChanges
    path (`desiredCount`, `loadBalancers[0].targetGroupArn`; `*` matches any one list index or key)."""
    for ignored in ignore_changes:
        pattern = re.escape(ignored).replace(r"\[\*\]", r"\[\d+\]").replace(r"\*", r"[^.\[]+")
        if re.fullmatch(rf"{pattern}([.\[].*)?", path):
            return True
    return False


def _not_ignored(record: Mapping[str, Any], changes: Iterable[PropertyChange]) -> tuple[PropertyChange, ...]:
    """A real preview shows no update on an ignoreChanges property (the resource's options, recorded by
    the offline run as `ignoreChanges`), so neither does the diff."""
    ignore_changes = record.get("ignoreChanges") or ()
    return tuple(change for change in changes if not _ignored(change.path, ignore_changes))


def _propagate_replacements(changes: dict[str, ResourceChange], old: Mapping[str, Any],
                            new: Mapping[str, Any]) -> None:
    """A replaced resource gets a new ID/ARN, unknown during preview; a dependent input that takes it
    changes too, and replaces the dependent when that input forces replacement. Repeat to a fixed point."""
    while True:
        replaced = {urn for urn, c in changes.items() if c.operation == "replace"}
        grew = False
        for urn in sorted(old.keys() & new.keys()):
            record = new[urn]
            current = changes.get(urn)
            if current is not None and current.operation == "replace":
                continue
            listed = {p.path.split(".", 1)[0].split("[", 1)[0] for p in current.properties} if current else set()
            old_inputs = old[urn].get("inputs") or {}
            added = _not_ignored(record, (
                PropertyChange(prop, old_inputs.get(prop, _ABSENT), _KnownAfterReplace(),
                               forces_replacement(record["type"], prop))
                for prop, urns in sorted((record.get("propertyDependencies") or {}).items())
                if prop not in listed and replaced & set(urns)))
            if not added:
                continue
            properties = (current.properties if current else ()) + added
            operation: Operation = "replace" if any(p.replaces for p in properties) else "update"
            changes[urn] = ResourceChange(operation, urn, record["type"], record["name"], properties)
            grew = True
        if not grew:
            return


class _KnownAfterReplace:
    def __repr__(self) -> str:
        return "(known after replace)"


def _changes(resource_type: str, old: Any, new: Any, path: str = "") -> Iterable[PropertyChange]:
    if _is_secret(old) or _is_secret(new):
        if _reveal(old) != _reveal(new):
            yield PropertyChange(path, _Secret(), _Secret(), forces_replacement(resource_type, path))
        return
    old, new = json_or_text(old), json_or_text(new)
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(old.keys() | new.keys()):
            child = f"{path}.{key}" if path else key
            yield from _changes(resource_type, old.get(key, _ABSENT), new.get(key, _ABSENT), child)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            yield from _changes(resource_type, old[index] if index < len(old) else _ABSENT,
                                new[index] if index < len(new) else _ABSENT, f"{path}[{index}]")
        return
    if (old is _ABSENT and new is None) or (new is _ABSENT and old is None):
        return
    if old != new:
        yield PropertyChange(path, old, new, forces_replacement(resource_type, path))


def _is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(_SIG_KEY) == _SECRET_SIG


def _reveal(value: Any) -> Any:
    return value.get("value") if _is_secret(value) else value


class _Secret:
    def __repr__(self) -> str:
        return "[secret]"


def _show(value: Any) -> str:
    if isinstance(value, (_Secret, _KnownAfterReplace)):
        return repr(value)
    if value == UNKNOWN:
        return "(known after apply)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # numbers cross the wire as doubles
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    # Values with secrets inside (e.g. a container definition list) are masked as a whole.
    if _SECRET_SIG in text:
        return "[secret]"
    return text if len(text) <= 120 else text[:117] + "..."


def summary(diff: StackDiff) -> str:
    counts = [f"{diff.count(op)} to {op}" for op in ("create", "update", "replace", "delete") if diff.count(op)]
    return f"Resources: {', '.join(counts) if counts else 'no changes'}; {diff.unchanged} unchanged"


def render_text(diff: StackDiff, base_label: str) -> str:
    lines = [f"Changes against {base_label} (stack {diff.stack}):"]
    for change in diff.changes:
        lines.append(f"  {SYMBOLS[change.operation]:<2} {change.type}  {change.name}  {change.operation}"
                     + _replace_note(change))
        for prop in change.properties:
            lines.append(f"        {prop.describe()}" + ("  (forces replacement)" if prop.replaces else ""))
    lines.append(summary(diff))
    return "\n".join(lines)


def _replace_note(change: ResourceChange) -> str:
    if change.operation == "update" and not change.rules_known:
        return "  (replacement rules for this type are not in devkit/replacement.py)"
    return ""


def render_markdown(diff: StackDiff, base_label: str) -> str:
    """A `diff` block for a pull-request comment (GitHub colours + and - lines)."""
    lines = [f"### Changes for {diff.stack} against {base_label}", "", summary(diff)]
    if not diff.changes:
        return "\n".join(lines) + "\n"
    lines += ["", "```diff"]
    for change in diff.changes:
        marker = {"create": "+", "delete": "-", "replace": "!", "update": "!"}[change.operation]
        lines.append(f"{marker} {SYMBOLS[change.operation]} {change.type}  {change.name}  {change.operation}"
                     + _replace_note(change))
        for prop in change.properties:
            lines.append(f"      {prop.describe()}" + ("  (forces replacement)" if prop.replaces else ""))
    lines.append("```")
    return "\n".join(lines) + "\n"
