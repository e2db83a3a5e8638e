"""Event schemas as code: what a subscriber may rely on in an event, and which schema changes would break it.

Each published detail type has a JSON Schema of its payload (platform/schemas/<source>/<DetailType>.json); the
event's detail is the outbox envelope (`ENVELOPE_SCHEMA`: eventId, occurredAt, payload as JSON text, as the
outbox pipe's input template writes it). A subscriber relies on the payload's required fields and their types,
nested through required objects (`object.key`). The baseline of what subscribers rely on is committed beside
the schemas (platform/schemas/lock.json, `required_fields` of every schema): a schema whose required field is
gone or has another type than in the baseline is refused while anyone subscribes to it. docs/events.md
("Event schemas") explains the workflow. Pure: dicts in, problems out; the settings read the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

LOCK_FILE = "lock.json"
JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
# The detail of every outbox event (components/events/documents.py, outbox_target_parameters).
ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["eventId", "occurredAt", "payload"],
    "properties": {"eventId": {"type": "string", "minLength": 1},
                   "occurredAt": {"type": "string", "minLength": 1},
                   "payload": {"type": "string", "contentMediaType": "application/json"}},
    "additionalProperties": False,
}


def _type_of(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return "|".join(sorted(str(k) for k in kind))
    return str(kind) if kind is not None else "any"


def shape_problems(schema: Any, where: str = "") -> list[str]:
    """What keeps a schema from describing an object payload whose required fields can be read."""
    if not isinstance(schema, dict):
        return [f"{where or 'the schema'} must be a JSON object"]
    if schema.get("type") != "object":
        return [f"{where or 'the schema'} must have \"type\": \"object\""]
    required, properties = schema.get("required", []), schema.get("properties", {})
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return [f"{where}required must be a list of field names"]
    if not isinstance(properties, dict):
        return [f"{where}properties must be an object"]
    problems = [f"{where}required names {name!r}, which properties does not describe"
                for name in required if name not in properties]
    for name, node in properties.items():
        if not isinstance(node, dict):
            problems.append(f"{where}properties.{name} must be an object")
            continue
        kinds = node.get("type")
        for kind in (kinds if isinstance(kinds, list) else [kinds] if kinds is not None else []):
            if kind not in JSON_TYPES:
                problems.append(f"{where}properties.{name}.type {kind!r} is not a JSON Schema type {JSON_TYPES}")
        if node.get("type") == "object" and name in required:
            problems += shape_problems(node, f"{where}properties.{name}.")
    return problems


def required_fields(schema: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Required field path -> JSON type, through required objects: what a subscriber may rely on."""
    fields: dict[str, str] = {}
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        node = properties.get(name, {})
        fields[f"{prefix}{name}"] = _type_of(node)
        if node.get("type") == "object":
            fields |= required_fields(node, f"{prefix}{name}.")
    return dict(sorted(fields.items()))


def breaking_changes(baseline: Mapping[str, str], schema: Mapping[str, Any]) -> list[str]:
    """Each field of the baseline that the schema no longer guarantees, as it was."""
    now = required_fields(schema)
    changes = []
    for field, kind in baseline.items():
        if field not in now:
            changes.append(f"required field '{field}' ({kind}) was removed or made optional")
        elif now[field] != kind:
            changes.append(f"required field '{field}' changed type from {kind} to {now[field]}")
    return changes


def compatibility_problems(schemas: Mapping[tuple[str, str], Mapping[str, Any]],
                           lock: Mapping[str, Mapping[str, str]],
                           subscribers: Mapping[tuple[str, str], Sequence[str]]) -> list[str]:
    """Breaking changes against the lock for every detail type somebody subscribes to, naming the subscribers."""
    problems = []
    for (source, detail_type), schema in sorted(schemas.items()):
        readers = subscribers.get((source, detail_type), ())
        baseline = lock.get(f"{source}/{detail_type}")
        if not readers or baseline is None:
            continue
        for change in breaking_changes(baseline, schema):
            problems.append(f"{source}/{detail_type}.json: {change}, but {', '.join(sorted(readers))} "
                            f"subscribe{'s' if len(readers) == 1 else ''} to it; keep the field, or publish a "
                            "new detail type and move the subscribers over")
    return problems


def lock_document(schemas: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The baseline as committed: every schema's required fields."""
    return {f"{source}/{detail_type}": required_fields(schema)
            for (source, detail_type), schema in sorted(schemas.items())}
