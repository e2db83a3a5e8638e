"""Plain-value helpers shared by the policies: unknowns, proxies, JSON documents, tags, regions.

pulumi-policy hands policies their properties wrapped in proxies that raise
``UnknownValueError`` as soon as an unknown value is read, which turns the whole policy into an
advisory "can't run policy during preview". Every policy here instead unwraps the properties
into plain dicts/lists with :func:`plain` and decides per value what an unknown means
(see each policy's docstring).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeGuard

# The sentinels the engine and pulumi-policy use for values unknown during preview. The engine
# sends every unknown as the string sentinel; the typed ones exist for completeness.
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_STRING,
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})


def is_unknown(value: Any) -> bool:
    """True for a value the engine could not compute during preview."""
    return isinstance(value, str) and value in _UNKNOWN_SENTINELS


def is_known_text(value: Any) -> TypeGuard[str]:
    """True for a non-empty string that is known (not the unknown sentinel)."""
    return isinstance(value, str) and bool(value) and not is_unknown(value)


def is_set(value: Any) -> bool:
    """Whether a reference (an ARN or id) is set: a non-blank string, or unknown. An unknown
    reference is computed from another resource of the program, so it is present, just not known
    during preview."""
    return is_unknown(value) or (isinstance(value, str) and bool(value.strip()))


UNKNOWN_SHOWN = "unknown during preview"


def shown(value: Any, unknown: str = UNKNOWN_SHOWN) -> str:
    """A property value as a message shows it: its repr, or ``unknown`` for an unknown value."""
    return unknown if is_unknown(value) else repr(value)


def plain(value: Any) -> Any:
    """Recursively turn pulumi-policy's proxies into plain dicts and lists, keeping unknowns.

    The proxies expose their wrapped object under the key ``"__target"``; reading through that
    key never raises, so unknown sentinels survive as strings that :func:`is_unknown` detects.
    Stack policies convert every resource of the stack, once per policy, so the common case
    (built-in dicts, lists and scalars) is decided by exact type before the slower ABC checks.
    """
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        target = _proxy_target(value)
        if target is not None:
            value = target
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = _proxy_target(value)
        if target is not None:
            value = target
        return [plain(v) for v in value]
    return value


# Where the analyzer service (server.py) leaves, on a resource's proxied properties, the plain dict the proxy was
# built from: the proxy copies every container of it, so that dict is exactly what :func:`plain` would rebuild.
_PLAIN_ATTRIBUTE = "_microservices_foundation_plain"


def with_plain(proxied: Any, converted: dict[str, Any]) -> Any:
    """``proxied`` (pulumi-policy's proxy of ``converted``), carrying ``converted`` for :func:`plain_properties`."""
    with contextlib.suppress(AttributeError):  # a proxy class with slots: plain_properties converts it instead
        setattr(proxied, _PLAIN_ATTRIBUTE, converted)
    return proxied


def plain_properties(props: Any) -> Any:
    """A resource's properties as plain values: the dict the service converted them from when it left one on
    them (:func:`with_plain`), else :func:`plain` of them. Either way the checks only read it."""
    converted = getattr(props, _PLAIN_ATTRIBUTE, None)
    return converted if type(converted) is dict else plain(props)


_SCALARS = (str, int, float, bool, type(None))
_last_provider: tuple[tuple[tuple[Any, type, Any], ...], dict[str, Any]] | None = None


def plain_provider_properties(props: Any) -> Any:
    """:func:`plain` of a provider's properties. The engine sends the provider with every resource (thousands of
    times per stack); an AWS provider's properties are all scalars (object-typed ones arrive JSON-encoded), so
    while they equal the last provider's, that copy is handed out again (read only, like the properties)."""
    global _last_provider
    target = _proxy_target(props)
    if type(target) is not dict or not all(type(v) in _SCALARS for v in target.values()):
        return plain(props)
    key = tuple((k, type(v), v) for k, v in target.items())  # typed: True == 1, but is not 1
    cached = _last_provider
    if cached is not None and cached[0] == key:
        return cached[1]
    converted = plain(props)
    _last_provider = (key, converted)  # replaced whole: safe across threads
    return converted


# The analyzer service (server.py) hands every policy of one request the same converted objects, so the plain
# properties are taken once per request and shared, read-only, by the checks. One entry is enough: the policies of
# a request run one after another. The entry holds the objects it was made from, so a matching identity can only
# mean the same request (the tuple is replaced whole: safe across threads).
_last_plain: tuple[Any, Any, dict[str, Any], dict[str, Any] | None] | None = None


def plain_once(props: Any, provider_props: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(:func:`plain_properties` of a resource's properties, :func:`plain_provider_properties` of its provider's)."""
    global _last_plain
    cached = _last_plain
    if cached is not None and cached[0] is props and cached[1] is provider_props:
        return cached[2], cached[3]
    converted = plain_properties(props), plain_provider_properties(provider_props) if provider_props is not None else None
    _last_plain = (props, provider_props, *converted)
    return converted


def _proxy_target(value: Any) -> Any:
    if type(value).__module__.startswith("pulumi_policy"):
        try:
            return value["__target"]
        except (KeyError, IndexError, TypeError):
            return None
    return None


def get_path(props: Mapping[str, Any] | None, *path: str | int, default: Any = None) -> Any:
    """Read ``props[path[0]][path[1]]...``; returns ``default`` when a step is missing.

    An unknown value met on the way is returned as is (so callers can tell "unknown" from
    "absent"). Lists of one element are indexed with an int.
    """
    current: Any = props
    for step in path:
        if is_unknown(current):
            return current
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
        if current is None:
            return default
    return current


def as_list(value: Any) -> list[Any]:
    """A list property as a list: absent/None -> [], unknown stays a one-element list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


class DocumentError(ValueError):
    """A JSON document property that is neither a JSON object string nor an object."""


# Deeper than any document AWS accepts in practice (IAM policies, container definitions, pipe filters nest a
# handful of levels); a deeper value is hostile, and walking it recursively would exhaust Python's stack.
MAX_DEPTH = 64


def nesting_problem(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Why a plain value cannot be judged (nested deeper than ``limit``, or a NaN/infinite number), with the
    path of the offending part; None when it is readable. Iterative, so a hostile depth cannot overflow.

    Every property of every resource is scanned, and almost all are readable: :func:`_readable` says so without
    building the path of each part; the paths are built only to name a problem it found."""
    if limit <= MAX_DEPTH and _readable(value, limit):
        return None
    return _first_problem(value, limit)


def _first_problem(value: Any, limit: int) -> str | None:
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        current, where, depth = stack.pop()
        if depth > limit:
            return f"nests more than {limit} levels deep (at {where or 'the top'})"
        if isinstance(current, float) and (current != current or current in (float("inf"), float("-inf"))):
            return f"holds the number {current!r} (at {where or 'the top'}), which is no valid value"
        if isinstance(current, Mapping):
            stack.extend((v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in current.items())
        elif isinstance(current, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(current))
    return None


def _readable(value: Any, levels: int) -> bool:
    """Whether nothing in ``value`` is nested more than ``levels`` levels below it, or is a NaN or infinite number:
    :func:`nesting_problem`'s test without the paths. Recursive, but never deeper than ``levels`` (at most
    MAX_DEPTH) calls."""
    kind = type(value)
    if kind is dict:
        children: Any = value.values()
    elif kind is list:
        children = value
    elif kind is str or kind is int or kind is bool or value is None:
        return True
    elif isinstance(value, float):
        return value - value == 0.0  # NaN and infinities give NaN
    elif isinstance(value, Mapping):
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return True
    if not children:
        return True
    if levels == 0:
        return False
    levels -= 1
    for child in children:
        kind = type(child)
        if kind is str or kind is int or kind is bool or child is None:  # most of them: no call
            continue
        if not _readable(child, levels):
            return False
    return True


def _no_constant(name: str) -> Any:
    raise DocumentError(f"the document holds {name}, which is not a JSON number")


def parse_json_document(value: Any) -> Any:
    """Parse a JSON document that arrives either as a JSON string or already as a dict/list.

    Returns the unknown sentinel unchanged when the whole document is unknown. Raises
    :class:`DocumentError` for text that is not valid JSON.
    """
    if is_unknown(value):
        return value
    if isinstance(value, (dict, list)):
        problem = nesting_problem(value)
        if problem is not None:
            raise DocumentError(f"the document {problem}")
        return value
    if isinstance(value, str):
        return _parsed_text(value)
    raise DocumentError(f"the document is a {type(value).__name__}, not JSON text or an object")


@lru_cache(maxsize=256)
def _parsed_text(value: str) -> Any:
    """:func:`parse_json_document` of a text, parsed once per text: several policies read the same document of a
    resource (a task definition's containers, a key policy), and resources repeat documents (trust policies). The
    result is shared by its callers, which only read it, as they read the documents the engine sends as objects. A
    text that cannot be parsed raises every time (errors are not cached)."""
    if not value.strip():
        raise DocumentError("the document is an empty string")
    try:
        parsed = json.loads(value, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise DocumentError(f"the document is not valid JSON ({error.msg} at char {error.pos})") from None
    except RecursionError:
        raise DocumentError(f"the document nests more than {MAX_DEPTH} levels deep") from None
    problem = nesting_problem(parsed)
    if problem is not None:
        raise DocumentError(f"the document {problem}")
    return parsed


def provider_default_tags(provider_props: Mapping[str, Any] | None) -> dict[str, Any] | str | None:
    """The provider's ``defaultTags.tags`` map.

    Provider inputs travel as the wire sends them: object-typed provider config such as
    ``defaultTags`` may be a JSON-encoded string. Returns None when there are no default tags and
    the unknown sentinel when they are unknown.
    """
    if not provider_props:
        return None
    default_tags = _json_object(provider_props.get("defaultTags"))
    if not isinstance(default_tags, dict):  # None, or the unknown sentinel
        return default_tags
    return _json_object(default_tags.get("tags"))


def _json_object(value: Any) -> dict[str, Any] | str | None:
    """An object property that may arrive JSON-encoded, as a dict; the unknown sentinel as is; None
    when absent, not valid JSON or not an object."""
    if is_unknown(value):
        return value
    if isinstance(value, str):
        try:
            value = _json_text(value)
        except json.JSONDecodeError:
            return None
    return dict(value) if isinstance(value, Mapping) else None


@lru_cache(maxsize=32)
def _json_text(text: str) -> Any:
    """``json.loads(text)``, once per text: every resource of a provider carries the same JSON-encoded default tags.
    Shared by its callers, which copy what they return (see _json_object)."""
    return json.loads(text)


def effective_tags(props: Mapping[str, Any], defaults: dict[str, Any] | str | None) -> dict[str, Any] | str:
    """The tags AWS will put on the resource: provider default tags (``defaults``, what
    :func:`provider_default_tags` gives for its provider) overlaid by the resource's tags.

    A real preview also computes ``tagsAll``; when present and known it already is the merge, so
    it is used too. Returns the unknown sentinel when the resource's own tag map is unknown.
    """
    own = props.get("tags")
    if is_unknown(own):
        return str(own)
    merged: dict[str, Any] = {}
    if isinstance(defaults, dict):
        merged.update(defaults)
    tags_all = props.get("tagsAll")
    if isinstance(tags_all, Mapping):
        merged.update(tags_all)
    if isinstance(own, Mapping):
        merged.update(own)
    return merged


def resource_region(props: Mapping[str, Any], provider_props: Mapping[str, Any] | None) -> str | None:
    """The region a resource lives in: its own ``region`` input (pulumi-aws 7) or its provider's.

    Returns None when neither is known.
    """
    own = props.get("region")
    if is_known_text(own):
        return own
    if provider_props and is_known_text(provider_props.get("region")):
        return provider_props["region"]
    return None


def name_from_urn(urn: str) -> str:
    """The logical name at the end of a URN (``urn:pulumi:stack::project::type::name``)."""
    parts = urn.split("::")
    return "::".join(parts[3:]) if len(parts) >= 4 else urn


def type_chain_from_urn(urn: str) -> list[str]:
    """The parent-type chain encoded in a URN: ``["parentType", ..., "ownType"]``.

    A URN's type segment is ``parentType$childType$...$ownType``, so the ancestry is known even
    when only the URN is at hand (as in a per-resource Analyze call).
    """
    parts = urn.split("::")
    if len(parts) < 4:
        return []
    return parts[2].split("$")
