"""The base of every settings model, the one error type, and how pydantic errors become one line per key."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

# Error messages quote the offending value, but never more than this: a message is read by a person.
SHOWN_VALUE_MAX_CHARACTERS = 80


class ConfigError(Exception):
    """A stack configuration that the program refuses to deploy."""


class Model(BaseModel):
    """camelCase keys as in Pulumi config, unknown keys rejected, values immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


def json_or_text(value: Any) -> Any:
    """A JSON object or array held in a string, parsed; anything else as it is. Pulumi hands structured
    config to programs as JSON text (and the preview records policies and container definitions so)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def shown_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{...}"
    text = json.dumps(value, default=str)
    if len(text) > SHOWN_VALUE_MAX_CHARACTERS:
        return text[:SHOWN_VALUE_MAX_CHARACTERS - 3] + "..."
    return text


def format_validation_error(err: ValidationError, where: str, prefix: str) -> str:
    """One line per problem: the key as written in config, the offending value, what is allowed."""
    lines = []
    for problem in err.errors(include_url=False):
        key = ".".join(str(part) for part in problem["loc"] if part not in ("function-after", "[key]"))
        value = problem.get("input")
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {prefix}{key}; check the spelling against the config reference in README.md")
        elif problem["type"] == "missing":
            lines.append(f"{where}: {prefix}{key} is required")
        else:
            shown = shown_value(value)
            lines.append(f"{where}: {prefix}{key} = {shown} is not allowed: {message}")
    return "\n".join(lines)
