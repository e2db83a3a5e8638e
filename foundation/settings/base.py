"""The base of every settings model, the one error type, and how pydantic errors become one line per key."""

from __future__ import annotations

import json
import re
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

# Error messages quote the offending value, but never more than this: a message is read by a person.
SHOWN_VALUE_MAX_CHARACTERS = 80
# A file with many problems is reported by its first few; fixing them usually fixes the rest.
SHOWN_PROBLEMS_MAX = 3
MESSAGE_MAX_CHARACTERS = 450


class ConfigError(Exception):
    """A stack configuration that the program refuses to deploy."""


class Model(BaseModel):
    """camelCase keys as in Pulumi config, unknown keys rejected, values immutable, no true/false for a number."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        # pydantic reads true as 1 for an int field; in a config file that is a mistake, never a count.
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                value = data.get(key, data.get(name))
                if isinstance(value, bool) and _is_number(field.annotation):
                    raise ValueError(f"{key} = {str(value).lower()} is not allowed: a number is expected")
        return data


def _is_number(annotation: Any) -> bool:
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    return any(option in (int, float) for option in options)


def matching(pattern: str, allowed: str) -> AfterValidator:
    """A text rule that, when broken, says what is allowed in words (`allowed`) rather than as a regex."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {allowed}")
        return value
    return AfterValidator(check)


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
    try:
        text = json.dumps(value, default=str)
    except (ValueError, RecursionError):  # circular (YAML anchors) or absurdly deep
        text = f"<{type(value).__name__}>"
    return shortened(text)


def shortened(text: str, limit: int = SHOWN_VALUE_MAX_CHARACTERS) -> str:
    """`text` cut to `limit` characters, control characters escaped, so a message stays one short line."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[:limit - 3] + "..."


def format_validation_error(err: ValidationError, where: str, prefix: str) -> str:
    """One line per problem: the key as written in config, the offending value, what is allowed. The first
    problem always, further ones while the message stays within MESSAGE_MAX_CHARACTERS."""
    lines: list[str] = []
    problems = err.errors(include_url=False)
    for problem in problems[:SHOWN_PROBLEMS_MAX]:
        line = _problem_line(problem, where, prefix)
        if lines and len("\n".join([*lines, line])) > MESSAGE_MAX_CHARACTERS:
            break
        lines.append(line)
    if len(problems) > len(lines):
        lines.append(f"{where}: and {len(problems) - len(lines)} more problems")
    return "\n".join(lines)


def _problem_line(problem: ErrorDetails, where: str, prefix: str) -> str:
    key = shortened(".".join(str(part) for part in problem["loc"] if part not in ("function-after", "[key]")))
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        return f"{where}: unknown key {prefix}{key}; check the spelling against the config reference in README.md"
    if problem["type"] == "missing":
        return f"{where}: {prefix}{key} is required"
    return f"{where}: {prefix}{key} = {shown_value(problem.get('input'))} is not allowed: {shortened(message, 200)}"
