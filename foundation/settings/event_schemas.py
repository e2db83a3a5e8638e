"""The event schemas beside the catalog (platform/schemas/): read, checked against the catalog's events and
against the committed baseline of what subscribers rely on (components/events/schemas.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.data.spec import DataAndEvents
from components.events.schemas import LOCK_FILE, compatibility_problems, shape_problems
from foundation.settings.base import ConfigError

MAX_SCHEMA_BYTES = 256 * 1024


def schemas_dir(catalog_path: Path) -> Path:
    return catalog_path.parent / "schemas"


def _read_json(path: Path, label: str) -> Any:
    try:
        if path.stat().st_size > MAX_SCHEMA_BYTES:
            raise ConfigError(f"{label}: larger than {MAX_SCHEMA_BYTES} bytes")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{label}: cannot be read ({type(error).__name__})") from None
    except ValueError as error:
        raise ConfigError(f"{label}: not JSON ({error})") from None


def read_schemas(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(source, detail type) -> schema, for every platform/schemas/<source>/<DetailType>.json."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    if not directory.is_dir():
        return schemas
    for path in sorted(directory.glob("*/*.json")):
        label = f"platform/schemas/{path.parent.name}/{path.name}"
        schema = _read_json(path, label)
        problems = shape_problems(schema)
        if problems:
            raise ConfigError(f"{label}: {'; '.join(problems)}")
        schemas[(path.parent.name, path.stem)] = schema
    return schemas


def read_lock(directory: Path) -> dict[str, dict[str, str]]:
    path = directory / LOCK_FILE
    if not path.exists():
        return {}
    label = f"platform/schemas/{LOCK_FILE}"
    lock = _read_json(path, label)
    if not isinstance(lock, dict) or not all(
            isinstance(fields, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
            for fields in lock.values()):
        raise ConfigError(f"{label}: must map '<source>/<DetailType>' to {{field: type}}")
    return lock


def check_event_schemas(services: Mapping[str, DataAndEvents], directory: Path) -> None:
    """Every subscribed detail type has a schema, every schema belongs to a published detail type, and no
    schema drops or retypes a required field that the lock records while somebody subscribes to it."""
    schemas = read_schemas(directory)
    problems = []
    subscribers: dict[tuple[str, str], list[str]] = {}
    for name, service in services.items():
        for i, subscription in enumerate(service.subscribes):
            for j, detail_type in enumerate(subscription.detail_types):
                subscribers.setdefault((subscription.source, detail_type), []).append(name)
                if (subscription.source, detail_type) not in schemas:
                    problems.append(f"services.{name}.subscribes[{i}].detailTypes[{j}] = {detail_type!r} has no "
                                    f"schema: add platform/schemas/{subscription.source}/{detail_type}.json")
    for source, detail_type in sorted(schemas):
        publisher = services.get(source)
        if publisher is None or detail_type not in publisher.publishes:
            problems.append(f"platform/schemas/{source}/{detail_type}.json: {source!r} does not publish "
                            f"{detail_type!r} (services.{source}.publishes); remove the schema or publish it")
    problems += [f"platform/schemas/{p}" for p in compatibility_problems(schemas, read_lock(directory), subscribers)]
    if problems:
        more = f" ({len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ConfigError(f"service catalog services.yaml and its event schemas: {problems[0]}{more}")
