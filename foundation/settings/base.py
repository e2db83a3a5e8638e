"""The base of every settings model, the one error type, and how pydantic errors become one line per key."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError

# Error messages quote the offending value, but never more than this: a message is read by a person.
SHOWN_VALUE_MAX_CHARACTERS = 80
# A file with many problems is reported by its first few; fixing them usually fixes the rest.
SHOWN_PROBLEMS_MAX = 3
MESSAGE_MAX_CHARACTERS = 450


class ConfigError(Exception):
    """A stack configuration that the program refuses to deploy."""


class Model(BaseModel):
    """camelCase keys as in Pulumi config, unknown keys rejected, values immutable; no true/false, infinity
    or NaN for a number, no control character in a text, no key given twice in two spellings."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)

    # False for a model that only carries a file's raw content (the keys' own models check it).
    checks_plain_values: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _plain_values(cls, data: Any) -> Any:
        return checked_plain_values(cls, data) if cls.checks_plain_values else data


def checked_plain_values(model: type[BaseModel], data: Any) -> Any:
    """What pydantic's lax mode would let through a config file: true read as 1 for a number (also inside
    lists and maps of numbers), a control character in a text, and a key given both as camelCase and as the
    field's snake_case name (pydantic would silently take one of them)."""
    if not isinstance(data, dict):
        return data
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key != name and key in data and name in data:
            raise _plain(f"{key} is given twice, as {key} and as {name}; keep {key}")
        value = data.get(key, data.get(name))
        if _number_with_boolean(field.annotation, value):
            raise _plain(f"{key} = {shown_value(value)} is not allowed: a number is expected, not true/false")
        where = _control_character_at(value)
        if where is not None:
            raise _plain(f"{key}{where} is not allowed: config text must be printable: no tab, newline, NUL or "
                         "DEL (no control characters)")
    return data


def _plain(message: str) -> PydanticCustomError:
    # Its own error type: the message names the key itself (format_validation_error prefixes the path).
    return PydanticCustomError("plain_value", "{message}", {"message": message})


def _options(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) is Annotated:
        return _options(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return tuple(option for arg in get_args(annotation) for option in _options(arg))
    return (annotation,)


def _is_number(annotation: Any) -> bool:
    return any(option in (int, float) or (get_origin(option) is Literal and all(
        isinstance(arg, int | float) and not isinstance(arg, bool) for arg in get_args(option)))
        for option in _options(annotation))


def _number_with_boolean(annotation: Any, value: Any) -> bool:
    """Whether `value` puts a boolean where `annotation` wants a number, directly or as a list item or map value."""
    if isinstance(value, bool):
        return _is_number(annotation)
    for option in _options(annotation):
        origin, args = get_origin(option), get_args(option)
        if isinstance(value, list | tuple) and origin in (list, tuple, set, frozenset) and args:
            items: list[Any] = list(value) if _is_number(args[0]) else []
        elif isinstance(value, dict) and origin in (dict, Mapping) and len(args) == 2:
            items = list(value.values()) if _is_number(args[1]) else []
        else:
            items = []
        if any(isinstance(item, bool) for item in items):
            return True
    return False


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control_character_at(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The path (`""`, `.key`, `[2]`) of the first text with a control character inside `value`, or None."""
    if isinstance(value, str):
        return path if _CONTROL.search(value) else None
    if depth > 20:  # nested models check their own fields
        return None
    if isinstance(value, dict):
        # Keys are not checked here: an unknown key is reported as such, a known one has no control character.
        for key, item in value.items():
            found = _control_character_at(item, f"{path}.{shortened(str(key), 40)}", depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _control_character_at(item, f"{path}[{index}]", depth + 1)
            if found is not None:
                return found
    return None


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
    if not key and not prefix:  # a rule over the whole file: its message names the keys
        return f"{where}: {shortened(message, 300)}"
    if problem["type"] == "plain_value":
        return f"{where}: {prefix}{key}{'.' if key else ''}{shortened(message, 200)}"
    return f"{where}: {prefix}{key} = {shown_value(problem.get('input'))} is not allowed: {shortened(message, 200)}"
